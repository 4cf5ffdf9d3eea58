"""Where training runs: the CPU (pinned, the default), a GPU with torch's determinism settings, or the fastest."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from seqmem.core.config import ConfigError, TrainConfig
from seqmem.train import deterministic, resolve_device
from tests.helpers import ENV, ROOT


@pytest.mark.slow
def test_gpu_benchmark_runs_on_the_cpu_and_compares_within_tolerance():
    # the script a GPU machine runs from the repo (PYTHONPATH=.), here on tiny settings
    res = subprocess.run([sys.executable, "benchmarks/gpu.py", "--device", "cpu", "--steps", "20", "--hidden-size",
                          "8", "--quick"], cwd=ROOT, env=ENV | {"PYTHONPATH": "."}, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "RuntimeWarning" not in res.stderr  # seqmem before torch: the CPU reference is pinned
    for flavor in ("rnn", "lstm"):
        assert f"{flavor}: trained in " in res.stdout and " s on the CPU (" in res.stdout
        assert "metrics within tolerance of the CPU model's metrics, same recipe" in res.stdout


@pytest.mark.parametrize("device, backend", [("cuda", torch.cuda), ("mps", torch.backends.mps)])
def test_a_gpu_that_is_not_there_is_refused_by_name(device, backend):
    if backend.is_available():
        pytest.skip(f"this machine has {device}")
    with pytest.raises(ConfigError, match=f"device: is '{device}' but torch.*is_available\\(\\) is False; use 'cpu'"):
        TrainConfig(device=device)


def test_auto_takes_the_fastest_device_at_hand_and_the_cpu_needs_no_settings():
    want = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    assert resolve_device("auto").type == want
    before = torch.are_deterministic_algorithms_enabled()
    with deterministic(torch.device("cpu")):
        assert torch.are_deterministic_algorithms_enabled() == before
