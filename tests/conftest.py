"""Shared fixtures: tiny params and throwaway git+DVC copies of this repo."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from filelock import FileLock

import seqmem  # noqa: F401  first, before any test module imports torch: it pins the CPU arithmetic
from tests.helpers import make_repo_copy, sh


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests of POSIX process tools (signals, rlimits) or of Linux's /proc skip elsewhere, saying why."""
    for item in items:
        if "posix" in item.keywords and os.name != "posix":
            item.add_marker(pytest.mark.skip(reason="uses POSIX process tools (signals, rlimits), which Windows lacks"))
        if "linux" in item.keywords and sys.platform != "linux":
            item.add_marker(pytest.mark.skip(reason=f"uses Linux's /proc or /dev, and this is {sys.platform}"))


@pytest.fixture(scope="session")
def repro_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repo copy on tiny params after one real `dvc repro`, committed. Read-only: copy it (`repo`) to change it.

    Built once per test run and shared by the xdist workers (a file lock decides who builds it).
    """
    # this run's folder: xdist workers each get one below it; without xdist its parent outlives the run
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    repo, done = shared / "repro", shared / "repro.done"
    with FileLock(str(shared / "repro.lock")):
        if not done.exists():
            shutil.rmtree(repo, ignore_errors=True)
            repo.mkdir()
            make_repo_copy(repo)
            sh("dvc", "repro", cwd=repo)
            sh("git", "add", "-A", cwd=repo)
            sh("git", "commit", "-qm", "repro", cwd=repo)
            done.touch()
    return repo


@pytest.fixture
def repo(repro_repo: Path, tmp_path: Path) -> Path:
    """A private copy of the reproduced repo (DVC cache included), free to change."""
    return Path(shutil.copytree(repro_repo, tmp_path / "repo", symlinks=True))
