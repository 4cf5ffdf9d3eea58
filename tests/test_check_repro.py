"""scripts/check_repro.py: both modes pass on an honest fresh clone and catch each kind of drift."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from seqmem.core.artifacts import read_metrics
from tests.helpers import ENV, ROOT, sh, tiny_params, write_params

spec = importlib.util.spec_from_file_location("check_repro", ROOT / "scripts/check_repro.py")
check_repro = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_repro)

MODES = [[], ["--tolerance"]]
OUTPUTS = {"data/val.npz", "models/rnn.safetensors", "models/lstm.safetensors", "metrics/evaluate/rnn.json",
           "plots/loss/rnn.csv"}

# `dvc status` as recorded in real repos (dict order and all), one per situation
FRESH_CLONE = {  # no cache: the models are retrained, so every downstream dep reads "modified"
    "generate": [{"changed outs": {"data/val.npz": "not in cache"}}],
    "train@rnn": [{"changed deps": {"data/val.npz": "deleted"}},
                  {"changed outs": {"models/rnn.safetensors": "not in cache"}}],
    "evaluate@rnn": [{"changed deps": {"data/val.npz": "deleted", "models/rnn.safetensors": "modified"}}],
}
PARAM_CHANGED = {"probe@rnn": [{"changed deps": {"params.yaml": {"probe": "modified"}}}]}
CODE_CHANGED = {"figures": [{"changed deps": {"seqmem/figures.py": "modified"}}]}
METRIC_EDITED = {"evaluate@rnn": [{"changed outs": {"metrics/evaluate/rnn.json": "modified"}}]}
PLOT_EDITED = {"train@rnn": [{"changed outs": {"plots/loss/rnn.csv": "modified"}}],
               "figures": [{"changed deps": {"plots/loss": "modified"}}]}


def test_a_fresh_clone_is_not_stale():
    assert check_repro.stale_reasons(FRESH_CLONE, OUTPUTS) == []


@pytest.mark.parametrize("status, reason", [
    (PARAM_CHANGED, "stage probe@rnn: params probe modified (in params.yaml)"),
    (CODE_CHANGED, "stage figures: deps seqmem/figures.py modified"),
    (METRIC_EDITED, "stage evaluate@rnn: outs metrics/evaluate/rnn.json modified (edited by hand?)"),
    (PLOT_EDITED, "stage train@rnn: outs plots/loss/rnn.csv modified (edited by hand?)"),
])
def test_staleness_is_code_params_or_a_hand_edit(status, reason):
    # the same rule in both modes: the mode decides only how the reproduced results are compared
    assert [r.strip() for r in check_repro.stale_reasons(status, OUTPUTS)] == [reason]


def test_tolerances_per_metric_and_family():
    tol = {"lstm.loss": 0.05, "lstm.accuracy_by_length.200": 0.0005, "lstm.accuracy_by_length.1000": 0.4}
    assert check_repro.tolerance("lstm.loss", tol) == 0.05
    assert check_repro.tolerance("lstm.accuracy_by_length.60", tol) == 0.4  # unmeasured length: the family's widest
    assert check_repro.tolerance("lstm.recall", tol) == 0.0  # unmeasured: exact
    diff = {"metrics/evaluate/lstm.json": {"lstm.loss": {"old": 0.01, "new": 0.04},
                                           "lstm.accuracy_by_length.200": {"old": 1.0, "new": 0.99}}}
    (bad,) = check_repro.out_of_tolerance(diff, tol)
    assert "lstm.accuracy_by_length.200 1.0 -> 0.99 (tolerance 0.0005)" in bad


def test_committed_tolerances_cover_every_committed_metric():
    tol = json.loads((ROOT / "benchmarks/tolerances.json").read_text())
    for name in ("metrics/evaluate", "metrics/readout"):
        metrics = check_repro.flatten(read_metrics(ROOT / name))
        assert set(metrics) <= set(tol), f"{name}: no measured tolerance for {sorted(set(metrics) - set(tol))}"


def check(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["python", "scripts/check_repro.py", *args], cwd=repo, env=ENV, capture_output=True,
                          text=True)


def as_fresh_clone(repo: Path) -> None:
    """What a clone has: git's files, no DVC cache, no cached outputs."""
    for rel in ("models", "data", ".dvc/cache", ".dvc/tmp"):
        shutil.rmtree(repo / rel, ignore_errors=True)


def commit(repo: Path, message: str) -> None:
    sh("git", "commit", "-qam", message, cwd=repo)


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES, ids=["exact", "tolerance"])
def test_passes_on_an_honest_fresh_clone(repo, mode):
    as_fresh_clone(repo)
    res = check(repo, *mode)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "OK: the committed results reproduce" in res.stdout, res.stdout + res.stderr
    assert "train@rnn" in res.stdout  # the models were retrained, to the same bits


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES, ids=["exact", "tolerance"])
def test_fails_on_a_param_changed_without_rerunning(repo, mode):
    params = tiny_params()
    params["probe"]["units"] = 1
    write_params(repo, params)
    commit(repo, "fewer units, forgot dvc repro")
    res = check(repo, *mode)
    assert res.returncode == 1, res.stdout
    assert "stage probe@rnn: params probe modified (in params.yaml)" in res.stdout


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES, ids=["exact", "tolerance"])
def test_fails_on_a_hand_edited_plot_file(repo, mode):
    path = repo / "plots/traces/rnn.csv"
    path.write_text(path.read_text().replace(",0.", ",0.9", 1))
    commit(repo, "nicer trace")
    res = check(repo, *mode)
    assert res.returncode == 1, res.stdout
    assert "stage probe@rnn: outs plots/traces/rnn.csv modified (edited by hand?)" in res.stdout


@pytest.mark.slow
def test_fails_on_a_stage_left_in_dvc_lock_after_dvc_yaml_dropped_it(repo):
    lock = (repo / "dvc.lock").read_text()
    gone = lock.split("  probe@rnn:", 1)[1].split("\n  probe@lstm:", 1)[0].replace("probe@rnn", "attractors@rnn")
    (repo / "dvc.lock").write_text(lock + "  attractors@rnn:" + gone + "\n")  # as a removed stage leaves it
    commit(repo, "a stage removed from dvc.yaml, its lock entry kept")
    res = check(repo)
    assert res.returncode == 1, res.stdout
    assert "dvc.lock holds stages that dvc.yaml no longer defines: attractors@rnn" in res.stdout


@pytest.mark.slow
def test_fails_on_a_hand_edited_metric_and_shows_the_table(repo):
    path = repo / "metrics/evaluate/lstm.json"
    metrics = json.loads(path.read_text())
    true_acc = metrics["lstm"]["accuracy"]
    metrics["lstm"]["accuracy"] = 0.999
    path.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    commit(repo, "better numbers")
    res = check(repo)
    assert res.returncode == 1, res.stdout
    assert "stage evaluate@lstm: outs metrics/evaluate/lstm.json modified" in res.stdout
    assert f"| metrics/evaluate/lstm.json | lstm.accuracy | 0.999 | {true_acc} |" in res.stdout


@pytest.mark.slow
def test_a_corrupt_cache_object_is_found_and_the_documented_repair_works(repo):
    lock = check_repro.lock_of(repo / "dvc.lock")
    md5 = next(o["md5"] for o in lock["stages"]["train@rnn"]["outs"] if o["path"] == "models/rnn.safetensors")
    obj = repo / ".dvc/cache/files/md5" / md5[:2] / md5[2:]
    stat = obj.stat()
    obj.chmod(0o644)
    data = bytearray(obj.read_bytes())
    data[-200:-136] = bytes(64)  # 64 bytes flipped inside the cache object, its size and mtime kept
    obj.write_bytes(bytes(data))
    os.utime(obj, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    (repo / "models/rnn.safetensors").unlink()
    sh("dvc", "checkout", cwd=repo)  # DVC restores the corrupt bytes
    bad = check_repro.disk_mismatches(lock, repo)
    assert [b.split(":")[0].strip() for b in bad] == ["models/rnn.safetensors", str(obj.relative_to(repo))]
    # docs/reproducibility.md#repairing-the-dvc-cache: delete what check_repro names, then dvc repro
    obj.unlink()
    (repo / "models/rnn.safetensors").unlink()
    sh("dvc", "repro", cwd=repo)
    assert check_repro.disk_mismatches(lock, repo) == []
    res = check(repo)
    assert res.returncode == 0, res.stdout
    assert "bit for bit" in res.stdout, res.stdout
