"""numba's cache of seqmem's compiled kernel: one folder per machine, and repaired when an entry is unreadable.

numba's own cache sits beside the source file, so every copy of the repo compiled again (3-4 s):
each queued experiment runs in a fresh checkout, and each test in a temp copy. Here one compile per
machine and version of the source serves them all (the CPU is in numba's key). A crash while numba
writes its index can leave it truncated, which made every later load raise EOFError, in every clone.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable
from pathlib import Path

from numba.core import caching

from seqmem.core.artifacts import ArtifactError, reason

_MODULES: set[str] = set()  # the source files whose functions are cached here


def cache_dir(py_file: str) -> Path:
    """Where a module's compiled functions live: a folder per version of its source, for every clone here."""
    home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(home) / "seqmem" / "numba" / hashlib.sha256(Path(py_file).read_bytes()).hexdigest()[:16]


def _from_cache(e: BaseException) -> bool:
    """Did numba's cache loading raise this (a truncated or garbled index or data file)?"""
    tb = e.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.replace(os.sep, "/").endswith("numba/core/caching.py"):
            return True
        tb = tb.tb_next
    return False


def repairing(run: Callable[[], None], folder: Path) -> None:
    """run(), and if numba's cache can't be read, clear seqmem's cache folder and run again: it compiles anew.

    A crash while numba writes its index can leave it truncated, and the next load raises EOFError in
    every clone on the machine. Nothing has run when loading fails, so running again is safe. If it
    fails again, the message names the folder and the command that clears it.
    """
    try:
        run()
    except Exception as e:
        if not _from_cache(e):
            raise
        print(f"seqmem: the compiled-kernel cache {folder} could not be read ({reason(e)}); compiling anew",
              file=sys.stderr, flush=True)
        for entry in folder.glob("*.nb[ic]"):
            entry.unlink(missing_ok=True)
        try:
            run()
        except Exception as again:
            if not _from_cache(again):
                raise
            raise ArtifactError(f"{folder}: seqmem's compiled-kernel cache can't be read or rebuilt "
                                f"({reason(again)}); delete it (rm -r {folder}) and run again") from None


class _SharedCache(caching._SourceFileBackedLocatorMixin, caching._CacheLocator):
    """numba's cache locator for the installed modules: the user's cache folder, named by the source's bytes."""

    def __init__(self, py_file: str):
        self._py_file = py_file
        self._cache_path = str(cache_dir(py_file))

    def get_cache_path(self) -> str:
        return self._cache_path

    def get_source_stamp(self) -> str:
        return self._cache_path  # the path names the content

    def get_disambiguator(self) -> str:
        return ""

    @classmethod
    def from_function(cls, py_func, py_file):
        if os.path.abspath(py_file) not in _MODULES:
            return None  # another module's function: numba's own places
        locator = cls(py_file)
        try:
            locator.ensure_cache_path()
        except OSError:  # no writable cache folder: numba's own places, beside the file
            return None
        return locator


def install(py_file: str) -> Path:
    """Keep the compiled functions of the module at `py_file` in cache_dir(py_file); returns that folder."""
    _MODULES.add(os.path.abspath(py_file))
    if _SharedCache not in caching.CacheImpl._locator_classes:
        caching.CacheImpl._locator_classes = [_SharedCache, *caching.CacheImpl._locator_classes]
    return cache_dir(py_file)
