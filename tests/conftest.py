"""Shared fixtures: tiny params and throwaway git+DVC copies of this repo."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import make_repo_copy, sh


@pytest.fixture(scope="session")
def repro_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repo copy on tiny params after one real `dvc repro`, committed (shared: treat as read-only)."""
    repo = make_repo_copy(tmp_path_factory.mktemp("repro"))
    sh("dvc", "repro", cwd=repo)
    sh("git", "add", "-A", cwd=repo)
    sh("git", "commit", "-qm", "repro", cwd=repo)
    return repo


@pytest.fixture
def repo(repro_repo: Path, tmp_path: Path) -> Path:
    """A private copy of the reproduced repo (DVC cache included), free to change."""
    return Path(shutil.copytree(repro_repo, tmp_path / "repo", symlinks=True))
