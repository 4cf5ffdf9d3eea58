"""Every stage through its real entry point (cli), on tiny params: good runs and bad params."""

from __future__ import annotations

import csv
import dataclasses
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from seqmem.checkpoint import read_checkpoint
from seqmem.core.artifacts import read_metrics
from stages import evaluate, figures, generate, probe, train
from stages.common import load_section
from tests.crafted_checkpoints import respell
from tests.helpers import DELETE, ENV, ROOT, tiny_params, with_key


def _cli(stage, params: dict, tmp: Path, *args: str) -> None:
    path = tmp / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    stage.cli(["--params", str(path), *args])


STAGES = {"generate": generate, "train": train, "evaluate": evaluate, "probe": probe, "figures": figures}
FIGURES = ("loss", "traces", "staircase", "hidden", "retention")


def stage_args(stage: str, src: Path, dst: Path, flavor: str = "rnn") -> list[str]:
    """A stage's arguments, laid out as dvc.yaml lays them out: inputs under src, outputs under dst."""
    val, model = str(src / "data/val.npz"), str(src / f"models/{flavor}.safetensors")
    return {
        "generate": ["--out", str(dst / "data/val.npz")],
        "train": ["--flavor", flavor, "--val", val, "--model", str(dst / f"models/{flavor}.safetensors"),
                  "--loss", str(dst / f"loss/{flavor}.csv"), "--val-acc", str(dst / f"val_acc/{flavor}.csv")],
        "evaluate": ["--flavor", flavor, "--val", val, "--model", model,
                     "--out", str(dst / f"metrics/evaluate/{flavor}.json"),
                     "--length-curve", str(dst / f"length/{flavor}.csv"),
                     "--retention", str(dst / f"metrics/retention/{flavor}.json"),
                     "--retention-curve", str(dst / f"retention/{flavor}.csv")],
        "probe": ["--flavor", flavor, "--val", val, "--model", model, "--traces", str(dst / f"traces/{flavor}.csv"),
                  "--staircase", str(dst / f"staircase/{flavor}.csv"), "--hidden", str(dst / f"hidden/{flavor}.csv"),
                  "--readout", str(dst / f"metrics/readout/{flavor}.json"),
                  "--points", str(dst / f"fixed_points/{flavor}.csv"),
                  "--trajectories", str(dst / f"trajectories/{flavor}.csv"),
                  "--attractors", str(dst / f"metrics/attractors/{flavor}.json"),
                  "--plane", str(dst / f"plane/{flavor}.json")],
        "figures": [arg for name in FIGURES for arg in (f"--{name}", str(src / name), f"--{name}-png",
                                                        str(dst / f"{name}.png"))]
        + ["--fixed-points", str(src / "fixed_points"), "--trajectories", str(src / "trajectories"),
           "--attractors-png", str(dst / "attractors.png"), "--val-acc", str(src / "val_acc"),
           "--length", str(src / "length"), "--charts", str(dst / "charts")],
    }[stage]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> Path:
    """Run the whole chain once, stage by stage, in a temp folder."""
    tmp, params = tmp_path_factory.mktemp("stages"), tiny_params()
    for stage in STAGES:
        for flavor in params["flavors"] if stage not in ("generate", "figures") else ["rnn"]:
            _cli(STAGES[stage], params, tmp, *stage_args(stage, tmp, tmp, flavor))
    return tmp


def _rows(path: Path) -> list[dict]:
    with open(path) as f:
        return list(csv.DictReader(f))


def test_train_writes_checkpoint_and_histories(outputs):
    for flavor in ("rnn", "lstm"):
        ckpt = read_checkpoint(outputs / f"models/{flavor}.safetensors")
        assert dataclasses.asdict(ckpt.config) == {"flavor": flavor, "hidden_size": 8, "num_layers": 1}
        assert ckpt.train[flavor]["steps"] == 20 and ckpt.train["eval_every"] == 10  # what it was trained from
        loss = _rows(outputs / f"loss/{flavor}.csv")
        assert [int(r["step"]) for r in loss] == list(range(1, 21))
        assert [int(r["step"]) for r in _rows(outputs / f"val_acc/{flavor}.csv")] == [10, 20]


def test_evaluate_writes_metrics_per_model(outputs):
    metrics = read_metrics(outputs / "metrics/evaluate")
    assert set(metrics) == {"rnn", "lstm"}
    for m in metrics.values():
        assert {"accuracy", "loss", "accuracy_negatives", "recall_early", "recall_middle", "recall_late"} <= set(m)
        assert 0 <= m["accuracy"] <= 1
        assert m["loss"] > 0


def test_evaluate_and_seqmem_probe_never_import_torch(outputs, tmp_path):
    """They only infer: seqmem.checkpoint reads the model and seqmem.kernels runs it, saving 1-2 s a process."""
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(tiny_params(), sort_keys=False))
    args = ["--params", str(params), *stage_args("evaluate", outputs, tmp_path, "lstm")]
    code = (f"import sys; from stages import evaluate; evaluate.cli({args!r}); from seqmem import cli; "
            f"cli.main(['--model', {str(outputs / 'models/lstm.safetensors')!r}, '1', '-1', '2']); "
            "print('modules:', sorted(m for m in sys.modules if m.split('.')[0] == 'torch'))")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=ENV, capture_output=True, text=True, check=True)
    assert "lstm from " in res.stdout  # seqmem-probe ran
    assert read_metrics(tmp_path / "metrics/evaluate")["lstm"] == read_metrics(outputs / "metrics/evaluate")["lstm"]
    assert res.stdout.splitlines()[-1] == "modules: []"


def test_probe_writes_a_trace_per_probe_and_step(outputs):
    rows = _rows(outputs / "traces/lstm.csv")
    probes = list(dict.fromkeys(r["probe"] for r in rows))
    assert probes == ["no -1", "-1 at 0", "-1 at 4", "-1 at 8"]
    assert len(rows) == 4 * 9
    assert [r["step"] for r in rows if r["token"] == "-1"] == ["0", "4", "8"]


def test_probe_writes_the_staircase_and_hidden_trajectories(outputs):
    stair = _rows(outputs / "staircase/rnn.csv")
    assert {(int(r["position"]), int(r["step"])) for r in stair} == {(i, t) for i in range(9) for t in range(9)}
    hidden = _rows(outputs / "hidden/lstm.csv")
    assert {r["probe"] for r in hidden} == {"no -1", "-1 at 4"}
    assert len({r["unit"] for r in hidden}) == 4  # the top 2 units of h and of the cell state c
    assert read_metrics(outputs / "metrics/readout")["lstm"]["linear_readout_c"] > 0.5


def test_evaluate_writes_the_length_curve(outputs):
    rows = _rows(outputs / "length/rnn.csv") + _rows(outputs / "length/lstm.csv")
    assert {(r["model"], int(r["length"])) for r in rows} >= {("rnn", 30), ("lstm", 60), ("lstm", 10)}


def test_figures_are_pngs(outputs):
    for name in ("loss.png", "traces.png", "staircase.png", "hidden.png", "attractors.png"):
        assert (outputs / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


BAD = [  # (stage, dotted key to set, bad value, text the message must hold)
    ("generate", "data.seed", "0", "data.seed"),
    ("generate", "data.num_sequences", 2.0, "data.num_sequences"),
    ("generate", "data.num_sequences", True, "data.num_sequences"),
    ("generate", "data.num_sequences", 0, "data.num_sequences"),
    ("generate", "data.min_len", -3, "data.min_len"),
    ("generate", "data.max_len", DELETE, "data.max_len"),
    ("generate", "data.num_sequencess", 10, "data.num_sequencess"),
    ("generate", "data.min_len", 30, "data.min_len"),
    ("generate", "data.p_minus_one", 1.5, "data.p_minus_one"),
    ("generate", "data", DELETE, "data"),
    ("train", "train.seed", -1, "train.seed"),
    ("train", "train.batch_size", 0, "train.batch_size"),
    ("train", "train.min_len", 40, "train.min_len"),
    ("train", "train.max_len", "25", "train.max_len"),
    ("train", "train.p_minus_one", -0.5, "train.p_minus_one"),
    ("train", "train.eval_every", 0, "train.eval_every"),
    ("train", "train.threads", 0, "train.threads"),
    ("train", "train.device", "tpu", "train.device"),
    ("train", "train.rnn.hidden_size", 0, "train.rnn.hidden_size"),
    ("train", "train.rnn.hiden_size", 3, "train.rnn.hiden_size"),
    ("train", "train.rnn.num_layers", 1.5, "train.rnn.num_layers"),
    ("train", "train.rnn.loss_mode", "final", "train.rnn.loss_mode"),
    ("train", "train.rnn.lr", 0, "train.rnn.lr"),
    ("train", "train.rnn.lr", float("inf"), "train.rnn.lr"),
    ("train", "train.rnn.steps", -5, "train.rnn.steps"),
    ("train", "train.rnn.lr", 10**30, "train.rnn.lr: must be between -2**63 and 2**63 - 1, got 1" + "0" * 30),
    ("train", "train.rnn.loss_mode", "x" * 10_000, "xx... (10,002 characters)"),  # named, not pasted whole
    ("train", "train.rnn", DELETE, "train.rnn"),
    ("probe", "probe.positions", [9], "probe.positions[0]"),
    ("probe", "probe.sequence", [], "probe.sequence"),
    ("probe", "probe.sequence", [1, -1, 3], "probe.sequence[1]"),
    ("probe", "probe.colour", "red", "probe.colour"),
    ("probe", "probe.units", 0, "probe.units"),
    ("probe", "attractors.num_starts", 0, "attractors.num_starts"),
    ("probe", "attractors.iters", 10**9, "attractors.iters"),
    ("probe", "attractors.q_tol", "tiny", "attractors.q_tol"),
    ("probe", "attractors.merge_tol", float("nan"), "attractors.merge_tol"),
    ("probe", "attractors.drift_steps", -1, "attractors.drift_steps"),
    ("probe", "attractors.newtons", 5, "attractors.newtons"),
    ("probe", "attractors", DELETE, "attractors"),
    ("evaluate", "retention.max_distance", 5, "retention.max_distance"),
    ("evaluate", "evaluate.lengths", [50, 0], "evaluate.lengths[1]"),
    ("evaluate", "evaluate.lengths", 50, "evaluate.lengths"),
    ("evaluate", "evaluate.num_sequences", 0, "evaluate.num_sequences"),
    ("evaluate", "evaluate.ignore_first", -1, "evaluate.ignore_first"),
    ("evaluate", "evaluate.seed", 1.0, "evaluate.seed"),
    ("figures", "flavors", ["rnn", "transformer"], "flavors[1]"),
    ("figures", "flavors", "rnn", "flavors"),
]
if not torch.cuda.is_available():
    BAD.append(("train", "train.device", "cuda", "train.device"))


@pytest.mark.parametrize("stage, key, value, expect", BAD,
                         ids=[f"{k}={'<deleted>' if v is DELETE else repr(v)}" for _, k, v, _ in BAD])
def test_bad_param_stops_the_stage_naming_the_key(stage, key, value, expect, tmp_path, capsys):
    out = tmp_path / "out"
    args, module = stage_args(stage, out, out), STAGES[stage]
    for arg in args:  # outputs from an earlier run, which a failed run must leave alone
        if arg.startswith(str(out)) and Path(arg).suffix:
            Path(arg).parent.mkdir(parents=True, exist_ok=True)
            Path(arg).write_bytes(b"earlier run")
    before = {p: p.read_bytes() if p.is_file() else "folder" for p in out.rglob("*")}
    with pytest.raises(SystemExit) as exit_info:
        _cli(module, with_key(tiny_params(), key, value), tmp_path, *args)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.startswith("error (params): "), err
    assert expect in err, err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    # nothing created, nothing modified
    assert {p: p.read_bytes() if p.is_file() else "folder" for p in out.rglob("*")} == before


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:200])


def _resize(path: Path) -> None:
    respell(path, '"hidden_size":8', '"hidden_size":16')  # "hidden size changed by hand", config and params


def _wrong_shape(path: Path) -> None:
    np.savez(path, X=np.zeros((4, 5), dtype=np.int64), lengths=np.full(4, 5), Y=np.zeros((4, 1), dtype=np.int64))


def _wrong_dtype(path: Path) -> None:
    np.savez(path, X=np.zeros((4, 5, 1)), lengths=np.full(4, 5), Y=np.zeros((4, 1), dtype=np.int64))


def _png(path: Path) -> None:
    shutil.copy(Path(__file__).parents[1] / "docs/explorer.png", path)  # a PNG no stage rewrites meanwhile


def _drop_column(path: Path) -> None:
    path.write_text("step,nope\n1,2\n")


CORRUPT = [  # (stage, file to spoil, how, text the message must hold)
    ("evaluate", "models/rnn.safetensors", _truncate, "models/rnn.safetensors: not a seqmem checkpoint"),
    ("probe", "models/lstm.safetensors", _resize, "models/lstm.safetensors: weights do not match config"),
    ("evaluate", "models/lstm.safetensors", lambda p: p.unlink(), "models/lstm.safetensors: no such model file"),
    ("evaluate", "data/val.npz", _wrong_shape, "X must be int64 of shape (N, T, 1)"),
    ("probe", "data/val.npz", _wrong_dtype, "X must be int64 of shape (N, T, 1), got float64"),
    ("train", "data/val.npz", _png, "data/val.npz: not a seqmem validation set"),
    ("train", "data/val.npz", _truncate, "data/val.npz: not a seqmem validation set"),
    ("evaluate", "models/rnn.safetensors", _png, "models/rnn.safetensors: not a seqmem checkpoint"),
    ("figures", "loss/rnn.csv", _drop_column, "expected a non-empty CSV with columns ['step', 'loss']"),
    ("figures", "traces/lstm.csv", lambda p: p.write_bytes(b"\xff\xfe\x00"), "traces/lstm.csv"),
]


@pytest.mark.parametrize("stage, spoiled, spoil, expect", CORRUPT, ids=[f"{s}:{f}" for s, f, _, _ in CORRUPT])
def test_corrupt_or_foreign_input_is_a_clear_error(stage, spoiled, spoil, expect, outputs, tmp_path, capsys):
    work = Path(shutil.copytree(outputs, tmp_path / "w"))
    spoil(work / spoiled)
    new = tmp_path / "new"
    args, module = stage_args(stage, work, new, "lstm" if "lstm" in spoiled else "rnn"), STAGES[stage]
    with pytest.raises(SystemExit) as exit_info:
        _cli(module, tiny_params(), tmp_path, *args)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    assert err.startswith("error (artifact): "), err
    assert expect in err, err
    assert err.count("\n") == 1
    assert "\x1b" not in err
    assert "Traceback" not in err
    assert not new.exists()


def test_debug_shows_the_traceback(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SEQMEM_DEBUG", "1")
    with pytest.raises(SystemExit):
        _cli(generate, with_key(tiny_params(), "data.num_sequences", -1), tmp_path, "--out", str(tmp_path / "v.npz"))
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert "ConfigError" in err
    assert err.rstrip().endswith("must be >= 1, got -1")


def test_a_section_for_an_unused_flavor_may_be_left_out(outputs, tmp_path):
    params = with_key(tiny_params(), "train.gru", DELETE)
    _cli(train, params, tmp_path, *stage_args("train", outputs, tmp_path))
    assert (tmp_path / "models/rnn.safetensors").exists()


def test_params_read_exponents_as_dvc_does(tmp_path):
    # YAML 1.1 (PyYAML) reads `1e-3` as text; DVC reads params as YAML 1.2, where it is a number
    (tmp_path / "params.yaml").write_text("train:\n  lr: 1e-3\n  big: 2E+5\n  name: 1e-3x\n")
    assert load_section(str(tmp_path / "params.yaml"), "train") == {"lr": 0.001, "big": 200000.0, "name": "1e-3x"}
