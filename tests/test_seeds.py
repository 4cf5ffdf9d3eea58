"""scripts/seeds.py: a seed sweep's table from `dvc exp show --json`, as DVC writes it."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.helpers import ROOT


def _exp(name: str, seed: int, acc: float, half: int | None, error: dict | None = None, hidden: int = 32) -> dict:
    retention = {"false_alarm_at_max": 0.0, "latched_at_max": 1.0 if half is None else 0.0}
    if half is not None:  # DVC leaves a null metric out of its JSON altogether
        retention["half_life"] = half
    metrics = {"metrics/evaluate/lstm.json": {"data": {"lstm": {"accuracy_by_length": {"100": 1.0, "10000": acc}}}},
               "metrics/retention/lstm.json": {"data": {"lstm": retention}}}
    params = {"flavors": ["lstm"], "train": {"seed": seed, "lstm": {"hidden_size": hidden}},
              "evaluate": {"lengths": [100, 10000]},
              "retention": {"max_distance": 100000}}
    return {"revs": [{"rev": f"{seed:040d}", "name": name, "error": error,
                      "data": {"metrics": metrics, "params": {"params.yaml": {"data": params}}}}]}


def _table(show: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts/seeds.py")], input=json.dumps(show),
                          capture_output=True, text=True)


def test_a_sweep_becomes_a_row_per_seed_and_a_count_of_those_that_hold():
    show = [{"rev": "workspace", "experiments": None},
            {"rev": "abc", "experiments": [_exp("b", 1, 0.98, None), _exp("a", 0, 1.0, None), _exp("c", 2, 1.0, 2371),
                                           _exp("d", 3, 0.0, None, error={"msg": "failed"})]}]
    res = _table(show)
    assert res.returncode == 0, res.stderr
    rows = [line for line in res.stdout.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows[1:] == ["| a | 0 | 100.0% | > 100,000 |", "| b | 1 | 98.0% | > 100,000 |",
                        "| c | 2 | 100.0% | 2,371 |"]  # by seed; a null half-life is longer than followed
    assert "LSTM: 1 of 3 seeds hold (at least 99% at length 10,000, memory past 100,000 steps)" in res.stdout
    assert "failed, left out: d" in res.stdout


def test_anything_but_dvc_exp_show_json_is_refused_in_one_line():
    for text in ("not json", json.dumps({"rev": "x"}), json.dumps([{"experiments": [{"revs": [{}]}]}])):
        res = subprocess.run([sys.executable, str(ROOT / "scripts/seeds.py")], input=text, capture_output=True,
                             text=True)
        assert res.returncode == 1
        assert res.stderr.startswith("seeds: standard input is not `dvc exp show --json` output")
        assert res.stderr.count("\n") == 1


def test_experiments_that_differ_in_more_than_the_seed_are_counted_apart():
    # the listing: lstm-h8 (hidden 8, seed 0), then a two-seed sweep of the default model
    show = [{"rev": "abc", "experiments": [_exp("lstm-h8", 0, 1.0, 2371, hidden=8), _exp("sweep-0", 0, 1.0, None),
                                           _exp("sweep-1", 1, 1.0, None), _exp("again-0", 0, 1.0, None)]}]
    res = _table(show)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "3 of 3 seeds hold" not in out and "3 of 4" not in out
    parts = {part.split("\n", 1)[0]: part for part in out.split("### ")[1:]}
    h8, h32 = parts["train.lstm.hidden_size=8"], parts["train.lstm.hidden_size=32"]
    assert "| lstm-h8 | 0 |" in h8 and "LSTM: 0 of 1 seeds hold" in h8
    assert "LSTM: 2 of 2 seeds hold" in h32  # seeds 0 and 1; seed 0 ran twice and counts once
    assert "seed 0 ran 2 times (again-0, sweep-0): counted once" in h32
