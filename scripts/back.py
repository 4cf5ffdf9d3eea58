"""Back to the committed results, after `dvc exp run`, an edited params.yaml or a flavor tried and dropped.

    python scripts/back.py    # restore, remove a dropped flavor's outputs, `dvc checkout`

1. params.yaml, dvc.lock, metrics/, plots/ and the .gitignore files DVC edits come back from HEAD. A file
   whose bytes differ from HEAD's is first marked changed for git: `git checkout -- params.yaml` alone can
   miss it, because `dvc exp run -S` may rewrite params.yaml within the same second as it restored it, at
   the same size, and git, which compares size and whole-second times, then sees nothing to restore.
2. The outputs of a flavor that HEAD's `flavors` does not list (models/gru.safetensors, metrics/*/gru.json,
   plots/*/gru.csv, ...) are removed: they sit in folders that stages depend on, so they would leave
   those stages stale and `dvc.lock` different. Any other file that git does not know there is listed and
   left alone.
3. `dvc checkout` brings the models and the validation set of dvc.lock back from DVC's cache.
Saved experiments stay saved: `dvc exp show` still lists them.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from seqmem.core.config import FLAVOR_NAMES  # noqa: E402
from stages.common import load_params  # noqa: E402

RESTORED = ("params.yaml", "dvc.lock", "metrics", "plots", "models/.gitignore", "data/.gitignore")
OUTPUT_FOLDERS = ("metrics", "plots", "models")  # where a stage writes a file per flavor


def git(*args: str, stdin: str | None = None) -> str:
    """git's stdout; its stderr and a non-zero exit end this script."""
    proc = subprocess.run(["git", *args], cwd=ROOT, input=stdin, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"back.py: git {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout


def changed_files() -> list[str]:
    """The files of RESTORED whose bytes on disk are not HEAD's (missing ones included)."""
    entries = [line.split("\t", 1) for line in git("ls-tree", "-r", "HEAD", "--", *RESTORED).splitlines()]
    head = {path: meta.split()[2] for meta, path in entries}  # path -> blob id
    present = [p for p in head if (ROOT / p).is_file()]
    hashes = git("hash-object", "--stdin-paths", stdin="".join(f"{p}\n" for p in present)).split()
    on_disk = dict(zip(present, hashes, strict=True))
    return sorted(p for p in head if on_disk.get(p) != head[p])


def dropped_outputs(flavors: list[str]) -> list[Path]:
    """Files named after a flavor that `flavors` does not list, in the folders stages write per flavor."""
    dropped = [f for f in FLAVOR_NAMES if f not in flavors]
    found = (p for folder in OUTPUT_FOLDERS for p in (ROOT / folder).rglob("*") if p.is_file())
    return sorted(p for p in found if p.stem in dropped and not git("ls-files", "--", str(p.relative_to(ROOT))))


def main(argv: list[str] | None = None) -> int:
    """Restore, remove, check out; print what was done and what `git status` says after."""
    argparse.ArgumentParser(description=__doc__.split("\n")[0]).parse_args(argv)  # --help, and no stray args
    changed = changed_files()
    print(f"back.py: {len(changed)} file(s) differed from HEAD" + "".join(f"\n  {p}" for p in changed))
    if changed:
        for p in changed:
            if (ROOT / p).exists():
                os.utime(ROOT / p, ns=(0, 0))  # a time no index entry holds: git must look at the bytes
        git("reset", "-q", "HEAD", "--", *RESTORED)
        git("checkout", "HEAD", "--", *RESTORED)
    flavors = load_params(ROOT / "params.yaml")["flavors"]  # HEAD's, restored just now
    stray = dropped_outputs(flavors)
    if stray:
        print(f"back.py: removed {len(stray)} output(s) of flavors not in {flavors}"
              + "".join(f"\n  {p.relative_to(ROOT)}" for p in stray))
    for p in stray:
        p.unlink()
    if subprocess.run(["dvc", "checkout", "--quiet"], cwd=ROOT).returncode:
        return 1
    unknown = git("ls-files", "--others", "--exclude-standard", "--", *OUTPUT_FOLDERS).split()
    if unknown:
        print("back.py: left alone, not the pipeline's (a stage that depends on their folder will rerun):"
              + "".join(f"\n  {p}" for p in unknown))
    status = git("status", "--porcelain").strip()
    print("back.py: git status is clean" if not status else f"back.py: git status:\n{status}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
