"""scripts/check_repro.py passes on the committed state and catches each kind of drift."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from tests.helpers import ENV, sh, tiny_params, write_params


def check(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["python", "scripts/check_repro.py", *args], cwd=repo, env=ENV, capture_output=True,
                          text=True)


def forget_metrics(repo: Path) -> None:
    """Delete metrics.json and its cache copy."""
    md5 = hashlib.md5((repo / "metrics.json").read_bytes()).hexdigest()
    (repo / ".dvc/cache/files/md5" / md5[:2] / md5[2:]).unlink(missing_ok=True)
    (repo / "metrics.json").unlink()


def commit(repo: Path, message: str) -> None:
    sh("git", "commit", "-qam", message, cwd=repo)


def test_passes_on_the_committed_state(repo):
    res = check(repo)
    assert res.returncode == 0 and "OK: the committed results reproduce bit for bit" in res.stdout, res.stdout


def test_fails_on_a_param_changed_without_rerunning(repo):
    params = tiny_params()
    params["probe"]["units"] = 1
    write_params(repo, params)
    commit(repo, "fewer units, forgot dvc repro")
    res = check(repo)
    assert res.returncode == 1, res.stdout
    assert "stage probe: params probe modified (in params.yaml)" in res.stdout
    assert "dvc.lock" in res.stdout and "plots/hidden/lstm.csv" in res.stdout  # which files drifted


def test_fails_on_a_library_change(repo):
    path = repo / "seqmem/figures.py"
    path.write_text(path.read_text() + "\n# a harmless-looking edit\n")
    commit(repo, "edit the library, forgot dvc repro")
    res = check(repo)
    assert res.returncode == 1, res.stdout
    assert "stage figures: deps seqmem/figures.py modified" in res.stdout and "M dvc.lock" in res.stdout


def test_fails_on_a_hand_edited_metric_and_shows_the_table(repo):
    metrics = json.loads((repo / "metrics.json").read_text())
    true_acc = metrics["lstm"]["accuracy"]
    metrics["lstm"]["accuracy"] = 0.999
    (repo / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    commit(repo, "better numbers")
    res = check(repo)
    assert res.returncode == 1, res.stdout
    assert "stage evaluate: outs metrics.json modified" in res.stdout and "M metrics.json" in res.stdout
    assert "| metrics.json | lstm.accuracy | 0.999 |" in res.stdout and f"{true_acc}" in res.stdout
    # --tolerance forgives small metric differences, not a metric that no run produced
    sh("git", "checkout", "--", ".", cwd=repo)
    res = check(repo, "--tolerance")
    assert res.returncode == 1 and "stage evaluate: outs metrics.json modified" in res.stdout


def test_tolerance_mode_compares_metrics_not_bytes(repo):
    # results committed from another machine: metrics a little off, and dvc.lock records them
    metrics = json.loads((repo / "metrics.json").read_text())
    metrics["lstm"]["loss"] += 0.01
    (repo / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    sh("dvc", "commit", "-f", "evaluate", cwd=repo)
    commit(repo, "results from another machine")
    # as on a fresh clone: no metrics.json and none cached, so evaluate runs again with this machine's floats
    forget_metrics(repo)
    res = check(repo, "--tolerance")
    assert res.returncode == 0 and "within tolerances" in res.stdout, res.stdout
    sh("git", "checkout", "--", ".", cwd=repo)
    forget_metrics(repo)
    res = check(repo)
    assert res.returncode == 1 and "M metrics.json" in res.stdout  # not bit for bit
