"""The pinned arithmetic: in force in every process that imports seqmem, and the same bits on every x86-64 AVX2 CPU."""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from seqmem.core import numerics
from seqmem.train import train
from tests.helpers import ENV, ROOT

# sha256 of the weights after 40 steps of a fixed recipe under the pin; made on an AMD EPYC (AVX2).
# Any x86-64 CPU with AVX2 must compute these bits. If this fails on such a CPU, the pin leaks:
# `python scripts/fingerprint.py` finds the operation that differs (docs/reproducibility.md).
GOLDEN = {
    "rnn": "f49b9d476e6a281fc629bd591df53d0c04ae59e470fefe5c2b3f614a1965a4a1",
    "lstm": "d5a21a54c2c65b76083b9dfbfbdbb2c4d43571fd6c907f409288db12fb40bb43",
}


def _why_not_pinnable() -> str | None:
    if platform.machine() not in ("x86_64", "AMD64"):
        return f"the pin covers x86-64 CPUs with AVX2; this is {platform.machine()}"
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    if " avx2" not in flags:
        return "this CPU has no AVX2, so its kernels can't match the pinned AVX2 ones"
    return "; ".join(numerics.unpinned()) or None


def weights_hash(model: torch.nn.Module) -> str:
    return hashlib.sha256(b"".join(t.contiguous().numpy().tobytes() for t in model.state_dict().values())).hexdigest()


@pytest.mark.parametrize("flavor", list(GOLDEN))
def test_pinned_training_gives_the_golden_bits(flavor):
    why = _why_not_pinnable()
    if why:
        pytest.skip(f"cross-machine exactness can't be checked here: {why}")
    recipe = dict(steps=40, hidden_size=8, lr=0.02, max_grad_norm=1.0, seed=0, batch_size=64)  # fixed: not the defaults
    model, _ = train({"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM}[flavor], log=None, **recipe)
    assert weights_hash(model) == GOLDEN[flavor]


def test_import_seqmem_pins_and_an_explicit_choice_wins():
    clean = {k: v for k, v in ENV.items() if k not in numerics.PIN}
    code = "import os, seqmem; print([os.environ[k] for k in sorted(seqmem.core.numerics.PIN)])"
    out = subprocess.run([sys.executable, "-c", code], env=clean, cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["['avx2',", "'COMPATIBLE',", "'AVX2']"]
    late = "import torch, seqmem; print(seqmem.core.numerics.unpinned())"
    out = subprocess.run([sys.executable, "-c", late], env=clean, cwd=ROOT, capture_output=True, text=True, check=True)
    assert "torch was imported before seqmem" in out.stdout


def test_train_warns_when_the_arithmetic_is_not_pinned(monkeypatch):
    monkeypatch.setitem(os.environ, "MKL_CBWR", "AUTO")
    with pytest.warns(RuntimeWarning, match=r"MKL_CBWR='AUTO' \(pinned: 'COMPATIBLE'\)"):
        train(torch.nn.RNN, steps=1, hidden_size=2, log=None)


@pytest.mark.slow
def test_fingerprint_finds_this_hosts_pinned_bits_in_every_committed_reference():
    why = _why_not_pinnable()
    if why and "torch was imported" not in why:
        pytest.skip(why)
    res = subprocess.run([sys.executable, str(ROOT / "scripts/fingerprint.py")], capture_output=True, text=True,
                         env=ENV, check=True)
    pinned = [line for line in res.stdout.splitlines() if line.startswith("pinned: this host")]
    assert len(pinned) == len(list((ROOT / "benchmarks/fingerprints").glob("*.jsonl"))) >= 2
    for line in pinned:
        assert line.endswith(": identical"), line
