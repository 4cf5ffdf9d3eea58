"""Input from outside, through the real commands: a set that contradicts itself, a broken cache, a full disk,
a model that is not the params' own, an environment that overrides the pin."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from seqmem.valset import ValSet, load_valset, save_valset
from tests.helpers import ENV, ROOT, sh, tiny_params, write_params


def _spoil_valset(repo: Path, spoil) -> None:
    vs = load_valset(repo / "data/val.npz")
    X, Y = vs.X.copy(), vs.Y.copy()
    spoil(X, Y, vs.lengths)
    save_valset(ValSet(X, vs.lengths, Y), repo / "data/val.npz")  # written as seqmem writes one: only its rows lie


def _flip_a_tenth(X: np.ndarray, Y: np.ndarray, lengths: np.ndarray) -> None:
    Y[::10] = 1 - Y[::10]  # rows 0, 10, 20...: the "10% of the labels flipped"


def _minus_one_in_the_padding(X: np.ndarray, Y: np.ndarray, lengths: np.ndarray) -> None:
    row = int(np.flatnonzero(lengths < X.shape[1])[3])
    X[row, -1, 0] = -1


@pytest.mark.parametrize("spoil, expect", [
    (_flip_a_tenth, "data/val.npz: row 0 (length {length}, label {label}) has "),
    (_minus_one_in_the_padding, "has padding after its length that is not 0"),
])
def test_a_validation_set_that_contradicts_itself_is_refused_naming_the_row(repo, spoil, expect):
    _spoil_valset(repo, spoil)
    vs = np.load(repo / "data/val.npz")
    expect = expect.format(length=vs["lengths"][0], label=vs["Y"][0, 0])
    res = sh("dvc", "repro", "-s", "evaluate@rnn", cwd=repo, check=False)
    assert res.returncode != 0
    line = next(ln for ln in res.stderr.splitlines() if ln.startswith("error (artifact): "))
    assert expect in line and "run `dvc repro -f -s generate` to make it anew" in line, line
    assert "accuracy" not in res.stdout  # nothing was scored


@pytest.mark.slow
def test_a_truncated_kernel_cache_is_rebuilt_not_a_crash(repro_repo, tmp_path):
    env = ENV | {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    probe = [str(Path(sys.executable).parent / "seqmem-probe"), "--model", str(repro_repo / "models/rnn.safetensors"),
             "1", "2", "-1", "4"]
    first = subprocess.run(probe, env=env, capture_output=True, text=True, check=True)  # compiles, and caches
    index = list((tmp_path / "cache/seqmem/numba").glob("*/*.nbi"))
    assert index
    for f in index:
        f.write_bytes(b"")  # what a crash while numba writes its index leaves
    again = subprocess.run(probe, env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert "the compiled-kernel cache" in again.stderr and "could not be read (EOFError" in again.stderr
    assert again.stdout == first.stdout
    third = subprocess.run(probe, env=env, capture_output=True, text=True, check=True)
    assert third.stderr == ""  # repaired for good


def _no_bigger_than(kb: int):
    def limit() -> None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (kb << 10, kb << 10))
    return limit


@pytest.mark.posix
def test_a_write_that_runs_out_of_room_names_the_users_path(tmp_path):
    write_params(tmp_path, tiny_params())
    out = tmp_path / "data" / "val.npz"
    res = subprocess.run([sys.executable, "-m", "stages.generate", "--out", str(out)], cwd=tmp_path,
                         env=ENV | {"PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                         preexec_fn=_no_bigger_than(4))
    assert res.returncode == 1
    assert res.stderr == f"error (os): {out}: File too large\n"  # the user's path, not the temp file's
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == []  # and nothing left behind


@pytest.mark.posix
def test_params_changed_while_training_leave_no_model(repo):
    params = tiny_params()
    params["train"]["rnn"]["steps"] = 400
    write_params(repo, params)
    before = (repo / "models/rnn.safetensors").read_bytes()
    # unbuffered, so each progress line arrives as training goes, not all at its end (a pipe buffers 8 KB)
    proc = subprocess.Popen(["dvc", "repro", "-s", "train@rnn"], cwd=repo, env=ENV | {"PYTHONUNBUFFERED": "1"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in proc.stdout:
        if " step " in line:  # training: now a second `dvc exp run -S` rewrites params.yaml under it
            params["train"]["rnn"]["hidden_size"] = 9
            write_params(repo, params)
            break
    _, err = proc.communicate(timeout=600)  # read on, or a full pipe would stall DVC
    assert proc.returncode != 0
    assert "params.yaml: changed while train@rnn ran, so no model was written" in err
    assert not (repo / "models/rnn.safetensors").exists() or (repo / "models/rnn.safetensors").read_bytes() == before


def test_check_repro_names_a_model_that_contradicts_params_and_never_says_commit(repo):
    # what two `dvc exp run`s at once left in the issue: dvc.lock and params.yaml say one thing, the model another
    text = (repo / "params.yaml").read_text()
    (repo / "params.yaml").write_text(text.replace("hidden_size: 8", "hidden_size: 9", 1))  # the rnn's
    sh("dvc", "commit", "-f", "train@rnn", cwd=repo)  # dvc.lock now records the new params beside the old model
    assert "Running stage 'train@rnn'" not in sh("dvc", "repro", "train@rnn", cwd=repo).stdout  # DVC can't see it
    res = sh(sys.executable, "scripts/check_repro.py", cwd=repo, check=False)
    assert res.returncode == 1
    assert ("models/rnn.safetensors was trained with other params than params.yaml's: train.rnn.hidden_size 8 "
            "(params.yaml: 9)") in res.stdout
    assert "This is not a result to commit" in res.stdout
    assert "run `dvc repro` and commit" not in res.stdout


def test_check_repro_names_the_variable_that_unpins_the_arithmetic(repo):
    res = subprocess.run([sys.executable, "scripts/check_repro.py"], cwd=repo, capture_output=True, text=True,
                         env=ENV | {"MKL_CBWR": "AUTO"})
    first = res.stdout.splitlines()[0]
    if "the pinned arithmetic exists on x86-64 only" in first or "Linux only" in first or "no AVX2" in first:
        pytest.skip(f"within tolerance here anyway: {first}")
    assert first.startswith("check_repro: within tolerance: the arithmetic is not pinned in this environment "
                            "(MKL_CBWR='AUTO' (pinned: 'COMPATIBLE'))")
    assert "unset those variables for the exact check" in first
    assert res.returncode == 0 and "and commit" not in res.stdout and "commit dvc.lock" not in res.stdout
