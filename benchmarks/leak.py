"""The LSTM's leak and its fixes, measured: training seeds x recipe variants.

    python benchmarks/leak.py                        # all variants, seeds 0..4 (~7 min on 2 cores)
    python benchmarks/leak.py --variants fb1 --seeds 10 --first-seed 5
    python benchmarks/leak.py --time --variants exercise penalty1   # training time only, taking turns
    python benchmarks/leak.py --anatomy --variants exercise penalty1  # where the memory lives (seed 0)

For each variant and seed: train the LSTM as the pipeline does (params.yaml, with the variant's
changes), then accuracy on 500 fresh sequences of length 1,000 and 10,000, the memory half-life
(retention up to 10,000 steps, 64 sequences), and the training time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import seqmem  # noqa: E402, F401  before torch loads anywhere here: it pins the CPU arithmetic

# the exercise's recipe: every variant starts here, whatever params.yaml says
EXERCISE = {"carry_batches": 1, "forget_penalty": 0.0}
VARIANTS = {  # name: (shared train changes, train.lstm changes)
    "exercise": ({}, {}),
    "fb1": ({}, {"forget_bias": 1.0}),
    "fb2": ({}, {"forget_bias": 2.0}),
    "len50": ({"max_len": 50}, {}),
    "fb1+len50": ({"max_len": 50}, {"forget_bias": 1.0}),
    "len100+bs32": ({"max_len": 100, "batch_size": 32}, {}),
    "len200+bs16": ({"max_len": 200, "batch_size": 16}, {}),
    "len100+bs32+fb1": ({"max_len": 100, "batch_size": 32}, {"forget_bias": 1.0}),
    "len100+bs32+900": ({"max_len": 100, "batch_size": 32}, {"steps": 900}),
    "carry5": ({}, {"carry_batches": 5}),
    "carry10": ({}, {"carry_batches": 10}),
    "carry20": ({}, {"carry_batches": 20}),
    "carry10+fb1": ({}, {"carry_batches": 10, "forget_bias": 1.0}),
    "penalty0.1": ({}, {"forget_penalty": 0.1}),
    "penalty0.3": ({}, {"forget_penalty": 0.3}),
    "penalty1": ({}, {"forget_penalty": 1.0}),
    "penalty3": ({}, {"forget_penalty": 3.0}),
    "penalty1+carry10": ({}, {"forget_penalty": 1.0, "carry_batches": 10}),
}


def configs(variants: list[str]):
    """Each variant's TrainConfig: params.yaml's train section, the exercise's recipe, the variant's changes."""
    from dataclasses import replace

    from seqmem.core.config import TrainConfig
    from stages.common import load_params

    cfg = TrainConfig.from_params(load_params(ROOT / "params.yaml")["train"], ["lstm"])
    return {v: replace(cfg, **VARIANTS[v][0], lstm=replace(cfg.lstm, **{**EXERCISE, **VARIANTS[v][1]}))
            for v in variants}


def child(variant: str, seeds: list[int]) -> None:
    from dataclasses import replace

    import torch

    from seqmem.core.config import RetentionConfig
    from seqmem.evaluate import length_accuracy
    from seqmem.retention import retention
    from seqmem.train import fit

    cfg = configs([variant])[variant]
    for seed in seeds:
        t = time.perf_counter()
        model, _ = fit(replace(cfg, seed=seed), "lstm", log=None)
        secs = time.perf_counter() - t
        torch.set_num_threads(1)
        acc = length_accuracy(model, [1000, 10000], 500, seed=1)
        half = retention(model, RetentionConfig(max_distance=10_000))[0]["half_life"]
        print(json.dumps({"variant": variant, "seed": seed, "acc_1e3": acc[1000], "acc_1e4": acc[10000],
                          "half_life": half, "train_s": secs}), flush=True)


def timing(variants: list[str], seeds: list[int]) -> None:
    """Training time only, in this process: the variants take turns within each seed, so that this
    machine's drifting speed (20% and more from minute to minute) hits them alike."""
    from dataclasses import replace

    from seqmem.train import fit

    cfgs, secs = configs(variants), {v: [] for v in variants}
    fit(replace(cfgs[variants[0]], seed=seeds[0]), "lstm", log=None)  # warm-up: first-call costs
    for seed in seeds:
        for v in variants:
            t = time.perf_counter()
            fit(replace(cfgs[v], seed=seed), "lstm", log=None)
            secs[v].append(time.perf_counter() - t)
    first = secs[variants[0]]
    for v, s in secs.items():
        ratios = sorted(b / a for a, b in zip(first, s, strict=True))
        print(f"{v}: {sum(s) / len(s):.2f} s ({min(s):.2f}-{max(s):.2f}) over {len(s)} seeds; "
              f"{ratios[len(ratios) // 2]:.2f}x {variants[0]}'s time (median over seeds)")


def anatomy(variants: list[str], seed: int) -> None:
    """Where each variant's LSTM keeps the -1: its forget gates, cell states and logit, over 3,000
    steps after a -1 at step 0, on 16 random sequences."""
    from dataclasses import replace

    import numpy as np
    import torch

    from seqmem.train import fit

    cfgs = configs(variants)

    X = np.random.default_rng(5).integers(0, 10, (16, 3000, 1))  # (N, T, 1)
    X[:, 0] = -1
    for v in variants:
        model, _ = fit(replace(cfgs[v], seed=seed), "lstm", log=None)
        gates, cells, logits, state = [], [], [], None
        with torch.no_grad():
            for t in range(X.shape[1]):  # one step at a time: the forget gate is read at a batch's last step
                h, state, gate = model.run_with_forget_gate(X[:, t : t + 1], state)
                gates.append(gate[-1])  # (N, H), the top layer
                cells.append(state[1][-1])
                logits.append(model.head[0](h)[:, 0, 0])
        f, c, z = torch.stack(gates, 1), torch.stack(cells, 1), torch.stack(logits, 1)  # (N, T, H), ..., (N, T)
        carriers = c[:, 100].abs().mean(0) > 5  # cells that hold a large state 100 steps after the -1
        f_carriers = f[:, 10:1000][..., carriers].mean((0, 1))
        fell = (z < 0).any(1)
        first = (z < 0).float().argmax(1)[fell]
        parts = [f"mean forget gate {f.mean():.4f}"]
        if carriers.any():
            parts.append(f"{int(carriers.sum())} cells with |c| > 5 at step 100, their forget gates "
                         f"{f_carriers.min():.4f}-{f_carriers.max():.4f} (mean over steps 10..1000)")
        parts.append(f"max |c| at step 1000: {c[:, 1000].abs().max():.1f}")
        parts.append("mean logit at steps 10 / 1000 / 2000 / 2999: "
                     + " / ".join(f"{z[:, t].mean():.1f}" for t in (10, 1000, 2000, 2999)))
        parts.append(f"forgets at steps {int(first.min())}-{int(first.max())} on {int(fell.sum())} of 16"
                     if fell.any() else "never forgets")
        print(f"{v} (seed {seed}): " + "; ".join(parts))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variants", nargs="*", default=list(VARIANTS))
    p.add_argument("--seeds", type=int, default=5, help="how many training seeds")
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--time", action="store_true", help="only time the training, the variants taking turns")
    p.add_argument("--anatomy", action="store_true", help="where the memory lives: gates, cells, logit (one seed)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args()
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    if args.time:
        return timing(args.variants, seeds)
    if args.anatomy:
        return anatomy(args.variants, args.first_seed)
    if args.child:
        return child(args.child, seeds)

    def run(variant: str) -> list[dict]:
        out = subprocess.run([sys.executable, __file__, "--child", variant, "--seeds", str(args.seeds),
                              "--first-seed", str(args.first_seed)], capture_output=True, text=True, check=True).stdout
        return [json.loads(line) for line in out.splitlines()]

    with ThreadPoolExecutor(2) as pool:  # two cores
        results = dict(zip(args.variants, pool.map(run, args.variants), strict=True))
    print("| variant | accuracy at 10^3 | accuracy at 10^4 | >= 99% at 10^4 | half-life (steps) | train s |")
    print("|---|---|---|---|---|---|")
    for v, rows in results.items():
        halves = " / ".join("> 10^4" if r["half_life"] is None else str(r["half_life"]) for r in rows)
        a3 = " / ".join(f"{r['acc_1e3']:.3f}" for r in rows)
        a4 = " / ".join(f"{r['acc_1e4']:.3f}" for r in rows)
        secs = sum(r["train_s"] for r in rows) / len(rows)
        held = sum(r["acc_1e4"] >= 0.99 for r in rows)
        print(f"| {v} | {a3} | {a4} | {held} / {len(rows)} | {halves} | {secs:.1f} |")


if __name__ == "__main__":
    main()
