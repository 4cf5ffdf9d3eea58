"""Check that the committed results come from the committed code and params.

    python scripts/check_repro.py               # picks its mode from this machine, and says which and why
    python scripts/check_repro.py --exact       # dvc.lock and every tracked output bit for bit
    python scripts/check_repro.py --tolerance   # metrics within tolerances

Exact is the mode on Linux x86-64 with AVX2 under the pinned arithmetic (seqmem.core.numerics);
anywhere else, or where a variable of yours overrides the pin (MKL_CBWR=AUTO, say), tolerance.

It fails (exit 1), naming the stages and files, if:
- a stage is stale: its code or params changed since dvc.lock was written (outputs that a fresh
  clone lacks, or retrains, are not staleness);
- a committed output was edited by hand: it differs from the hash dvc.lock records for it;
- `dvc repro` (without the run cache) leaves `dvc status` unclean, or leaves any file on disk
  whose md5 differs from dvc.lock's: a corrupt DVC cache object restored over a good output;
- exact mode: anything git tracks changed (dvc.lock, metrics, plot data, PNGs);
- tolerance mode: a metric moved by more than its tolerance in benchmarks/tolerances.json, the
  spread of that metric over 10 training seeds (`python benchmarks/bench.py --spread`).
On failure it prints the metrics and params diff tables against HEAD.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the repo it checks, wherever it is run from
TOLERANCES = ROOT / "benchmarks" / "tolerances.json"


def git(*args: str) -> str:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout


def lock_of(path: Path) -> dict:
    """dvc.lock as DVC reads it, or {} where there is none yet."""
    from ruamel.yaml import YAML

    return (YAML(typ="safe").load(path.read_text()) or {}) if path.exists() else {}


def flatten(d: dict, prefix: str = "") -> dict[str, float]:
    """{"rnn": {"loss": x, "by_length": {"50": y}}} -> {"rnn.loss": x, "rnn.by_length.50": y}, as dvc names them."""
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out |= flatten(v, f"{prefix}{k}.")
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[f"{prefix}{k}"] = v
    return out


def produced(lock: dict) -> set[str]:
    """Every path a stage writes, per dvc.lock: inside the pipeline, not inputs from outside it."""
    return {out["path"] for stage in lock.get("stages", {}).values() for out in stage.get("outs", [])}


def _inside_pipeline(path: str, outputs: set[str]) -> bool:
    """Is `path` a stage output, inside one (a file of an output folder), or a folder of outputs (`models`)?"""
    return any(path == out or out.startswith(f"{path}/") or path.startswith(f"{out}/") for out in outputs)


def stale_reasons(status: dict, outputs: set[str]) -> list[str]:
    """From `dvc status`: code or params that changed, and outputs edited by hand.

    A dep that another stage produces (the models, the validation set) changes whenever that stage
    re-runs, and is absent on a fresh clone: that is not staleness, so it is left out. So are
    outputs that are merely missing or not in the cache.
    """
    lines = []
    for stage, changes in status.items():
        for change in changes if isinstance(changes, list) else []:
            for kind, paths in change.items() if isinstance(change, dict) else []:
                for path, how in paths.items() if isinstance(paths, dict) else []:
                    if isinstance(how, dict):  # params: {"params.yaml": {"probe.units": "modified"}}
                        lines += [f"  stage {stage}: params {key} {h} (in {path})" for key, h in how.items()]
                    elif kind == "changed deps" and not _inside_pipeline(path, outputs):
                        lines.append(f"  stage {stage}: deps {path} {how}")
                    elif kind == "changed outs" and how not in ("deleted", "not in cache"):
                        lines.append(f"  stage {stage}: outs {path} {how} (edited by hand?)")
    return lines


def md5_of(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def disk_mismatches(lock: dict, root: Path = Path(".")) -> list[str]:
    """Files whose bytes are not what dvc.lock records, in the workspace and in the DVC cache.

    DVC trusts its cache: a corrupt object is checked out as if it were good. Hashing is cheap here
    (a few small files), so hash everything dvc.lock names.
    """
    bad = []
    for stage in lock.get("stages", {}).values():
        for out in stage.get("outs", []):
            md5 = out.get("md5", "")
            if md5.endswith(".dir") or not md5:  # folders are small plot files, which git tracks
                continue
            for path in (root / out["path"], root / ".dvc/cache/files/md5" / md5[:2] / md5[2:]):
                if path.is_file() and md5_of(path) != md5:
                    bad.append(f"  {path.relative_to(root)}: md5 {md5_of(path)}, but dvc.lock says {md5}")
    return bad


def contradictions(lock: dict, defined: set[str]) -> list[str]:
    """Models on disk whose recorded flavor or training params are not params.yaml's: one line each.

    DVC can't see these: two `dvc exp run -S` at once in one workspace can leave a model trained
    under one run's params beside a dvc.lock and params.yaml of the other's, and `dvc repro` then
    says "up to date".
    """
    from seqmem.checkpoint import check_provenance, read_checkpoint
    from seqmem.core.artifacts import ArtifactError
    from seqmem.core.config import ConfigError
    from stages.common import load_params, trained_from

    params, found = load_params("params.yaml"), []
    for name, stage in lock.get("stages", {}).items():
        if not name.startswith("train@") or name not in defined:
            continue
        flavor = name.split("@", 1)[1]
        for out in stage.get("outs", []):
            path = Path(out["path"])
            if path.suffix == ".safetensors" and path.is_file():
                try:
                    check_provenance(read_checkpoint(path), path, flavor, trained_from(params, flavor))
                except (ArtifactError, ConfigError) as e:
                    found.append(f"  {e}")
    return found


def table(diff: dict, head: str) -> str:
    """A `dvc metrics/params diff --md`-style table of {path: {key: {old, new}}}, or a note."""
    rows = [f"| {path} | {key} | {d.get('old')} | {d.get('new')} |"
            for path, keys in diff.items() for key, d in keys.items()]
    return "\n".join([f"| Path | {head} | HEAD | workspace |", "|---|---|---|---|", *rows]) if rows else "(no change)"


def tolerance(name: str, tolerances: dict[str, float]) -> float:
    """A metric's tolerance; one the benchmark never measured (another length, say) takes its family's widest."""
    if name in tolerances or name.count(".") < 2:
        return tolerances.get(name, 0.0)
    family = name.rsplit(".", 1)[0] + "."
    return max((t for k, t in tolerances.items() if k.startswith(family)), default=0.0)


def out_of_tolerance(diff: dict, tolerances: dict[str, float]) -> list[str]:
    """Metrics whose change from HEAD exceeds their tolerance, from `dvc metrics diff --json`."""
    bad = []
    for path, metrics in diff.items():
        for name, d in metrics.items():
            old, new, tol = d.get("old"), d.get("new"), tolerance(name, tolerances)
            if old is None and new is None:
                continue
            if not (isinstance(old, (int, float)) and isinstance(new, (int, float))) or abs(new - old) > tol:
                bad.append(f"  {path}: {name} {old} -> {new} (tolerance {tol})")
    return bad


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--tolerance", action="store_true", help="compare metrics within tolerances, not bytes")
    mode.add_argument("--exact", action="store_true", help="compare bytes, even where the arithmetic isn't pinned")
    args = p.parse_args()
    t0 = time.perf_counter()
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    from seqmem.core.numerics import exactness  # pins on x86-64 (a variable you set wins): the stages inherit it

    if not Path("dvc.lock").is_file():
        print(f"check_repro: FAIL: {ROOT}/dvc.lock is missing, so there is nothing to compare against; "
              "restore it (git checkout dvc.lock), or run `dvc repro` and commit it")
        return 2
    exact_here, why = exactness()
    args.tolerance = args.tolerance or (not exact_here and not args.exact)
    print(f"check_repro: {'within tolerance' if args.tolerance else 'bit for bit'}: {why}")
    os.environ["DVC_NO_ANALYTICS"] = "1"
    from dvc.repo import Repo  # DVC's own API: one process instead of five `dvc` commands (3 s less)

    repo = Repo(".")
    lock = lock_of(Path("dvc.lock"))
    # dvc repro keeps a removed stage's entry; its outs may name files another stage now writes
    defined = {stage.addressing for stage in repo.index.stages}
    leftover = sorted(set(lock.get("stages", {})) - defined)
    dirty = git("status", "--porcelain").strip()
    if dirty:
        print(f"check_repro: note: uncommitted changes before the check; they count as drift:\n{dirty}")
    contradicted = contradictions(lock, defined)
    if contradicted:  # neither the code's fault nor a result: nothing here may be committed
        print("check_repro: FAIL: a model contradicts params.yaml, so the results beside it are not this "
              "pipeline's:\n" + "\n".join(contradicted))
        print("This is not a result to commit. Two `dvc exp run`s at once in one workspace leave this "
              "(docs/experiments.md#one-at-a-time); retrain what the lines above name, then `dvc repro`.")
        return 1
    stale = stale_reasons(repo.status(), produced(lock))
    try:
        # run_cache=False: a stale stage must really run, not be restored from an earlier run's outputs
        ran = [stage.addressing for stage in repo.reproduce(run_cache=False)]
    except Exception as e:  # DVC raises ReproductionError & co; all mean the same here
        print(f"check_repro: FAIL: `dvc repro` failed: {e}")
        return 1
    problems = []
    if leftover:
        problems.append(f"dvc.lock holds stages that dvc.yaml no longer defines: {', '.join(leftover)} "
                        "(`dvc repro` keeps their entries: delete them from dvc.lock)")
    if stale:
        problems.append("stale or edited since dvc.lock was written:\n" + "\n".join(stale))
    if repo.status():
        problems.append("`dvc status` is not clean after `dvc repro`")
    now = lock_of(Path("dvc.lock"))
    corrupt = disk_mismatches({"stages": {k: v for k, v in now.get("stages", {}).items() if k in defined}})
    if corrupt:
        problems.append("files differ from the md5 that dvc.lock records: corrupt "
                        "(docs/reproducibility.md#repairing-the-dvc-cache):\n" + "\n".join(corrupt))
    metrics_diff = repo.metrics.diff(a_rev="HEAD").get("diff", {})
    if args.tolerance:
        bad = out_of_tolerance(metrics_diff, json.loads(TOLERANCES.read_text()))
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
    if not args.tolerance and not exact_here:  # asked for exact where it can't hold: the environment, not the code
        print(f"check_repro: FAIL, and expected here: {why}")
        return 1
    print("check_repro: FAIL: the committed results do not come from the committed code and params.")
    print(f"stages that ran: {', '.join(ran) or 'none'}")
    for problem in problems:
        print(f"- {problem}")
    print(f"\nmetrics, committed (HEAD) vs reproduced (workspace):\n{table(metrics_diff, 'Metric')}")
    params_diff = repo.params.diff(a_rev="HEAD").get("diff", {})
    print(f"\nparams, committed (HEAD) vs workspace:\n{table(params_diff, 'Param')}")
    if args.tolerance:
        print("\nTo fix: the metrics above moved past their tolerance here; if the code or params changed on "
              "purpose, commit what `dvc repro` makes on Linux x86-64 (the exact mode), not here.")
    else:
        print("\nTo fix: if you changed code or params on purpose, run `dvc repro` and commit dvc.lock with the "
              "metrics and plot files it changes; if not, `git checkout` them back.")
    return 1


if __name__ == "__main__":
    sys.exit(main())
