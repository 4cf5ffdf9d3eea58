"""decisions() through seqmem.kernels: forward()'s values, and bits that no batching, chunking or thread count moves."""

import shutil
import subprocess
import sys
from decimal import Context, Decimal
from pathlib import Path

import numpy as np
import pytest
import torch

import seqmem.inference as sm
from seqmem import kernels
from seqmem.kernels import _decision, _exp, _tanh
from seqmem.model import FLAVORS, SequenceClassifier
from tests.helpers import ENV, ROOT


def _model(flavor: str, num_layers: int) -> SequenceClassifier:
    torch.manual_seed(0)
    model = SequenceClassifier(FLAVORS[flavor], hidden_size=12, num_layers=num_layers)  # 12: not a multiple of 8
    with torch.no_grad():  # weights large enough to saturate: tanh's clamp and the gates' extremes are reached
        for p in model.parameters():
            p.mul_(3)
    return model


@pytest.mark.parametrize("num_layers", [1, 3])
@pytest.mark.parametrize("flavor", list(FLAVORS))
def test_decisions_are_forwards_probabilities_to_float32_rounding(flavor, num_layers):
    model = _model(flavor, num_layers)
    X = np.random.default_rng(0).integers(-1, 10, (37, 60, 1))  # (N, T, 1)
    with torch.no_grad():
        want = model(X)[1][..., 0].double().numpy()  # (N, T): training's torch forward
    got = sm.decisions(model, X)
    assert got.shape == want.shape and got.dtype == np.float64
    assert np.abs(got - want).max() < 2e-6


@pytest.mark.parametrize("flavor", list(FLAVORS))
def test_a_sequences_bits_depend_on_nothing_but_the_sequence(flavor, monkeypatch):
    model = _model(flavor, 2)
    X = np.random.default_rng(1).integers(-1, 10, (40, 300, 1))
    whole = sm.decisions(model, X)
    rows = [3, 17, 39]
    assert np.array_equal(sm.decisions(model, X[rows]), whole[rows])  # other batch-mates
    assert np.array_equal(sm.decisions(model, X[:38]), whole[:38])  # the last two alone, not in a group of four
    assert np.array_equal(sm.decisions(model, X, last=True), whole[:, -1])  # the last step alone
    assert np.array_equal(sm.decisions(model, X[::-1])[::-1], whole)  # another order
    for workers in (1, 3):  # the core count
        monkeypatch.setattr(kernels, "WORKERS", workers)
        assert np.array_equal(sm.decisions(model, X), whole)
    assert np.array_equal(sm.decisions(model, X.astype(np.float32)), whole)  # float32 digits, read as they are
    monkeypatch.setattr(sm, "CHUNK_FLOATS", 40 * 7)  # 7 steps a chunk: the state carried across 43 of them
    seen = []
    assert np.array_equal(sm.decisions(model, X, progress=seen.append), whole)
    assert seen[0] == 7 and seen[-1] == 300 and len(seen) == 43
    assert np.array_equal(sm.decisions(model, X, last=True), whole[:, -1])


def test_decisions_of_no_sequences_and_of_no_steps():
    model = _model("lstm", 1)
    assert sm.decisions(model, np.zeros((0, 5, 1), np.int64)).shape == (0, 5)
    assert sm.decisions(model, np.zeros((3, 0, 1), np.int64)).shape == (3, 0)
    assert sm.decisions(model, np.zeros((0, 5, 1), np.int64), last=True).shape == (0,)
    with pytest.raises(ValueError, match="no last decision"):
        sm.decisions(model, np.zeros((3, 0, 1), np.int64), last=True)


def test_kernel_tanh_is_within_a_few_float32_ulps_odd_and_bounded():
    x = np.concatenate([np.linspace(-20, 20, 400_001), [1e-30, 1e-8, 7.9, 7.91, 50, 1e30]]).astype(np.float32)
    got = np.array([_tanh(v) for v in x], np.float64)
    ref = np.tanh(x.astype(np.float64))
    ulp = np.spacing(np.abs(ref).astype(np.float32)).astype(np.float64)
    assert (np.abs(got - ref) <= 6 * ulp).all()  # float32's tanh kernels are not exact either (torch's: ~1 ulp)
    assert np.array_equal(got, -np.array([_tanh(v) for v in -x], np.float64))
    assert np.abs(got).max() == 1.0 and _tanh(np.float32(0)) == 0


def test_kernel_exp_and_decision_to_a_float64_ulp():
    y = np.linspace(-40, 709, 200_001)  # _exp's range: beyond it, sigmoid is 1.0 or 0.0 either way
    got = np.array([_exp(v) for v in y])
    assert (np.abs(got - np.exp(y)) <= np.spacing(np.exp(y))).all()
    z = np.linspace(-700, 700, 20_001)
    # the reference in 40-digit decimal: numpy's own exp is up to an ulp off, and by CPU (AVX2 vs AVX-512)
    ctx = Context(prec=40)
    want = np.array([float(ctx.divide(1, 1 + ctx.exp(Decimal(-v)))) for v in z.tolist()])
    assert (np.abs(np.array([_decision(v) for v in z]) - want) <= 2 * np.spacing(want)).all()
    assert _decision(0.0) == 0.5 and _decision(-800.0) == 0.0 and _decision(40.0) == _decision(3e38) == 1.0


def test_decisions_leave_torchs_thread_count_alone():
    # numba's parallel loops (its OpenMP layer) shared torch's libgomp and set it to numba's count:
    # an LSTM trained after a validation pass then ran on 2 threads, and its weights changed
    model = _model("lstm", 1)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        sm.decisions(model, np.zeros((64, 5, 1), np.int64))
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(threads)


def test_a_copy_of_the_repo_reuses_the_compiled_kernel(tmp_path):
    # a queued experiment runs in a fresh checkout: the compile (3-4 s) is shared, keyed by content
    copy = tmp_path / "elsewhere" / "seqmem"
    shutil.copytree(Path(kernels.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    code = ("import numpy as np, seqmem.kernels as k\n"
            "w = {'rnn.weight_ih_l0': np.ones((8, 1), np.float32), 'rnn.weight_hh_l0': np.eye(8, dtype=np.float32),"
            " 'rnn.bias_ih_l0': np.zeros(8, np.float32), 'rnn.bias_hh_l0': np.zeros(8, np.float32),"
            " 'head.0.weight': np.ones((1, 8), np.float32), 'head.0.bias': np.zeros(1, np.float32)}\n"
            "k.Kernel('rnn', w, 8, 1, 2).decisions(np.zeros((2, 3, 1), np.int64), 0, 3)\n"
            "print(k.__file__, k._run._cache._cache_path, sum(k._run.stats.cache_misses.values()))")
    runs = [subprocess.run([sys.executable, "-c", code], cwd=where, capture_output=True, text=True, check=True,
                           env=ENV).stdout.split() for where in (ROOT, copy.parent, copy.parent)]
    assert runs[1][0] == str(copy / "kernels.py")  # the copy's own file, not this repo's
    assert runs[0][1] == runs[1][1] == runs[2][1]  # one cache folder for both
    assert runs[2][2] == "0"  # and the copy compiled nothing the second time at the latest


def test_a_kernel_loaded_by_path_leaves_the_shared_cache_alone(tmp_path):
    # numba names a function loaded under another module name "<dynamic>"; an entry cached from it crashed
    # every later process that met it (ModuleNotFoundError: No module named '<dynamic>')
    code = ("import importlib.util, sys, numpy as np\n"
            "spec = importlib.util.spec_from_file_location('by_path', sys.argv[1])\n"
            "k = importlib.util.module_from_spec(spec); spec.loader.exec_module(k)\n"
            "w = {'rnn.weight_ih_l0': np.ones((8, 1), np.float32), 'rnn.weight_hh_l0': np.eye(8, dtype=np.float32),"
            " 'rnn.bias_ih_l0': np.zeros(8, np.float32), 'rnn.bias_hh_l0': np.zeros(8, np.float32),"
            " 'head.0.weight': np.ones((1, 8), np.float32), 'head.0.bias': np.zeros(1, np.float32)}\n"
            "print(k.Kernel('rnn', w, 8, 1, 2).decisions(np.zeros((2, 3, 1), np.int64), 0, 3).sum())")
    env = ENV | {"XDG_CACHE_HOME": str(tmp_path)}
    for _ in range(2):  # the second run would load what the first cached
        run = subprocess.run([sys.executable, "-c", code, kernels.__file__], capture_output=True, text=True, env=env)
        assert run.returncode == 0, run.stderr
        assert float(run.stdout) == 3.0  # six steps of P = 0.5
    assert not list(tmp_path.rglob("*.nbi"))
