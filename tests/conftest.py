"""Shared fixtures: tiny params and throwaway git+DVC copies of this repo."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
# the venv's bin first, so `python` in dvc.yaml's cmds is this interpreter, and dvc is this dvc
ENV = os.environ | {
    "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    "DVC_NO_ANALYTICS": "1",
    "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
}
# artifacts that `dvc repro` makes; a copy must start without them to prove it can make them
GENERATED = ("dvc.lock", "metrics.json", "plots", "data", "models")


def tiny_params() -> dict:
    """The repo's params.yaml shrunk so a whole pipeline runs in seconds."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["data"]["size"] = 200
    params["train"]["eval_every"] = 10
    for flavor in ("rnn", "lstm", "gru"):
        params["train"][flavor].update(hidden_size=8, steps=20)
    return params


def sh(*cmd: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    """Run a command with the test environment; on failure show its output."""
    res = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True)
    if check and res.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {res.returncode}\n{res.stdout}\n{res.stderr}")
    return res


def write_params(repo: Path, params: dict) -> None:
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def make_repo_copy(dest: Path, params: dict | None = None) -> Path:
    """A fresh git repo holding this repo's tracked files (minus generated ones), committed."""
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for rel in files:
        if rel.split("/")[0] in GENERATED and not rel.endswith(".gitignore"):
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest / rel)
    write_params(dest, tiny_params() if params is None else params)
    sh("git", "init", "-q", "-b", "main", cwd=dest)
    sh("git", "add", "-A", cwd=dest)
    sh("git", "commit", "-qm", "copy", cwd=dest)
    return dest


@pytest.fixture(scope="session")
def repro_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repo copy on tiny params after one real `dvc repro`, committed (shared: treat as read-only)."""
    repo = make_repo_copy(tmp_path_factory.mktemp("repro"))
    sh("dvc", "repro", cwd=repo)
    sh("git", "add", "-A", cwd=repo)
    sh("git", "commit", "-qm", "repro", cwd=repo)
    return repo


@pytest.fixture
def params_file(tmp_path: Path) -> Path:
    """A tiny params.yaml in a temp folder."""
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(tiny_params(), sort_keys=False))
    return path
