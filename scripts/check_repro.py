"""Check that the committed results come from the committed code and params.

    python scripts/check_repro.py               # exact: dvc.lock and every tracked output bit for bit
    python scripts/check_repro.py --tolerance   # across machines: metrics within documented tolerances

It runs `dvc repro`, then fails (exit 1) if `dvc status` is not clean or if anything git tracks
changed: dvc.lock, metrics, plot data, PNGs. On failure it says which stage was stale and why,
which files drifted, and prints the `dvc metrics diff` and `dvc params diff` tables against HEAD.

Bit-exact reproduction holds on one kind of machine with one torch build and thread count. On
another CPU or torch build the floats can differ in the last bits; use --tolerance there: code
and params must still match dvc.lock exactly, but metrics may differ within TOLERANCES.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import subprocess
import sys
import time

# (metric name pattern, absolute tolerance): the first matching pattern wins
TOLERANCES = [
    ("*loss", 0.02),  # BCE near 0.005; another machine's run may land anywhere close to 0
    ("*mean_lag", 0.5),  # steps
    ("*", 0.02),  # accuracies, recalls, rates and shares: 2 percentage points
]


def git(*args: str) -> str:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout


def stale_reasons(status: dict) -> list[str]:
    """What `dvc status --json` says changed, minus outputs merely absent (a fresh clone has no cache)."""
    lines = []
    for stage, changes in status.items():
        for change in changes if isinstance(changes, list) else []:
            for kind, paths in change.items() if isinstance(change, dict) else []:
                for path, how in paths.items() if isinstance(paths, dict) else []:
                    if isinstance(how, dict):  # params: {"params.yaml": {"probe.units": "modified"}}
                        lines += [f"  stage {stage}: params {key} {h} (in {path})" for key, h in how.items()]
                    elif how not in ("deleted", "not in cache"):
                        lines.append(f"  stage {stage}: {kind.replace('changed ', '')} {path} {how}")
    return lines


def table(diff: dict, head: str) -> str:
    """A `dvc metrics/params diff --md`-style table of {path: {key: {old, new}}}, or a note."""
    rows = [f"| {path} | {key} | {d.get('old')} | {d.get('new')} |"
            for path, keys in diff.items() for key, d in keys.items()]
    return "\n".join([f"| Path | {head} | HEAD | workspace |", "|---|---|---|---|", *rows]) if rows else "(no change)"


def out_of_tolerance(diff: dict) -> list[str]:
    """Metrics whose change from HEAD exceeds TOLERANCES, from `dvc metrics diff --json`."""
    bad = []
    for path, metrics in diff.items():
        for name, d in metrics.items():
            old, new = d.get("old"), d.get("new")
            tol = next(t for pattern, t in TOLERANCES if fnmatch.fnmatch(name, pattern))
            if not (isinstance(old, (int, float)) and isinstance(new, (int, float))) or abs(new - old) > tol:
                bad.append(f"  {path}: {name} {old} -> {new} (tolerance {tol})")
    return bad


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tolerance", action="store_true", help="compare metrics within tolerances, not bytes")
    args = p.parse_args()
    t0 = time.perf_counter()
    os.environ["DVC_NO_ANALYTICS"] = "1"
    from dvc.repo import Repo  # DVC's own API: one process instead of five `dvc` commands (3 s less)

    repo = Repo(".")
    dirty = git("status", "--porcelain").strip()
    if dirty:
        print(f"check_repro: note: uncommitted changes before the check; they count as drift:\n{dirty}")
    stale = stale_reasons(repo.status())
    try:
        # run_cache=False: a stale stage must really run, not be restored from an earlier run's outputs
        ran = [stage.addressing for stage in repo.reproduce(run_cache=False)]
    except Exception as e:  # DVC raises ReproductionError & co; all mean the same here
        print(f"check_repro: FAIL: `dvc repro` failed: {e}")
        return 1
    problems = []
    if stale:
        problems.append("code, params or data changed since dvc.lock was written:\n" + "\n".join(stale))
    if repo.status():
        problems.append("`dvc status` is not clean after `dvc repro`")
    metrics_diff = repo.metrics.diff(a_rev="HEAD").get("diff", {})
    if args.tolerance:
        bad = out_of_tolerance(metrics_diff)
        if bad:
            problems.append("metrics outside tolerance:\n" + "\n".join(bad))
    else:
        changed = git("status", "--porcelain").splitlines()
        if changed:
            problems.append("files differ from the commit after `dvc repro`:\n" + "\n".join(f"  {c}" for c in changed))
    if not problems:
        mode = "within tolerances" if args.tolerance else "bit for bit"
        print(f"check_repro: OK: the committed results reproduce {mode} "
              f"(stages run: {', '.join(ran) or 'none'}; {time.perf_counter() - t0:.1f} s)")
        return 0
    print("check_repro: FAIL: the committed results do not come from the committed code and params.")
    print(f"stages that ran: {', '.join(ran) or 'none'}")
    for problem in problems:
        print(f"- {problem}")
    print(f"\nmetrics, committed (HEAD) vs reproduced (workspace):\n{table(metrics_diff, 'Metric')}")
    params_diff = repo.params.diff(a_rev="HEAD").get("diff", {})
    print(f"\nparams, committed (HEAD) vs workspace:\n{table(params_diff, 'Param')}")
    print("\nTo fix: run `dvc repro` and commit dvc.lock with the metrics and plot files it changes.")
    return 1


if __name__ == "__main__":
    sys.exit(main())
