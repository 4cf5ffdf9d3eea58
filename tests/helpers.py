"""Test helpers: tiny params, a test environment, and throwaway git+DVC copies of this repo."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from stages.common import load_params

ROOT = Path(__file__).resolve().parents[1]
# the venv's bin first, so `python` in dvc.yaml's cmds is this interpreter, and dvc is this dvc
ENV = os.environ | {
    "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    "DVC_NO_ANALYTICS": "1",
    "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
}
# A background job of a non-interactive shell (`pytest &`, `nohup pytest &`) starts with SIGINT ignored, and
# its children inherit that, so a Ctrl-C sent to them would do nothing. The tests that press Ctrl-C start
# their command through this, which gives it SIGINT's default, as a terminal's foreground command has it.
CTRL_C_DEFAULT = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                  "os.execvp(sys.argv[1], sys.argv[1:])")


def with_ctrl_c(cmd: list[str]) -> list[str]:
    """cmd, run with SIGINT's default action however this process treats it (exec keeps the default)."""
    return [sys.executable, "-c", CTRL_C_DEFAULT, *cmd]


# artifacts that `dvc repro` makes; a copy must start without them to prove it can make them
GENERATED = ("dvc.lock", "metrics", "plots", "data", "models")


def tiny_params() -> dict:
    """The repo's params.yaml shrunk so a whole pipeline runs in seconds."""
    params = load_params(ROOT / "params.yaml")  # as DVC reads it
    params["data"]["num_sequences"] = 200
    params["train"]["eval_every"] = 10
    params["evaluate"].update(num_sequences=50, lengths=[30, 60])
    params["retention"].update(num_sequences=8, max_distance=300)
    params["attractors"].update(num_starts=32, iters=100)
    for flavor in ("rnn", "lstm", "gru"):
        params["train"][flavor].update(hidden_size=8, steps=20)
    return params


DELETE = object()  # with_key's value that removes the key


def get_key(params: dict, dotted: str):
    """params["a"]["b"] for "a.b"."""
    for key in dotted.split("."):
        params = params[key]
    return params


def with_key(params: dict, dotted: str, value) -> dict:
    """A copy of params with "a.b" set to value (or removed, for DELETE)."""
    params = copy.deepcopy(params)
    *parents, last = dotted.split(".")
    node = get_key(params, ".".join(parents)) if parents else params
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
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
    # tracked files plus new ones git doesn't ignore: the tests see work in progress too
    ls = ["git", "ls-files", "--cached", "--others", "--exclude-standard"]
    files = subprocess.run(ls, cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for rel in files:
        if (rel.split("/")[0] in GENERATED and not rel.endswith(".gitignore")) or not (ROOT / rel).exists():
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest / rel)
    write_params(dest, tiny_params() if params is None else params)
    sh("git", "init", "-q", "-b", "main", cwd=dest)
    sh("git", "add", "-A", cwd=dest)
    sh("git", "commit", "-qm", "copy", cwd=dest)
    return dest
