"""Sweeps with DVC's experiment queue, and sharing results through a DVC remote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import sh

pytestmark = pytest.mark.slow  # every test here is a long end-to-end run

def _experiments(repo: Path) -> dict[str, dict]:
    """name -> {error, metrics, params} of every experiment `dvc exp show` lists."""
    out = {}
    for rev in json.loads(sh("dvc", "exp", "show", "--json", cwd=repo).stdout):
        for exp in rev.get("experiments") or []:
            for r in exp["revs"]:
                data = r["data"]
                out[r["name"]] = {"error": r["error"], "metrics": data["metrics"],
                                  "params": data["params"]["params.yaml"]["data"]}
    return out


def test_queued_sweep_runs_both_values_and_plots_diff_compares_them(repo):
    # a cheap param to sweep keeps the test fast; `train.lstm.hidden_size=16,32` works the same way
    sh("dvc", "exp", "run", "--queue", "-S", "probe.units=1,3", cwd=repo)
    sh("dvc", "exp", "run", "--run-all", "-j", "2", cwd=repo)  # queued runs see only what git and DVC track
    exps = _experiments(repo)
    assert sorted(e["params"]["probe"]["units"] for e in exps.values()) == [1, 3]
    for e in exps.values():
        assert e["error"] is None and e["metrics"]["probe.json"]["data"]["lstm"]["linear_readout_c"] > 0
    names = sorted(exps)
    data = json.loads(sh("dvc", "plots", "diff", *names, "--json", "--split", cwd=repo).stdout)["data"]
    (spec,) = data["plots/traces/lstm.csv"]
    assert set(spec["revisions"]) == set(names)


def test_push_then_pull_in_a_fresh_clone_skips_retraining(repo, tmp_path):
    sh("dvc", "remote", "add", "-d", "shared", str(tmp_path / "remote"), cwd=repo)
    sh("dvc", "push", cwd=repo)
    sh("git", "commit", "-qam", "add a DVC remote", cwd=repo)
    clone = tmp_path / "teammate"
    sh("git", "clone", "-q", str(repo), str(clone), cwd=tmp_path)
    assert not (clone / "models/lstm.pt").exists()
    sh("dvc", "pull", cwd=clone)
    for rel in ("data/val.npz", "models/rnn.pt", "models/lstm.pt"):
        assert (clone / rel).read_bytes() == (repo / rel).read_bytes()
    assert json.loads(sh("dvc", "status", "--json", cwd=clone).stdout) == {}
    assert "Running stage" not in sh("dvc", "repro", cwd=clone).stdout  # nothing to retrain
