"""Faults injected into real processes: Ctrl-C and SIGKILL mid-training leave nothing half-written."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml

from seqmem.valset import make_valset, save_valset
from tests.helpers import ENV, ROOT, sh, tiny_params, with_ctrl_c, write_params


def _start_until_training(cmd: list[str], cwd: Path) -> subprocess.Popen:
    """Start cmd in its own process group and return once it prints its first progress line."""
    env = ENV | {"PYTHONPATH": str(ROOT)}  # stages/ is run from the repo, not installed
    proc = subprocess.Popen(with_ctrl_c(cmd), cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    for line in proc.stdout:
        if " step " in line:  # mid-training: weights exist in memory, none on disk
            return proc
    proc.wait()
    raise AssertionError(f"{cmd} ended before training: {proc.stderr.read()}")


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp") or p.suffix == ".safetensors")


@pytest.mark.posix
def test_ctrl_c_mid_training_exits_cleanly_and_writes_nothing(tmp_path):
    params = tiny_params()
    params["train"]["rnn"]["steps"] = 10_000_000
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    save_valset(make_valset(50, np.random.default_rng(0)), tmp_path / "val.npz")
    (tmp_path / "models").mkdir()
    proc = _start_until_training(["python", "-m", "stages.train", "--flavor", "rnn", "--val", "val.npz",
                                  "--model", "models/rnn.safetensors", "--loss", "models/l.csv",
                                  "--val-acc", "models/v.csv"],
                                 tmp_path)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert err.strip() == "interrupted: no output was written"
    assert list((tmp_path / "models").iterdir()) == []


@pytest.mark.slow
@pytest.mark.posix
def test_sigkill_mid_training_then_checkout_and_repro_restore_the_commit(repo):
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    rnn_md5 = next(o["md5"] for o in lock["stages"]["train@rnn"]["outs"] if o["path"] == "models/rnn.safetensors")
    lstm_before = (repo / "models/lstm.safetensors").read_bytes()
    params = tiny_params()
    params["train"]["rnn"]["steps"] = 200_000  # long enough to be killed mid-run, and within the loss CSV bound
    write_params(repo, params)

    proc = _start_until_training(["dvc", "repro", "train@rnn"], repo)
    os.killpg(proc.pid, signal.SIGKILL)  # dvc and the stage under it, with no chance to clean up
    proc.wait()
    assert _leftovers(repo / "models") == ["lstm.safetensors"]  # no partial rnn.safetensors, no temp file
    assert (repo / "models/lstm.safetensors").read_bytes() == lstm_before

    sh("git", "checkout", "params.yaml", cwd=repo)  # back to the committed params
    assert "train@rnn" in json.loads(sh("dvc", "status", "--json", cwd=repo).stdout)
    sh("dvc", "checkout", cwd=repo)  # the last good model, from the cache
    assert sh("md5sum", "models/rnn.safetensors", cwd=repo).stdout.split()[0] == rnn_md5
    sh("dvc", "repro", cwd=repo)  # re-makes the uncached CSVs, bit for bit
    assert sh("git", "status", "--porcelain", cwd=repo).stdout == ""  # dvc.lock and every file as committed
