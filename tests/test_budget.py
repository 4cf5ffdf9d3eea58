"""The rule: every params file that check_params accepts runs to the end, within the memory it promises.

For each cost in seqmem.budget, the largest value that check_params says fits is accepted and one
more is refused, naming the key; a slow test runs `dvc repro` at the edges and weighs the outputs.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from seqmem import budget
from stages import check_params
from tests.helpers import ENV, get_key, sh, tiny_params, with_key, write_params

EDGES = [  # (dotted key, a value far over its limit, how to set a value n: path, wrap)
    ("probe.sequence", 5000, lambda n: [1] * n),
    ("probe.positions", 490, lambda n: list(range(n))),  # on the longest probe sequence that fits
    ("train.rnn.steps", 10_000_000, int),
    ("train.lstm.hidden_size", 400, int),  # its readouts over the memory; its explorer page still fits
    ("data.num_sequences", 400_000_000, int),
    ("train.batch_size", 10_000_000, int),
    ("evaluate.num_sequences", 1_000_000, int),
    ("retention.num_sequences", 1_000_000, int),
]


# where a section's own check speaks first: the set of the longest length holds too many steps
# and where the validation set's size, which drives four stages, can bring a wide model's probe under
# (the key named, the key whose value the message gives)
NAMED = {"evaluate.num_sequences": ("evaluate.lengths[1]", "evaluate.num_sequences"),
         "train.lstm.hidden_size": ("data.num_sequences", "data.num_sequences")}


def _value(params: dict, dotted: str) -> int:
    node = get_key(params, dotted)
    return len(node) if isinstance(node, list) else node


def _check(params: dict, tmp_path, capsys) -> tuple[int, str]:
    write_params(tmp_path, params)
    try:
        check_params.cli(["--params", str(tmp_path / "params.yaml"), "--out", str(tmp_path / "ok")])
    except SystemExit as e:
        return e.code, capsys.readouterr().err
    return 0, capsys.readouterr().err


def _big_readouts() -> dict:
    params = tiny_params()
    params["data"].update(num_sequences=2_000, max_len=200)  # 0.4 M validation steps: readouts dominate
    params["probe"]["sequence"] = [1] * 100
    params["attractors"]["num_starts"] = 1  # a wide model's fixed-point search has its own test
    return params


@pytest.mark.parametrize("key, over, make", EDGES, ids=[e[0] for e in EDGES])
def test_the_largest_value_that_fits_passes_and_one_more_is_refused(key, over, make, tmp_path, capsys):
    base = _big_readouts() if key == "train.lstm.hidden_size" else tiny_params()
    if key == "probe.positions":
        base["probe"]["sequence"] = [1] * 496
    code, err = _check(with_key(base, key, make(over)), tmp_path, capsys)
    assert code == 2
    named = err.removeprefix("error (params): ").split(": ")[0]
    assert named == NAMED.get(key, (key,))[0], err
    assert err.count("\n") == 1, err
    fits, bigger = _fits(err), with_key(base, key, make(over))
    if key in NAMED and NAMED[key][1] != key:  # the message's value is for another key
        key, make = NAMED[key][1], int
    assert 0 < fits < _value(bigger, key)
    assert _check(with_key(bigger, key, make(fits)), tmp_path, capsys) == (0, "")  # what the message says fits, fits
    assert _check(with_key(bigger, key, make(fits + 1)), tmp_path, capsys)[0] == 2


def test_a_model_too_big_for_the_explorer_page_is_refused_naming_its_units(tmp_path, capsys):
    params = with_key(tiny_params(), "train.rnn.hidden_size", 2000)  # 4.0 M weights: 24 MB of page
    params["attractors"]["num_starts"] = 1  # its fixed-point search fits too: only the page is over
    code, err = _check(params, tmp_path, capsys)
    assert code == 2
    assert err.startswith("error (params): train.rnn.hidden_size: plots/explorer.html: about 23.1 MiB at 2,000 "
                          "units, over the 4.0 MiB allowed; at most "), err
    fits = _fits(err)
    assert _check(with_key(params, "train.rnn.hidden_size", fits), tmp_path, capsys) == (0, "")


def test_a_wide_lstms_fixed_point_search_is_refused_naming_its_starts(tmp_path, capsys):
    params = with_key(tiny_params(), "train.lstm.hidden_size", 256)
    params["attractors"]["num_starts"] = 128  # 1,280 float64 Jacobians of 512 x 512: about 11 GiB
    code, err = _check(params, tmp_path, capsys)
    assert code == 2
    assert err.startswith("error (params): attractors.num_starts: stage probe@lstm's fixed-point search: "), err
    fits = _fits(err)
    assert 0 < fits < 128
    assert _check(with_key(params, "attractors.num_starts", fits), tmp_path, capsys) == (0, "")
    assert _check(with_key(params, "attractors.num_starts", fits + 1), tmp_path, capsys)[0] == 2


def test_every_cost_of_the_committed_params_is_within_its_limit():
    from stages.common import load_params
    from tests.helpers import ROOT

    params = load_params(ROOT / "params.yaml")
    for cost in budget.costs(*_configs(params)):
        assert cost.cost(cost.value) <= cost.limit / 4, cost.what  # far from every edge


def _configs(params: dict) -> tuple:
    from seqmem.core.config import AttractorsConfig, DataConfig, EvalConfig, ProbeConfig, RetentionConfig, TrainConfig

    flavors = params["flavors"]
    return (flavors, DataConfig.from_dict(params["data"], "data"), TrainConfig.from_params(params["train"], flavors),
            EvalConfig.from_dict(params["evaluate"], "evaluate"),
            RetentionConfig.from_dict(params["retention"], "retention"),
            ProbeConfig.from_dict(params["probe"], "probe"),
            AttractorsConfig.from_dict(params["attractors"], "attractors"))


def _peak_child_mb() -> float:
    import resource  # POSIX only

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


@pytest.mark.slow
@pytest.mark.posix
def test_dvc_repro_at_the_edges_runs_to_the_end_within_its_promises(repo):
    params = tiny_params()
    for f in ("rnn", "lstm", "gru"):
        params["train"][f].update(hidden_size=4, steps=5)
    # the longest probe that fits (its staircase CSV at the bound), every position, the most units
    write_params(repo, params)
    probe_len = _largest(repo, params, "probe.sequence", lambda n: [3] * n)
    params["probe"].update(sequence=[3] * probe_len, positions=list(range(0, probe_len, 50))[:9], units=8)
    params["evaluate"].update(num_sequences=100, lengths=[500_000])  # 50 M steps: the most one set may hold
    params["retention"].update(num_sequences=499, max_distance=100_000)
    write_params(repo, params)
    res = subprocess.run(["bash", "-c", "dvc repro && python -c 'import resource; "
                          "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)'"],
                         cwd=repo, env=ENV, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert int(res.stdout.split()[-1]) * 1024 < budget.STAGE_MEMORY  # the largest stage's peak, resident
    tracked = sh("git", "ls-files", "--others", "--modified", "--exclude-standard", cwd=repo).stdout.split()
    sizes = {p: (repo / p).stat().st_size for p in tracked if (repo / p).is_file()}
    assert max(sizes.values()) <= budget.MAX_TRACKED, sizes
    assert sizes["plots/staircase/rnn.csv"] > budget.MAX_TRACKED * 0.9  # the edge was reached


def _largest(repo, params: dict, key: str, make) -> int:
    write_params(repo, with_key(params, key, make(100_000)))
    res = sh("python", "-m", "stages.check_params", "--out", "/dev/null", cwd=repo, check=False)
    return _fits(res.stderr)


def _fits(message: str) -> int:
    """The largest value a refusal says fits: its last "at most N"."""
    return int(re.findall(r"at most ([\d,]+)", message)[-1].replace(",", ""))


def test_json_of_the_committed_metrics_is_small():
    from tests.helpers import ROOT

    for path in (ROOT / "metrics").glob("*/*.json"):
        assert len(path.read_bytes()) < budget.MAX_TRACKED


def test_the_docs_state_the_limits_the_code_enforces():
    from seqmem.core.config import MAX_WEIGHTS, n_weights
    from tests.helpers import ROOT

    readme = (ROOT / "docs/robustness.md").read_text()
    largest = {f: max(h for h in range(1, 3000) if n_weights(f, h, 1) <= MAX_WEIGHTS) for f in ("rnn", "lstm")}
    assert f"at most {MAX_WEIGHTS:,}\nweights (hidden_size up to {largest['rnn']:,} for the RNN, " \
           f"{largest['lstm']:,} for the LSTM" in readme
    assert f"each stage peaks\nunder {budget.STAGE_MEMORY >> 30} GiB, each tracked CSV or JSON stays under " \
           f"{budget.MAX_TRACKED >> 20} MiB" in readme
