"""Train every flavor on a GPU through the library, score it with the pipeline's own evaluation, and compare.

    PYTHONPATH=. python benchmarks/gpu.py                       # on cuda, with params.yaml's recipe
    PYTHONPATH=. python benchmarks/gpu.py --device mps          # Apple's GPU
    PYTHONPATH=. python benchmarks/gpu.py --device cpu --steps 20 --hidden-size 8 --quick   # the CPU test's run

Runs from the repo with nothing installed but torch, numpy and a YAML reader (ruamel.yaml or PyYAML):
no DVC, no network. Each flavor is trained twice, on the device (with torch's determinism settings,
seqmem.train.deterministic) and on the CPU (the pinned reference), and both training times are
printed. The device's model is scored by seqmem.evaluate.record and seqmem.retention, as stage
evaluate scores it (numba compiles the kernel; without numba the script says so and stops). Its
metrics are compared within benchmarks/tolerances.json with the committed metrics when the recipe
is params.yaml's, else with the CPU model's. Exit 1 if any metric is outside its tolerance.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

import seqmem  # noqa: E402, F401  before torch: the CPU reference run is pinned only so

# isort: split
import numpy as np  # noqa: E402
import torch  # noqa: E402
from check_repro import flatten, tolerance  # noqa: E402  as dvc names metrics, and its tolerance rule

from seqmem.core.config import EvalConfig, RetentionConfig, TrainConfig  # noqa: E402
from seqmem.train import fit  # noqa: E402
from seqmem.valset import make_valset  # noqa: E402


def load_params() -> dict:
    """params.yaml, read as the stages read it (ruamel.yaml, YAML 1.2) where that is installed."""
    text = (ROOT / "params.yaml").read_text()
    try:
        from ruamel.yaml import YAML

        return YAML(typ="safe").load(text)
    except ImportError:
        import yaml

        return yaml.safe_load(text)


def timed_fit(cfg: TrainConfig, flavor: str, device: str, val) -> tuple:
    """(model, seconds) of one training run on `device`, the device's queue drained."""
    cfg = dataclasses.replace(cfg, device=device)
    t = time.perf_counter()
    model, _ = fit(cfg, flavor, val=val, log=None)
    if device == "cuda":
        torch.cuda.synchronize()
    return model, time.perf_counter() - t


def score(model, val, ecfg: EvalConfig, rcfg: RetentionConfig) -> dict[str, float]:
    """Stage evaluate's metrics of a model, flattened as `dvc metrics` names them."""
    from seqmem.evaluate import record
    from seqmem.retention import retention

    model = model.cpu()
    metrics, _ = record(model, val, ecfg)
    held, _ = retention(model, rcfg)
    return flatten({model.flavor: metrics | held})


def committed(flavor: str) -> dict[str, float]:
    """The committed metrics of stage evaluate for one flavor."""
    out = {}
    for kind in ("evaluate", "retention"):
        out |= flatten(json.loads((ROOT / f"metrics/{kind}/{flavor}.json").read_text()))
    return out


def compare(got: dict, want: dict, tolerances: dict) -> list[str]:
    """Lines for the metrics of `want` that `got` misses by more than their tolerance (None == None is fine)."""
    bad = []
    for name, w in sorted(want.items()):
        g, tol = got.get(name), tolerance(name, tolerances)
        if g != w and (g is None or w is None or abs(g - w) > tol):
            bad.append(f"  {name}: {g} on the device, {w} in the reference (tolerance {tol})")
    return bad


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cuda", choices=["cuda", "mps", "cpu"], help="where to train (default cuda)")
    p.add_argument("--steps", type=int, help="training steps for every flavor (default: params.yaml's)")
    p.add_argument("--hidden-size", type=int, help="hidden size for every flavor (default: params.yaml's)")
    p.add_argument("--quick", action="store_true", help="small evaluation sets: for the CPU test, not for numbers")
    args = p.parse_args()
    try:
        import numba  # noqa: F401  the evaluation kernel's compiler
    except ImportError:
        print("gpu.py: numba is not installed, and the pipeline's evaluation needs it: pip install numba==0.68.1")
        return 2
    params = load_params()
    flavors = params["flavors"]
    cfg = TrainConfig.from_params(params["train"], flavors)
    changes = {k: v for k, v in (("steps", args.steps), ("hidden_size", args.hidden_size)) if v is not None}
    if changes:
        cfg = dataclasses.replace(cfg, **{f: dataclasses.replace(cfg.flavor(f), **changes) for f in flavors})
    ecfg = EvalConfig.from_dict(params["evaluate"], "evaluate")
    rcfg = RetentionConfig.from_dict(params["retention"], "retention")
    if args.quick:
        ecfg = dataclasses.replace(ecfg, lengths=[50, 100], num_sequences=50)
        rcfg = dataclasses.replace(rcfg, num_sequences=8, max_distance=300)
    data = params["data"]
    val = make_valset(data["num_sequences"], np.random.default_rng(data["seed"]), min_len=data["min_len"],
                      max_len=data["max_len"], p_minus_one=data["p_minus_one"])
    tolerances = json.loads((ROOT / "benchmarks/tolerances.json").read_text())
    name = torch.cuda.get_device_name() if args.device == "cuda" else args.device
    print(f"device: {name}; torch {torch.__version__}; Python {sys.version.split()[0]}")
    reference = "the committed metrics" if not (changes or args.quick) else "the CPU model's metrics, same recipe"
    failed = False
    for flavor in flavors:
        model, on_device = timed_fit(cfg, flavor, args.device, val)
        cpu_model, on_cpu = timed_fit(cfg, flavor, "cpu", val)
        got = score(model, val, ecfg, rcfg)
        want = committed(flavor) if reference.startswith("the committed") else score(cpu_model, val, ecfg, rcfg)
        bad = compare(got, want, tolerances)
        failed |= bool(bad)
        acc, loss = got[f"{flavor}.accuracy"], got[f"{flavor}.loss"]
        print(f"{flavor}: trained in {on_device:.2f} s on {args.device}, {on_cpu:.2f} s on the CPU "
              f"({on_cpu / on_device:.2f}x); accuracy {acc:.4f}, loss {loss:.5f}")
        print(f"{flavor}: {len(want) - len(bad)} of {len(want)} metrics within tolerance of {reference}")
        if bad:
            print("\n".join(bad))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
