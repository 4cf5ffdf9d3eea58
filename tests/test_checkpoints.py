"""A checkpoint is input from outside: crafted or damaged ones are refused before a weight is read."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from seqmem.checkpoint import MAX_CHECKPOINT_BYTES, Checkpoint, check_provenance, read_checkpoint, write_checkpoint
from seqmem.core.artifacts import ArtifactError
from seqmem.core.config import ModelConfig
from seqmem.inference import decisions
from seqmem.model import SequenceClassifier, load_checkpoint, save_checkpoint
from tests.crafted_checkpoints import CRAFTED, HUGE, TRAIN, doc, file, weights
from tests.helpers import ENV, sh


@pytest.mark.parametrize("data, expect", [c[1:] for c in CRAFTED], ids=[c[0] for c in CRAFTED])
def test_a_crafted_checkpoint_is_refused_in_one_line_naming_the_problem(data, expect, tmp_path):
    (tmp_path / "m.safetensors").write_bytes(data)
    with pytest.raises(ArtifactError, match="m.safetensors") as e:
        read_checkpoint(tmp_path / "m.safetensors")
    assert expect in str(e.value)
    assert "\n" not in str(e.value)


def test_a_well_formed_file_of_the_crafting_kind_reads(tmp_path):
    (tmp_path / "m.safetensors").write_bytes(file())  # so the crafted ones fail for their one flaw
    ckpt = read_checkpoint(tmp_path / "m.safetensors")
    assert ckpt.train == TRAIN and ckpt.config == ModelConfig.from_dict({"flavor": "lstm", "hidden_size": 4,
                                                                         "num_layers": 1}, "config")
    for k, v in weights().items():
        assert np.array_equal(ckpt.state_dict[k], v) and ckpt.state_dict[k].flags.writeable, k


def test_huge_files_and_folders_are_refused_before_they_are_read(tmp_path):
    big = tmp_path / "big.safetensors"
    with open(big, "wb") as f:
        f.truncate(MAX_CHECKPOINT_BYTES + 1)  # sparse: no disk used
    with pytest.raises(ArtifactError, match="bytes; a seqmem checkpoint is at most"):
        read_checkpoint(big)
    with pytest.raises(ArtifactError, match="not a file"):
        read_checkpoint(tmp_path)
    with pytest.raises(ArtifactError, match="no such model file; run `dvc repro` to train it"):
        read_checkpoint(tmp_path / "none.safetensors")


@pytest.mark.parametrize("cls, layers", [(torch.nn.RNN, 2), (torch.nn.LSTM, 1), (torch.nn.GRU, 3)])
def test_what_save_checkpoint_writes_reads_back_as_the_same_weights_and_decisions(cls, layers, tmp_path):
    model = SequenceClassifier(cls, hidden_size=6, num_layers=layers)
    save_checkpoint(model, tmp_path / "m.safetensors")
    read = read_checkpoint(tmp_path / "m.safetensors")
    assert read.config == ModelConfig.from_dict(model.config(), "config") and read.train is None
    assert list(read.state_dict) == list(model.state_dict())
    for k, v in model.state_dict().items():
        assert read.state_dict[k].dtype == np.float32 and np.array_equal(read.state_dict[k], v.numpy()), k
    X = np.random.default_rng(0).integers(-1, 10, (9, 30, 1))
    assert np.array_equal(decisions(read, X), decisions(model, X))  # the same bits, from file or from memory
    back = load_checkpoint(tmp_path / "m.safetensors")
    assert torch.equal(back(X)[1], model(X)[1])


def test_the_same_model_gives_the_same_bytes_whatever_order_its_weights_come_in(tmp_path):
    state = weights()
    cfg = ModelConfig.from_dict({"flavor": "lstm", "hidden_size": 4, "num_layers": 1}, "config")
    write_checkpoint(Checkpoint(cfg, state, TRAIN), tmp_path / "a.safetensors")
    backwards = {k: state[k] for k in reversed(list(state))}
    shuffled_train = json.loads(json.dumps(TRAIN), object_pairs_hook=lambda p: dict(reversed(p)))
    write_checkpoint(Checkpoint(cfg, backwards, shuffled_train), tmp_path / "b.safetensors")
    assert (tmp_path / "a.safetensors").read_bytes() == (tmp_path / "b.safetensors").read_bytes()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left


def test_a_non_contiguous_array_is_saved_as_its_values(tmp_path):
    # safetensors 0.8.0 writes a non-contiguous array's memory order, not its values (#825)
    state = weights()
    state["rnn.weight_hh_l0"] = np.asfortranarray(state["rnn.weight_hh_l0"])
    state["rnn.weight_ih_l0"] = np.ascontiguousarray(np.repeat(state["rnn.weight_ih_l0"], 2, axis=1))[:, ::2]
    assert not state["rnn.weight_ih_l0"].flags.c_contiguous
    cfg = ModelConfig.from_dict({"flavor": "lstm", "hidden_size": 4, "num_layers": 1}, "config")
    write_checkpoint(Checkpoint(cfg, state), tmp_path / "m.safetensors")
    for k, v in read_checkpoint(tmp_path / "m.safetensors").state_dict.items():
        assert np.array_equal(v, state[k]), k


def test_provenance_names_the_keys_that_differ_and_the_wrong_flavor(tmp_path):
    cfg = ModelConfig.from_dict({"flavor": "lstm", "hidden_size": 4, "num_layers": 1}, "config")
    ckpt = Checkpoint(cfg, weights(), TRAIN)
    check_provenance(ckpt, "m", "lstm", TRAIN)
    other = {**TRAIN, "seed": 3, "lstm": {**TRAIN["lstm"], "lr": 0.01}}
    with pytest.raises(ArtifactError, match=r"m was trained with other params than params.yaml's: train.lstm.lr "
                                            r"0.02 \(params.yaml: 0.01\), train.seed 0 \(params.yaml: 3\)"):
        check_provenance(ckpt, "m", "lstm", other)
    with pytest.raises(ArtifactError, match=r"m: holds an LSTM model, but this is the RNN's place; run `dvc repro "
                                            r"-s train@rnn`"):
        check_provenance(ckpt, "m", "rnn", TRAIN)
    with pytest.raises(ArtifactError, match="records no training params"):
        check_provenance(Checkpoint(cfg, weights()), "m", "lstm", TRAIN)


def _cap_memory() -> None:
    """In the child: cap its memory, so allocating the 12 TB of weights described would fail at once."""
    import resource  # POSIX only

    resource.setrlimit(resource.RLIMIT_DATA, (300 << 20, 300 << 20))


@pytest.mark.posix
def test_seqmem_probe_refuses_a_giant_config_in_little_memory(tmp_path):
    (tmp_path / "m.safetensors").write_bytes(file(state={}, meta={"seqmem": doc(HUGE, None)}))
    probe = str(Path(sys.executable).parent / "seqmem-probe")
    res = subprocess.run([probe, "--model", str(tmp_path / "m.safetensors"), "1", "-1"], capture_output=True,
                         text=True, env=ENV, preexec_fn=_cap_memory)
    assert res.returncode == 2
    assert res.stderr.startswith("error (artifact): ") and res.stderr.count("\n") == 1
    assert "has 3,000,010,500,001 weights" in res.stderr


def test_dvc_repro_of_a_stage_refuses_a_crafted_model(repo):
    (repo / "models/lstm.safetensors").write_bytes(file(meta={"seqmem": doc({"flavor": "lstm", "hidden_size": "32",
                                                                             "num_layers": 1})}))
    res = sh("dvc", "repro", "-s", "evaluate@lstm", cwd=repo, check=False)
    assert res.returncode != 0
    assert ("error (artifact): models/lstm.safetensors: config.hidden_size: must be int, got '32' (str)"
            in res.stderr)
    assert "Traceback" not in res.stderr + res.stdout


@pytest.mark.slow
def test_another_flavors_model_in_its_place_is_refused_by_evaluate_and_probe(repo):
    # the reproduction: the LSTM copied over the RNN, then only the RNN's analysis re-run
    (repo / "models/rnn.safetensors").write_bytes((repo / "models/lstm.safetensors").read_bytes())
    for stage in ("evaluate@rnn", "probe@rnn"):
        res = sh("dvc", "repro", "-s", stage, cwd=repo, check=False)
        assert res.returncode != 0, stage
        assert ("error (artifact): models/rnn.safetensors: holds an LSTM model, but this is the RNN's place; "
                "run `dvc repro -s train@rnn` to train it") in res.stderr, stage
    # DVC deletes a stage's outputs before its command runs; none was rewritten with the LSTM's numbers
    changed = sh("git", "status", "--porcelain", "metrics", "plots", cwd=repo).stdout.splitlines()
    assert changed and all(line.startswith(" D ") for line in changed)


def test_a_model_trained_from_other_params_is_refused_naming_the_keys(repo):
    params = (repo / "params.yaml").read_text()
    (repo / "params.yaml").write_text(params.replace("hidden_size: 8", "hidden_size: 9", 1))  # the rnn's, first
    res = sh("dvc", "repro", "-s", "evaluate@rnn", cwd=repo, check=False)
    assert res.returncode != 0
    assert ("models/rnn.safetensors was trained with other params than params.yaml's: train.rnn.hidden_size 8 "
            "(params.yaml: 9)") in res.stderr
    assert "`dvc repro -f -s train@rnn` to retrain it" in res.stderr


def test_a_pt_checkpoint_of_an_earlier_seqmem_is_refused_saying_how_to_get_the_new_file(tmp_path):
    model = SequenceClassifier(torch.nn.RNN, hidden_size=3)
    torch.save({"state_dict": model.state_dict(), "config": model.config()}, tmp_path / "rnn.pt")
    probe = str(Path(sys.executable).parent / "seqmem-probe")
    res = subprocess.run([probe, "--model", str(tmp_path / "rnn.pt"), "1", "-1"], capture_output=True, text=True,
                         env=ENV)
    assert res.returncode == 2 and res.stderr.count("\n") == 1
    assert "a torch.save checkpoint from an earlier seqmem, which seqmem no longer reads" in res.stderr
    assert "`dvc repro` retrains the pipeline's models as models/<flavor>.safetensors" in res.stderr
