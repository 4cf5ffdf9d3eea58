"""The pinned arithmetic: in force in every process that imports seqmem, and the same bits on every x86-64 AVX2 CPU."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from seqmem.core import numerics
from seqmem.optim import sqrt
from seqmem.train import train
from tests.helpers import ENV, ROOT

# sha256 of the weights after 40 steps of a fixed recipe under the pin; made on an Intel Xeon (AVX-512).
# The RNN's are the same under qemu's emulated AMD EPYC-Rome; the LSTM's can't be checked that way
# (docs/reproducibility.md). Any x86-64 CPU with AVX2 must compute these bits. If this fails on such
# a CPU, the pin leaks: `python scripts/fingerprint.py` finds the operation that differs.
GOLDEN = {
    "rnn": "333c22a521c40116cb5d4401d6b3803e745df8830af9feda26a1e56a724ec79b",
    "lstm": "c780e871652bb1b15c5b48ac80298d0abea075f27ff6bf989ff883c1ee47768b",
}


def _why_not_pinnable() -> str | None:
    return numerics.platform_reason() or "; ".join(numerics.unpinned()) or None


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


def test_adams_sqrt_is_correctly_rounded_for_floats_of_every_magnitude():
    # torch's own float32 sqrt is not (it refines the CPU's rsqrt estimate, which differs by vendor)
    bits = torch.randint(0, 0x7F800000, (200_000,), generator=torch.Generator().manual_seed(0), dtype=torch.int32)
    x = bits.view(torch.float32)  # (N,) positive finite floats, subnormals to 3e38
    # float64's IEEE sqrt rounded to float32 is the correctly rounded float32 sqrt (53 >= 2 * 24 + 2)
    exact = torch.from_numpy(np.sqrt(x.double().numpy()).astype(np.float32))
    assert torch.equal(sqrt(x), exact)
    assert torch.equal(sqrt(torch.zeros(3)), torch.zeros(3))


@pytest.mark.skipif(not numerics.X86_64, reason="the pin exists on x86-64 only")
def test_import_seqmem_pins_and_an_explicit_choice_wins():
    clean = {k: v for k, v in ENV.items() if k not in numerics.PIN}
    code = "import os, seqmem; print([os.environ[k] for k in sorted(seqmem.core.numerics.PIN)])"
    out = subprocess.run([sys.executable, "-c", code], env=clean, cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["['avx2',", "'COMPATIBLE',", "'AVX2']"]
    # torch imported first but nothing computed: its kernels are still unchosen, and seqmem pins them
    early = "import torch, seqmem; print(seqmem.core.numerics.unpinned(), torch.backends.cpu.get_cpu_capability())"
    out = subprocess.run([sys.executable, "-c", early], env=clean, cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]", "AVX2"]
    # something computed before seqmem came: ATen chose already, and seqmem says so (ATen's default stands in
    # for an AVX-512 choice, which this CPU may lack)
    late = ("import os, torch; os.environ['ATEN_CPU_CAPABILITY'] = 'default'; torch.ones(3).tanh(); "
            "del os.environ['ATEN_CPU_CAPABILITY']; import seqmem; print(seqmem.core.numerics.unpinned())")
    out = subprocess.run([sys.executable, "-c", late], env=clean, cwd=ROOT, capture_output=True, text=True, check=True)
    assert "torch computed before seqmem was imported" in out.stdout


@pytest.mark.skipif(not numerics.X86_64, reason="the pin exists on x86-64 only")
def test_train_warns_when_the_arithmetic_is_not_pinned(monkeypatch):
    monkeypatch.setitem(os.environ, "MKL_CBWR", "AUTO")
    with pytest.warns(RuntimeWarning, match=r"MKL_CBWR='AUTO' \(pinned: 'COMPATIBLE'\)"):
        train(torch.nn.RNN, steps=1, hidden_size=2, log=None)


@pytest.mark.slow
def test_fingerprint_finds_this_hosts_pinned_bits_in_every_committed_reference():
    why = _why_not_pinnable()
    if why and "torch computed before seqmem" not in why:
        pytest.skip(why)
    res = subprocess.run([sys.executable, str(ROOT / "scripts/fingerprint.py")], capture_output=True, text=True,
                         env=ENV, check=True)
    pinned = [line for line in res.stdout.splitlines() if line.startswith("pinned: this host")]
    assert len(pinned) == len(list((ROOT / "benchmarks/fingerprints").glob("*.jsonl"))) >= 2
    for line in pinned:  # torch's own sqrt may differ by vendor: seqmem's Adam does not use it
        assert line.endswith(": identical") or ": identical but for torch's sqrt: " in line, line


def test_off_x86_nothing_is_set_nothing_warns_and_the_mode_is_tolerance():
    # an aarch64 interpreter can't run here; what seqmem decides from the machine's name can
    code = ("import platform; platform.machine = lambda: 'aarch64'\n"
            "import os, warnings; warnings.simplefilter('error')\n"
            "import seqmem; from seqmem.core import numerics\n"
            "print(sorted(k for k in numerics.PIN if k in os.environ), numerics.unpinned(), numerics.exactness())\n"
            "numerics.warn_if_unpinned()")
    clean = {k: v for k, v in ENV.items() if k not in numerics.PIN}
    out = subprocess.run([sys.executable, "-c", code], env=clean, cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.startswith("[] [] (False, 'results match the committed ones within tolerance, not bit for bit: "
                                 "this is aarch64")
    assert out.stderr == ""
