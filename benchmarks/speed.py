"""What an experiment costs: the analysis passes' rates and the pipeline's commands, as ratios to `import torch`.

    python benchmarks/speed.py                    # analysis rates, then the pipeline commands (~5 min)
    python benchmarks/speed.py --against 2335928  # also the analysis of an older commit, in the same run
    python benchmarks/speed.py --analysis-only    # only the in-process rates (~1 min)

Every time is also printed as a multiple of `import torch` (the median of cold processes: five at
the start for the analysis; for the pipeline commands, all of the run's, three taken just before
each command), since these machines' speed drifts by 20% and more within minutes. A command run
several times reports its fastest run. The analysis is
stage evaluate's two passes (seqmem.evaluate.record and seqmem.retention.retention) on the
committed models, one flavor per process; a sequence-step of a one-layer model counts
gates * hidden * (1 + hidden) multiply-adds: the recurrent and input products, as an issue counted them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}
GATES = {"rnn": 1, "gru": 3, "lstm": 4}

# the child: one flavor's evaluate passes, timed, with the library of whichever tree is on sys.path
CHILD = """
import json, sys, time
import numpy as np
import seqmem
from seqmem.core.config import EvalConfig, RetentionConfig
from seqmem.evaluate import record
from seqmem.model import load_checkpoint
from seqmem.retention import retention
from seqmem.valset import load_valset
from stages.common import load_params
root, flavor = sys.argv[1], sys.argv[2]
params = load_params(f"{root}/params.yaml")
e = EvalConfig.from_dict(params["evaluate"], "evaluate")
r = RetentionConfig.from_dict(params["retention"], "retention")
model, val = load_checkpoint(f"{root}/models/{flavor}.safetensors"), load_valset(f"{root}/data/val.npz")
out = {"mac": {"rnn": 1, "gru": 3, "lstm": 4}[flavor] * model.hidden_size * (1 + model.hidden_size)}
t = time.perf_counter(); metrics, _ = record(model, val, e); out["evaluate"] = time.perf_counter() - t
out["evaluate_steps"] = val.X.shape[0] * val.X.shape[1] + e.num_sequences * sum(e.lengths)
t = time.perf_counter(); held, _ = retention(model, r); out["retention"] = time.perf_counter() - t
out["retention_steps"] = 2 * r.num_sequences * (r.max_distance + 1)
out["numbers"] = [metrics["accuracy"], metrics["loss"], held["half_life"], held["latched_at_max"]]
print(json.dumps(out))
"""


TORCH_SAMPLES: list[float] = []  # every cold `import torch` of the run: the yardstick is their median


def import_torch(n: int = 5) -> float:
    """The median of n cold `python -c 'import torch'`; each is also kept in TORCH_SAMPLES."""
    times = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import torch"], check=True, env=ENV)
        times.append(time.perf_counter() - t)
    TORCH_SAMPLES.extend(times)
    return statistics.median(times)


def analysis(tree: Path, flavor: str) -> dict:
    """One flavor's evaluate passes in a fresh process, with `tree`'s library and the committed models."""
    env = ENV | {"PYTHONPATH": str(tree)}
    res = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), flavor], cwd=tree, env=env, capture_output=True,
                         text=True, check=True)
    return json.loads(res.stdout)


def fastest(trees: dict[str, Path], repeat: int) -> dict[tuple[str, str], dict]:
    """{(label, flavor): analysis} with each pass's fastest of `repeat` runs, the trees' runs interleaved,
    so that the machine's drift (which only ever adds time) falls on every tree alike."""
    best: dict[tuple[str, str], dict] = {}
    for _ in range(repeat):
        for flavor in ("rnn", "lstm"):
            for label, tree in trees.items():
                a = analysis(tree, flavor)
                old = best.setdefault((label, flavor), a)
                for part in ("evaluate", "retention"):
                    old[part] = min(old[part], a[part])
    return best


def report_analysis(label: str, runs: dict[tuple[str, str], dict], torch_s: float) -> dict[str, float]:
    """Print each flavor's two passes: seconds, sequence-steps/s, multiply-adds/s; return GMAC/s per flavor."""
    rates = {}
    for flavor in ("rnn", "lstm"):
        a = runs[label, flavor]
        for part in ("evaluate", "retention"):
            s, n = a[part], a[f"{part}_steps"]
            print(f"{label:<10} {flavor:>4} {part:<9} {s:6.2f} s ({s / torch_s:4.1f}x)  "
                  f"{n / s / 1e6:5.2f} M seq-steps/s  {n * a['mac'] / s / 1e9:5.2f} G multiply-adds/s")
        steps = a["evaluate_steps"] + a["retention_steps"]
        rates[flavor] = steps * a["mac"] / (a["evaluate"] + a["retention"]) / 1e9
        print(f"{label:<10} {flavor:>4} both      {a['evaluate'] + a['retention']:6.2f} s  {rates[flavor]:5.2f} G "
              f"multiply-adds/s; accuracy, loss, half-life, latched: {a['numbers']}")
    return rates


def timed(cmd: list[str], cwd: Path) -> tuple[float, str]:
    """(seconds, stdout), after three cold `import torch` for the yardstick: samples spread over the
    run follow the host's drift better than five at its start."""
    import_torch(3)
    t = time.perf_counter()
    res = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True, check=True)
    return time.perf_counter() - t, res.stdout


def _reset(repo: Path) -> None:
    """Back to the committed state, with no run cache: the same experiment again must run its stages again."""
    subprocess.run(["git", "checkout", "--", "."], cwd=repo, check=True)
    subprocess.run(["dvc", "checkout", "-q"], cwd=repo, env=ENV, check=True)
    shutil.rmtree(repo / ".dvc/cache/runs", ignore_errors=True)


def pipeline(repeat: int) -> None:
    """Fresh clone: full repro, no-op repro, an RNN experiment, then repro -f, each as a multiple of the
    run's median `import torch`; the no-op, the experiment and repro -f `repeat` times each, the fastest kept."""
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(repo)], check=True)
        rows = [("fresh-clone `dvc repro`", [timed(["dvc", "repro"], repo)])]
        status = subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True).stdout
        rows.append(("no-op `dvc repro`", [timed(["dvc", "repro"], repo) for _ in range(repeat)]))
        runs = []
        for i in range(repeat):
            runs.append(timed(["dvc", "exp", "run", "-n", f"h16-{i}", "-S", "train.rnn.hidden_size=16"], repo))
            _reset(repo)
        rows.append(("`dvc exp run -S train.rnn.hidden_size=16`", runs))
        ran = {tuple(re.findall(r"Running stage '([^']+)'", out)) for _, out in runs}
        rows.append(("`dvc repro -f`", [timed(["dvc", "repro", "-f"], repo) for _ in range(repeat)]))
        forced = subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True).stdout
    torch_s = statistics.median(TORCH_SAMPLES)
    print(f"import torch over the run: median {torch_s:.2f} s of {len(TORCH_SAMPLES)} cold processes "
          f"({min(TORCH_SAMPLES):.2f}-{max(TORCH_SAMPLES):.2f} s)")
    for what, times in rows:
        best = min(s for s, _ in times)
        each = f"  (runs: {', '.join(f'{s:.2f}' for s, _ in times)} s)" if len(times) > 1 else ""
        print(f"{what:<44} {best:6.2f} s  {best / torch_s:5.1f}x import torch{each}")
    print(f"the experiment ran: {' | '.join(', '.join(r) for r in ran)}")
    print(f"after the fresh-clone repro, git status: {'clean' if not status else status}")
    print(f"after repro -f, git status: {'clean' if not forced else forced}")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--against", metavar="REV", help="also time this commit's analysis passes (a git worktree)")
    p.add_argument("--analysis-only", action="store_true", help="skip the pipeline commands")
    p.add_argument("--repeat", type=int, default=3, help="analysis runs per flavor and tree; the fastest counts")
    p.add_argument("--pipeline-repeat", type=int, default=2,
                   help="runs of the no-op, the experiment and repro -f; the fastest counts")
    args = p.parse_args()
    torch_s = import_torch()
    print(f"import torch: {torch_s:.2f} s (median of 5); {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"this tree": ROOT}
        if args.against:
            trees[args.against[:10]] = Path(tmp) / "old"
            subprocess.run(["git", "worktree", "add", "-q", "--detach", str(trees[args.against[:10]]), args.against],
                           cwd=ROOT, check=True)
        try:
            runs = fastest(trees, args.repeat)
        finally:
            if args.against:
                subprocess.run(["git", "worktree", "remove", "--force", str(trees[args.against[:10]])], cwd=ROOT,
                               check=True)
    rates = {label: report_analysis(label, runs, torch_s) for label in trees}
    if args.against:
        for flavor in ("rnn", "lstm"):
            ratio = rates["this tree"][flavor] / rates[args.against[:10]][flavor]
            print(f"{flavor:>4}: {ratio:.2f}x the multiply-adds/s of {args.against[:10]}")
    if not args.analysis_only:
        pipeline(args.pipeline_repeat)
    print(f"import torch, again at the end: {import_torch():.2f} s")
