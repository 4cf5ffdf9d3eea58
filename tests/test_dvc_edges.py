"""DVC's sharp edges, met the way users meet them: through `dvc repro` and `dvc exp run`."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pytest
from dvc.repo import Repo
from dvc.stage.cache import _can_hash, _get_stage_hash
from ruamel.yaml import YAML

from seqmem.core.artifacts import write_text
from tests.helpers import get_key, sh, tiny_params, with_key, write_params


def leaves(node: object, path: str = "") -> list[str]:
    """Dotted paths of every scalar or list in params: what a user can change."""
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in leaves(v, f"{path}.{k}" if path else k)]
    return [path]


def changed(value: object) -> object:
    """Another value of the same kind (valid or not: only the run-cache key is looked at)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, list)):
        raise AssertionError(f"no rule to change {value!r}")
    if isinstance(value, list):
        return [*value, value[-1] if value else 1]
    return value + 1 if isinstance(value, (int, float)) else value + "x"


def run_cache_keys(repo: Repo) -> dict[str, str]:
    keys = {}
    for stage in repo.index.stages:
        for dep in stage.deps:
            if type(dep).__name__ == "ParamsDependency":
                dep.save()  # re-read params.yaml
        if _can_hash(stage):
            keys[stage.addressing] = _get_stage_hash(stage)
    return keys


def test_every_param_changes_the_run_cache_key_of_the_stages_that_read_it(repo, monkeypatch):
    """DVC's run cache ignores keys named `size` or `nfiles` (treeverse/dvc#10296): then a changed param
    restores stale outputs. No param of ours may be invisible to it, now or when one is added."""
    monkeypatch.chdir(repo)  # DVC's Repo resolves some paths against the working directory
    params = tiny_params()
    dvc = Repo(str(repo))
    declared = {s.addressing: [p for d in s.deps if type(d).__name__ == "ParamsDependency" for p in d.params]
                for s in dvc.index.stages}
    before = run_cache_keys(dvc)
    for key in leaves(params):
        write_params(repo, with_key(params, key, changed(get_key(params, key))))
        after = run_cache_keys(dvc)
        readers = {s for s, ps in declared.items() if s in before and any(key == p or key.startswith(f"{p}.")
                                                                          for p in ps)}
        assert {s for s in before if after[s] != before[s]} == readers, key


def tracked_bytes(repo: Path) -> dict[str, str]:
    """md5 of every output and the params file: what a refusal must leave as it was."""
    files = [p for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts and ".dvc" not in p.parts]
    return {str(p.relative_to(repo)): hashlib.md5(p.read_bytes()).hexdigest() for p in files}


BAD = [  # (key, value, the one line the user gets)
    ("flavors", [], "flavors: must be a non-empty list"),
    ("evaluate.lengths", [0], "evaluate.lengths[0]: must be >= 1, got 0"),
    ("data.num_sequences", 10**9, "data.num_sequences: the stages that hold the validation set: about"),
    ("probe.sequence", [1] * 4000,
     "probe.sequence: plots/staircase/<flavor>.csv: about 289.9 MiB at 4,000 steps, over the 4.0 MiB allowed; "
     "at most 496 steps fit"),
    ("evaluate.lengths", [10**7], "evaluate.lengths[0]: 50 sequences of up to 10,000,000 steps"),
    ("train.batch_size", 10**7, "train.batch_size: 10,000,000 sequences"),
    ("train.rnn.lr", 1e300, "train.rnn.lr: must be <= 1e+38"),
    ("colour", "red", "colour: unknown section in params.yaml"),
]


@pytest.mark.parametrize("key, value, message", BAD, ids=[f"{k}={v!r}"[:40] for k, v, _ in BAD])
def test_bad_params_through_dvc_repro_stop_first_and_lose_nothing(repo, key, value, message):
    write_params(repo, with_key(tiny_params(), key, value))
    before = tracked_bytes(repo)
    res = sh("dvc", "repro", cwd=repo, check=False)
    assert res.returncode != 0, res.stdout + res.stderr
    assert f"error (params): {message}" in res.stderr, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    assert "Running stage 'check_params'" in res.stdout
    assert res.stdout.count("Running stage") == 1  # nothing after the check ran, so nothing was deleted
    assert tracked_bytes(repo) == before


def test_exp_run_with_a_bad_value_loses_nothing_and_one_command_restores_params(repo):
    before = tracked_bytes(repo)
    res = sh("dvc", "exp", "run", "-S", "train.rnn.lr=-1", cwd=repo, check=False)
    assert res.returncode != 0
    assert "error (params): train.rnn.lr: must be > 0.0, got -1" in res.stderr
    after = tracked_bytes(repo)
    assert {k for k in before if after.get(k) != before[k]} == {"params.yaml"}  # DVC wrote the bad value there
    sh("git", "checkout", "--", "params.yaml", cwd=repo)  # docs/robustness.md: a refused param
    assert tracked_bytes(repo) == before
    assert "up to date" in sh("dvc", "status", cwd=repo).stdout


@pytest.mark.slow
def test_a_diverging_run_stops_with_one_line_and_dvc_checkout_restores(repo):
    # at the default width (tiny params have 8), lr 1e30 turns the loss into NaN at step 3
    res = sh("dvc", "exp", "run", "-S", "train.rnn.lr=1e30", "-S", "train.rnn.hidden_size=32", cwd=repo, check=False)
    assert res.returncode != 0, res.stdout
    assert "error (params): train.rnn.lr: training diverged: the loss is nan at step" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (repo / "models/rnn.safetensors").exists()
    assert "Running stage 'evaluate@rnn'" not in res.stdout  # so no NaN reached its metrics
    # docs/robustness.md, "When a run fails": back to the committed state
    sh("git", "checkout", "--", ".", cwd=repo)
    sh("dvc", "checkout", cwd=repo)
    assert "up to date" in sh("dvc", "status", cwd=repo).stdout
    assert sh("git", "status", "--porcelain", cwd=repo).stdout == ""


@pytest.mark.slow
def test_no_positive_in_the_validation_set_still_evaluates(repo):
    params = tiny_params()
    params["data"]["p_minus_one"] = 0
    write_params(repo, params)
    sh("dvc", "repro", "--single-item", "generate", cwd=repo)  # the models stay: evaluate is what crashed
    res = sh("dvc", "repro", "--single-item", "evaluate@rnn", cwd=repo)
    assert "recall" not in res.stderr
    assert "lag0 n/a" in res.stdout
    metrics = json.loads((repo / "metrics/evaluate/rnn.json").read_text())  # strict JSON: no NaN
    assert metrics["rnn"]["recall"] is None
    assert metrics["rnn"]["accuracy_negatives"] is not None


def test_temp_files_of_a_killed_write_are_ignored_then_cleaned_and_outputs_follow_the_umask(repo):
    # what a SIGKILL mid-write leaves: a temp beside a file output and one inside a folder output
    stale = [repo / "plots/.loss.png.k1ll3d.tmp", repo / "plots/traces/.rnn.csv.k1ll3d.tmp"]
    for path in stale:
        path.write_bytes(b"half a file")
    assert "up to date" in sh("dvc", "status", cwd=repo).stdout  # .dvcignore: part of no output's hash
    assert sh("git", "status", "--porcelain", cwd=repo).stdout == ""  # .gitignore
    for path in stale:  # the next write of the file removes its stale temps
        target = path.with_name(path.name.split(".")[1] + "." + path.name.split(".")[2])
        write_text(target.read_text(errors="replace") if target.suffix == ".csv" else "x", target)
        assert not path.exists()
        assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~0o022  # pytest runs with umask 022, as users do


@pytest.mark.slow
def test_an_output_path_that_is_a_folder_gives_one_line(repo):
    out = repo / "metrics/evaluate/rnn.json"
    out.unlink()
    out.mkdir()
    res = sh("python", "-m", "stages.evaluate", "--flavor", "rnn", "--val", "data/val.npz", "--model",
             "models/rnn.safetensors", "--out",
             "metrics/evaluate/rnn.json", "--length-curve", "plots/length/rnn.csv", "--retention",
             "metrics/retention/rnn.json", "--retention-curve", "plots/retention/rnn.csv", cwd=repo, check=False)
    assert res.returncode == 1
    assert res.stderr.startswith("error (os): ")
    assert "metrics/evaluate/rnn.json" in res.stderr
    assert res.stderr.count("\n") == 1
    assert "Traceback" not in res.stderr
    assert not list(out.iterdir())  # no temp file left


def test_every_stage_waits_for_the_params_check(repro_repo):
    lock = YAML(typ="safe").load((repro_repo / "dvc.lock").read_text())
    assert set(lock["stages"]) > {"check_params"}
    for name, stage in lock["stages"].items():
        if name != "check_params" and stage.get("params"):  # every stage that reads params
            assert "data/params.ok" in [d["path"] for d in stage["deps"]], name
