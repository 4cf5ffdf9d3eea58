"""The real thing: `dvc repro`, `dvc exp run -S`, `dvc plots diff` in a temporary git repo."""

from __future__ import annotations

import ast
import csv
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from seqmem.core.artifacts import read_metrics
from tests.helpers import ROOT, sh, tiny_params, write_params

STAGE_OUTPUTS = [
    "data/val.npz", "models/rnn.safetensors", "models/lstm.safetensors", "metrics/evaluate/rnn.json",
    "metrics/evaluate/lstm.json",
    "plots/loss/rnn.csv", "plots/loss/lstm.csv", "plots/val_acc/rnn.csv", "plots/val_acc/lstm.csv",
    "plots/traces/rnn.csv", "plots/traces/lstm.csv", "plots/loss.png", "plots/traces.png",
    "plots/length/rnn.csv", "metrics/readout/lstm.json", "plots/staircase/lstm.csv", "plots/hidden/rnn.csv",
    "plots/staircase.png", "plots/hidden.png", "metrics/attractors/rnn.json", "plots/fixed_points/lstm.csv",
    "plots/trajectories/rnn.csv", "plots/attractors.png",
]


def test_repro_makes_every_output_and_a_second_repro_runs_nothing(repo):
    for rel in STAGE_OUTPUTS:
        assert (repo / rel).stat().st_size > 0, rel
    again = sh("dvc", "repro", cwd=repo).stdout
    assert "Running stage" not in again
    assert "Data and pipelines are up to date" in again
    assert sh("git", "status", "--porcelain", cwd=repo).stdout == ""  # outputs committed or ignored
    metrics = json.loads(sh("dvc", "metrics", "show", "--json", cwd=repo).stdout)
    assert "rnn" in json.dumps(metrics)
    assert "lstm" in json.dumps(metrics)


def test_repro_measures_memory_and_length_generalization(repro_repo):
    metrics = read_metrics(repro_repo / "metrics/evaluate")
    for flavor in ("rnn", "lstm"):
        m = metrics[flavor]
        assert {"mean_lag", "lag0_share", "latch_rate", "false_alarm_rate"} <= set(m)
        assert set(m["accuracy_by_length"]) == {"30", "60"}
        assert len(m["recall_by_position"]) == 10
    for flavor in ("rnn", "lstm"):
        with open(repro_repo / f"plots/length/{flavor}.csv") as f:
            curve = list(csv.DictReader(f))
        assert {r["model"] for r in curve} == {flavor}
        assert {int(r["length"]) for r in curve} == set(range(10, 26)) | {30, 60}
    probe = read_metrics(repro_repo / "metrics/readout")
    assert set(probe["lstm"]) == {"linear_readout_h", "linear_readout_c"}
    assert set(probe["rnn"]) == {"linear_readout_h"}
    with open(repro_repo / "plots/staircase/rnn.csv") as f:
        assert len(list(csv.DictReader(f))) == 9 * 9  # the -1 at each of 9 positions, 9 steps each


def _changed_stages(repo: Path) -> set[str]:
    return set(json.loads(sh("dvc", "status", "--json", cwd=repo).stdout))


def test_a_param_of_one_flavor_reruns_only_that_flavor(repo):
    params = tiny_params()
    params["train"]["lstm"]["steps"] = 25
    write_params(repo, params)
    changed = _changed_stages(repo)
    assert "train@lstm" in changed
    assert "train@rnn" not in changed
    assert "generate" not in changed
    params["train"]["batch_size"] = 32  # shared: both flavors
    write_params(repo, params)
    assert {"train@rnn", "train@lstm"} <= _changed_stages(repo)


@pytest.mark.slow
def test_an_experiment_on_one_flavor_runs_no_stage_of_the_other(repo):
    out = sh("dvc", "exp", "run", "-S", "train.rnn.hidden_size=6", cwd=repo).stdout
    ran = re.findall(r"Running stage '([^']+)'", out)
    assert {"train@rnn", "evaluate@rnn", "probe@rnn", "figures"} <= set(ran)
    assert [s for s in ran if s.endswith("@lstm")] == []


def test_adding_gru_to_flavors_adds_its_stage_without_code(repo):
    params = tiny_params()
    params["flavors"] = ["rnn", "lstm", "gru"]
    write_params(repo, params)
    stages = sh("dvc", "stage", "list", "--name-only", cwd=repo).stdout.split()
    assert {"train@rnn", "train@lstm", "train@gru"} <= set(stages)
    out = sh("dvc", "repro", "train@gru", cwd=repo).stdout
    assert "Running stage 'train@gru'" in out
    assert "Running stage 'train@rnn'" not in out
    assert (repo / "models/gru.safetensors").exists()


@pytest.mark.slow
def test_exp_run_then_plots_diff_shows_both_runs(repo):
    out = sh("dvc", "exp", "run", "-S", "probe.units=1", cwd=repo).stdout
    assert "Running stage 'probe@lstm'" in out
    assert "Running stage 'evaluate@lstm'" not in out
    # -S rewrites params.yaml; the file's layout must survive it, so the change is one line
    assert sh("git", "diff", "--numstat", "HEAD", "params.yaml", cwd=repo).stdout.split()[:2] == ["1", "1"]
    exps = json.loads(sh("dvc", "exp", "show", "--json", cwd=repo).stdout)
    names = [e["name"] for rev in exps for e in (rev.get("experiments") or []) for e in e["revs"]]
    assert len(names) == 1
    sh("dvc", "plots", "diff", "HEAD", names[0], "-o", "diff_html", cwd=repo)
    html = (repo / "diff_html/index.html").read_text()
    assert "HEAD" in html
    assert names[0] in html
    data = json.loads(sh("dvc", "plots", "diff", "HEAD", names[0], "--json", "--split", cwd=repo).stdout)
    for plot in ("loss", "val_acc", "traces", "length", "plots/hidden.png"):
        if plot.endswith(".png"):  # images: one entry per revision, side by side
            assert {d["revisions"][0] for d in data["data"][plot]} == {"HEAD", names[0]}
            continue
        (spec,) = data["data"][plot]
        rows = spec["anchor_definitions"]["<DVC_METRIC_DATA>"]
        assert set(spec["revisions"]) == {r["rev"] for r in rows} == {"HEAD", names[0]}, plot
    shutil.rmtree(repo / "diff_html")  # the page this test wrote, not the experiment's
    # the README's way back to the committed results, word for word
    back = next(line.split("#")[0].strip() for line in (ROOT / "README.md").read_text().splitlines()
                if line.endswith("# back to the committed results"))
    assert sh("bash", "-c", back, cwd=repo).returncode == 0
    assert sh("git", "status", "--porcelain", cwd=repo).stdout == ""
    assert json.loads(sh("dvc", "status", "--json", cwd=repo).stdout) == {}


def _local_imports(module: str, seen: set[str]) -> set[str]:
    """Files of this repo that importing `module` loads: its packages' __init__ too, recursively."""
    parts = module.split(".")
    for i in range(1, len(parts)):  # importing a.b.c runs a/__init__.py and a/b/__init__.py first
        _local_imports(".".join(parts[:i]), seen)
    path = ROOT / (module.replace(".", "/") + ".py")
    if not path.exists():
        path = ROOT / module.replace(".", "/") / "__init__.py"
    if not path.exists() or str(path.relative_to(ROOT)) in seen:
        return seen
    seen.add(str(path.relative_to(ROOT)))
    tree = ast.parse(path.read_text())
    guarded = [b for b in ast.walk(tree) if isinstance(b, ast.If) and ast.unparse(b.test) == "TYPE_CHECKING"]
    hints = {id(n) for b in guarded for n in ast.walk(b)}  # imported for type hints only: never run, never a dep
    for node in (n for n in ast.walk(tree) if id(n) not in hints):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            if name.split(".")[0] in ("seqmem", "stages"):
                _local_imports(name, seen)
    return seen


def test_every_stage_declares_the_modules_it_imports():
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        stage = stage.get("do", stage)
        module = stage["cmd"].split("python -m ")[1].split()[0]
        imported = _local_imports(module, set())
        folders = {d for d in stage["deps"] if (ROOT / d).is_dir() and (ROOT / d / "__init__.py").exists()}
        # a module inside a declared package folder is declared by the folder
        covered = {f for f in imported if not any(f.startswith(f"{d}/") for d in folders)}
        declared = {d for d in stage["deps"] if d.endswith(".py")}
        assert covered == declared, f"stage {name}: imports {sorted(covered)}, declares {sorted(declared)}"
        unused = [d for d in folders if not any(f.startswith(f"{d}/") for f in imported)]
        assert not unused, f"stage {name} declares {unused} but imports nothing from it"


def test_bytecode_caches_do_not_make_the_plumbing_folder_stale(repo):
    cache = repo / "seqmem/core/__pycache__"  # what any import writes, unless PYTHONDONTWRITEBYTECODE is set
    cache.mkdir(exist_ok=True)
    (cache / "config.cpython-311.pyc").write_bytes(b"bytecode")
    assert json.loads(sh("dvc", "status", "--json", cwd=repo).stdout) == {}
