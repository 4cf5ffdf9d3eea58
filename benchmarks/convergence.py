"""Does the recipe converge with margin whatever the last bits? Seeds x numeric variants.

    python benchmarks/convergence.py                     # rnn, seeds 0..19, three variants (~1.5 min)
    python benchmarks/convergence.py --flavor lstm --seeds 10 --set lr=0.02

A different CPU is, in effect, another seed. For each numeric variant (torch's native choice, the
pinned one, and ATen's scalar kernels) and each training seed it trains the default recipe from
params.yaml and reports the first step at which validation accuracy reaches 99% (checked every
10 steps on the pipeline's validation set). The worst run must get there by half the default steps.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NATIVE_ISA = "avx512" if "avx512f" in Path("/proc/cpuinfo").read_text() else "avx2"
VARIANTS = {  # every variable set explicitly: seqmem pins only what the environment leaves unset
    "native": {"ATEN_CPU_CAPABILITY": NATIVE_ISA, "ONEDNN_MAX_CPU_ISA": "ALL", "MKL_CBWR": "AUTO"},
    "pinned": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_CBWR": "COMPATIBLE"},
    "aten-default": {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_CBWR": "COMPATIBLE"},
}


def child(flavor: str, seeds: list[int], overrides: dict) -> None:
    """In a process of one variant: one JSON line per seed."""
    import time
    import warnings

    import numpy as np

    sys.path.insert(0, str(ROOT))
    from dataclasses import replace

    from seqmem.core.config import FlavorConfig, TrainConfig
    from seqmem.train import fit
    from seqmem.valset import make_valset
    from stages.common import load_params

    warnings.simplefilter("ignore", RuntimeWarning)  # unpinned on purpose in two variants
    params = load_params(ROOT / "params.yaml")
    d = params["data"]
    val = make_valset(d["num_sequences"], np.random.default_rng(d["seed"]), min_len=d["min_len"], max_len=d["max_len"],
                      p_minus_one=d["p_minus_one"])
    cfg = TrainConfig.from_params(params["train"], [flavor])
    own = {k: v for k, v in overrides.items() if k in FlavorConfig.keys()}
    shared = {k: v for k, v in overrides.items() if k not in own}
    cfg = replace(cfg, eval_every=10, **shared, **{flavor: replace(cfg.flavor(flavor), **own)})
    for seed in seeds:
        t = time.perf_counter()
        _, hist = fit(replace(cfg, seed=seed), flavor, val=val, log=None)
        reach = next((s for s, a in zip(hist["val_step"], hist["val_acc"], strict=True) if a >= 0.99), None)
        print(json.dumps({"seed": seed, "reach": reach, "final": hist["val_acc"][-1],
                          "loss": float(np.mean(hist["loss"][-50:])), "secs": time.perf_counter() - t}), flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--flavor", default="rnn")
    p.add_argument("--seeds", type=int, default=20)
    p.add_argument("--set", nargs="*", default=[], help="recipe overrides, e.g. lr=0.02 steps=400")
    p.add_argument("--variants", nargs="*", default=list(VARIANTS))
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args()
    overrides = {k: json.loads(v) if v[0].isdigit() or v[0] == "-" else v for k, v in (s.split("=") for s in args.set)}
    if args.child:
        return child(args.flavor, [int(s) for s in args.child.split(",")], overrides)

    def run(variant: str) -> list[dict]:
        cmd = [sys.executable, __file__, "--flavor", args.flavor, "--child", ",".join(map(str, range(args.seeds))),
               "--set", *args.set]
        out = subprocess.run(cmd, env=os.environ | VARIANTS[variant], capture_output=True, text=True, check=True)
        return [json.loads(line) for line in out.stdout.splitlines()]

    with ThreadPoolExecutor(2) as pool:  # two cores, one thread each
        results = dict(zip(args.variants, pool.map(run, args.variants), strict=True))
    print(f"{args.flavor} {' '.join(args.set) or 'defaults'}: first step with validation accuracy >= 99%")
    print("seed  " + "  ".join(f"{v:>12}" for v in args.variants))
    for i in range(args.seeds):
        print(f"{i:4d}  " + "  ".join(f"{str(results[v][i]['reach']):>12}" for v in args.variants))
    for v, rows in results.items():
        reach = sorted(r["reach"] or 10**9 for r in rows)  # never: after every step
        worst = "never" if reach[-1] == 10**9 else reach[-1]
        secs = sum(r["secs"] for r in rows) / len(rows)
        print(f"{v:>12}: worst {worst}, median {reach[len(reach) // 2]}, "
              f"min final accuracy {min(r['final'] for r in rows):.4f}, {secs:.2f} s/run (with a check every 10 steps)")


if __name__ == "__main__":
    main()
