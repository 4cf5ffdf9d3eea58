"""Artifacts on disk: written atomically, read with checks, never half there."""

from __future__ import annotations

import contextlib
import csv
import glob
import io
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

_UMASK = os.umask(0o022)
os.umask(_UMASK)  # the only way to read the umask is to set it


class ArtifactError(Exception):
    """An input artifact is missing, corrupt, or not what it claims to be."""


def reason(e: Exception, prefer: tuple[str, ...] = ()) -> str:
    """A library error in one short line: torch's and numpy's run to paragraphs with terminal colours."""
    lines = [ln.strip() for ln in re.sub(r"\x1b\[[0-9;]*m", "", str(e)).splitlines() if ln.strip()]
    line = next((ln for ln in lines if ln.startswith(prefer)), lines[0] if lines else "")
    line = line.split(". ")[0]
    return f"{type(e).__name__}: {line[:160]}"


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temp path beside `path`; rename it into place only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):  # left by a killed run: SIGKILL cleans nothing
        stale.unlink(missing_ok=True)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; an output is as readable as any file the user makes
        yield Path(tmp)
        os.replace(tmp, path)  # atomic on POSIX: readers see the old file or the new, never half
    except OSError as e:  # a full disk, a read-only folder: named by the user's path, never the temp file's
        raise OSError(e.errno, e.strerror or str(e), str(path)) from None
    finally:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)


def write_text(text: str, path: str | Path) -> None:
    """A text file, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(obj: object, path: str | Path) -> None:
    """Pretty, key-sorted, strict JSON (NaN or inf is an error, not invalid JSON), atomically."""
    write_text(json.dumps(obj, indent=2, sort_keys=True, allow_nan=False) + "\n", path)


def read_metrics(folder: str | Path) -> dict:
    """{model: metrics} from a stage's per-model metrics files, folder/<flavor>.json, each keyed by its model."""
    files = sorted(Path(folder).glob("*.json"))
    return {model: m for path in files for model, m in json.loads(path.read_text()).items()}


def write_csv(rows: list[dict], path: str | Path) -> None:
    """A CSV with the first row's keys as header, atomically."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text(buf.getvalue(), path)


def _cell(v: str) -> float | str:
    try:
        return float(v)
    except ValueError:
        return v


def read_csv(path: str | Path, columns: tuple[str, ...]) -> list[dict]:
    """Rows of a CSV that must have `columns` and at least one row; numeric-looking cells become floats."""
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            rows = [{k: _cell(v) for k, v in row.items()} for row in reader]
            header = reader.fieldnames or []
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise ArtifactError(f"{path}: cannot read as CSV ({reason(e)})") from None
    missing = [c for c in columns if c not in header]
    if missing or not rows or any(None in r.values() or None in r for r in rows):
        raise ArtifactError(f"{path}: expected a non-empty CSV with columns {list(columns)}, got {header}")
    return rows


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """An .npz whose bytes are the arrays' own: stored, not deflated, with fixed timestamps.

    np.savez stamps the current time into the zip, and deflate's output is the interpreter's zlib's
    (the system's on Linux and macOS, zlib-ng in CPython 3.14 on Windows); stored entries need only
    CRC-32, which every zlib computes alike. The bytes (and dvc.lock) are then the same everywhere.
    """
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            with zf.open(info, "w") as f:
                np.lib.format.write_array(f, np.ascontiguousarray(arr), allow_pickle=False)
