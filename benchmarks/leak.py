"""The LSTM's leak and its fixes, measured: training seeds x recipe variants.

    python benchmarks/leak.py                        # all variants, seeds 0..4 (~3 min on 2 cores)
    python benchmarks/leak.py --variants fb1 --seeds 10 --first-seed 5
    python benchmarks/leak.py --time                 # training time only, one variant at a time (~3 min)

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


def child(variant: str, seeds: list[int], time_only: bool) -> None:
    from dataclasses import replace

    sys.path.insert(0, str(ROOT))
    import torch

    from seqmem.config import RetentionConfig, TrainConfig
    from seqmem.evaluate import length_accuracy
    from seqmem.retention import retention
    from seqmem.train import fit
    from stages.common import load_params

    shared, own = VARIANTS[variant]
    cfg = TrainConfig.from_params(load_params(ROOT / "params.yaml")["train"], ["lstm"])
    cfg = replace(cfg, **shared, lstm=replace(cfg.lstm, **{**EXERCISE, **own}))
    for seed in seeds:
        t = time.perf_counter()
        model, _ = fit(replace(cfg, seed=seed), "lstm", log=None)
        secs = time.perf_counter() - t
        if time_only:
            print(json.dumps({"variant": variant, "seed": seed, "train_s": secs}), flush=True)
            continue
        torch.set_num_threads(1)
        acc = length_accuracy(model, [1000, 10000], 500, seed=1)
        half = retention(model, RetentionConfig(max_distance=10_000))[0]["half_life"]
        print(json.dumps({"variant": variant, "seed": seed, "acc_1e3": acc[1000], "acc_1e4": acc[10000],
                          "half_life": half, "train_s": secs}), flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variants", nargs="*", default=list(VARIANTS))
    p.add_argument("--seeds", type=int, default=5, help="how many training seeds")
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--time", action="store_true", help="only time the training, one variant at a time")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return child(args.child, list(range(args.first_seed, args.first_seed + args.seeds)), args.time)

    def run(variant: str) -> list[dict]:
        out = subprocess.run([sys.executable, __file__, "--child", variant, "--seeds", str(args.seeds),
                              "--first-seed", str(args.first_seed)] + ["--time"] * args.time,
                             capture_output=True, text=True, check=True).stdout
        return [json.loads(line) for line in out.splitlines()]

    with ThreadPoolExecutor(1 if args.time else 2) as pool:  # two cores; one variant at a time for clean times
        results = dict(zip(args.variants, pool.map(run, args.variants), strict=True))
    if args.time:
        for v, rows in results.items():
            secs = [r["train_s"] for r in rows]
            print(f"{v}: {sum(secs) / len(secs):.2f} s ({min(secs):.2f}-{max(secs):.2f}) over {len(secs)} seeds")
        return
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
