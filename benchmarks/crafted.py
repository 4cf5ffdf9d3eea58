"""Every crafted checkpoint of tests/crafted_checkpoints.py through seqmem-probe: its message, exit code and cost.

    python benchmarks/crafted.py      # a Markdown table, one row per file

The cost is read_checkpoint's time to refuse the file, in-process (the best of 20 runs): what the
check itself takes, without the command's imports. The exit code and the message are the real
command's: `seqmem-probe --model FILE 1 -1`, one process per file.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from seqmem.checkpoint import read_checkpoint  # noqa: E402
from seqmem.core.artifacts import ArtifactError  # noqa: E402
from tests.crafted_checkpoints import CRAFTED  # noqa: E402


def refusal_seconds(path: Path, repeat: int = 20) -> float:
    """The fastest of `repeat` in-process refusals of `path`."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        try:
            read_checkpoint(path)
        except ArtifactError:
            pass
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    probe = str(Path(sys.executable).parent / "seqmem-probe")
    print("| crafted file | bytes | exit | message (after `error (artifact): <path>: `) | refused in |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for what, data, _ in CRAFTED:
            path = Path(tmp) / "m.safetensors"
            path.write_bytes(data)
            res = subprocess.run([probe, "--model", str(path), "1", "-1"], capture_output=True, text=True)
            message = res.stderr.strip().removeprefix(f"error (artifact): {path}: ").replace("|", "\\|")
            print(f"| {what} | {len(data):,} | {res.returncode} | {message} | {refusal_seconds(path) * 1e3:.3f} ms |")


if __name__ == "__main__":
    main()
