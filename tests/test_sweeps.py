"""Sweeps with DVC's experiment queue, and sharing results through a DVC remote."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.helpers import ENV, ROOT, sh, tiny_params, write_params

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


def doc_block(page: str, heading: str | None = None) -> list[str]:
    """The commands of the first bash block of docs/<page> (under `## heading`, if given), comments stripped."""
    section = (ROOT / "docs" / page).read_text()
    if heading:
        section = section.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def test_the_documented_comparison_commands_run_as_written(repo):
    params = tiny_params()
    params["train"]["rnn"]["hidden_size"] = 6  # committed: docs/experiments.md's experiment sets 8
    write_params(repo, params)
    sh("dvc", "repro", cwd=repo)
    sh("git", "commit", "-qam", "rnn hidden 6", cwd=repo)
    for cmd in doc_block("experiments.md", "Change params, compare runs"):
        res = subprocess.run(["bash", "-c", cmd], cwd=repo, env=ENV, capture_output=True, text=True)
        assert res.returncode == 0, f"{cmd}\n{res.stdout}\n{res.stderr}"
    assert "rnn-h8" in _experiments(repo)
    outputs = {}
    for cmd in doc_block("experiments.md", "Sweeps with the experiment queue"):
        res = subprocess.run(["bash", "-c", cmd], cwd=repo, env=ENV, capture_output=True, text=True)
        assert res.returncode == 0, f"{cmd}\n{res.stdout}\n{res.stderr}"
        outputs[cmd] = res.stdout
    exps = {n: e for n, e in _experiments(repo).items() if n != "rnn-h8"}
    assert sorted(e["params"]["train"]["lstm"]["hidden_size"] for e in exps.values()) == [8, 64]
    for e in exps.values():  # queued runs see only what git and DVC track, and started from the commit
        assert e["error"] is None
        assert e["params"]["train"]["rnn"]["hidden_size"] == 6
    table = next(out for cmd, out in outputs.items() if cmd.startswith("dvc exp show"))
    assert "train.lstm.hidden_size" in table
    assert "probe.units" not in table
    page = (repo / "dvc_plots/index.html").read_text()
    assert all(name in page for name in exps)


def test_push_then_pull_in_a_fresh_clone_skips_retraining(repo, tmp_path):
    sh("dvc", "remote", "add", "-d", "shared", str(tmp_path / "remote"), cwd=repo)
    sh("dvc", "push", cwd=repo)
    sh("git", "commit", "-qam", "add a DVC remote", cwd=repo)
    clone = tmp_path / "teammate"
    sh("git", "clone", "-q", str(repo), str(clone), cwd=tmp_path)
    assert not (clone / "models/lstm.safetensors").exists()
    sh("dvc", "pull", cwd=clone)
    for rel in ("data/val.npz", "models/rnn.safetensors", "models/lstm.safetensors"):
        assert (clone / rel).read_bytes() == (repo / rel).read_bytes()
    assert json.loads(sh("dvc", "status", "--json", cwd=clone).stdout) == {}
    assert "Running stage" not in sh("dvc", "repro", cwd=clone).stdout  # nothing to retrain


def test_the_readme_memory_study_runs_as_written(repo):
    for cmd in doc_block("memory.md"):
        res = subprocess.run(["bash", "-c", cmd], cwd=repo, env=ENV, capture_output=True, text=True)
        assert res.returncode == 0, f"{cmd}\n{res.stdout}\n{res.stderr}"
    exps = _experiments(repo)
    assert {"lstm-exercise", "lstm-penalty"} <= set(exps)
    for name, penalty in (("lstm-exercise", 0), ("lstm-penalty", 1)):
        assert exps[name]["error"] is None
        assert "metrics/retention/lstm.json" in exps[name]["metrics"]
        assert exps[name]["params"]["train"]["lstm"]["forget_penalty"] == penalty
    assert (repo / "dvc_plots/index.html").exists()


def _run_block(lines: list[str], cwd: Path, env: dict | None = None) -> str:
    """A doc block's commands as one bash script (so a `cd` carries on), failing at the first error."""
    res = subprocess.run(["bash", "-euc", "\n".join(lines)], cwd=cwd, env=env or ENV, capture_output=True, text=True)
    assert res.returncode == 0, f"{lines}\n{res.stdout}\n{res.stderr}"
    return res.stdout


def _seed_rows(table: str) -> dict[str, int]:
    """experiment name -> train.seed, from scripts/seeds.py's table."""
    rows = [line.split(" | ") for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    return {cells[0].lstrip("| "): int(cells[1]) for cells in rows[1:]}


def test_the_documented_seed_sweep_runs_as_written(repo):
    block = [cmd.replace("range(0,20)", "range(0,3)") for cmd in doc_block("experiments.md", "A seed sweep: how "
                                                                               "often does the recipe hold?")]
    assert any("range(0,3)" in cmd for cmd in block)  # the sweep, made small
    table = _run_block(block, repo)
    seeds = _seed_rows(table)
    assert sorted(seeds.values()) == [0, 1, 2]
    assert set(seeds) == {n for n, e in _experiments(repo).items() if e["error"] is None}
    assert "LSTM: " in table
    assert " of 3 seeds hold" in table


def test_two_runners_share_a_sweep_and_a_reader_sees_all_of_it(repo, tmp_path):
    once = doc_block("experiments.md", "Once: the two remotes")
    runner = doc_block("experiments.md", "Each runner: a slice of the seeds")
    reader = doc_block("experiments.md", "The reader: every runner's experiments in one place")
    env = ENV | {"SHARED": str(tmp_path / "shared")}
    _run_block([line for line in once if not line.startswith("export SHARED=")], repo, env)
    work = tmp_path / "machines"
    work.mkdir()
    for name, seeds in (("runner-a", "range(0,2)"), ("runner-b", "range(2,4)")):
        _run_block([cmd.replace("runner-a", name).replace("range(0,10)", seeds) for cmd in runner], work, env)
    table = _run_block(reader, work, env)
    seeds = _seed_rows(table)
    assert sorted(seeds.values()) == [0, 1, 2, 3]  # both runners' slices, in the third clone
    page = (work / "reader/dvc_plots/index.html").read_text()
    assert all(name in page for name in seeds)
    # the models came through the DVC remote: an experiment checks out whole, with nothing to re-run
    sh("dvc", "exp", "apply", min(seeds, key=seeds.get), cwd=work / "reader")
    assert (work / "reader/models/lstm.safetensors").exists()
    assert json.loads(sh("dvc", "status", "--json", cwd=work / "reader").stdout) == {}
