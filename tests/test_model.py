"""SequenceClassifier shapes for every flavor, and checkpoints that refuse bad files."""

import re

import numpy as np
import pytest
import torch

from seqmem.core.artifacts import ArtifactError
from seqmem.data import make_data, make_datum
from seqmem.evaluate import at_last_step, bce
from seqmem.inference import decisions
from seqmem.model import FLAVORS, SequenceClassifier, load_checkpoint, save_checkpoint
from seqmem.train import train
from tests.crafted_checkpoints import respell


@pytest.mark.parametrize("flavor", list(FLAVORS))
@pytest.mark.parametrize("num_layers", [1, 2])
def test_shapes_and_final_is_last_decision(flavor, num_layers):
    model = SequenceClassifier(FLAVORS[flavor], hidden_size=5, num_layers=num_layers)
    assert isinstance(model.rnn, FLAVORS[flavor])
    assert model.rnn.batch_first
    X, _ = make_data(7, np.random.default_rng(0))  # int64 numpy straight from the generator
    final, decisions = model(X)
    assert final.shape == (7, 1)
    assert decisions.shape == (7, X.shape[1], 1)
    assert torch.equal(final, decisions[:, -1])
    assert ((decisions >= 0) & (decisions <= 1)).all()
    assert torch.allclose(torch.sigmoid(model.logits(X)), decisions)
    assert model.hidden(torch.zeros(2, 3, 1)).shape == (2, 3, 5)


def test_rejects_unknown_rnn_class():
    with pytest.raises(ValueError, match="rnn_cls"):
        SequenceClassifier(torch.nn.Linear)


@pytest.mark.parametrize("flavor", list(FLAVORS))
def test_checkpoint_roundtrip_keeps_weights_config_and_training_params(tmp_path, flavor):
    model, _ = train(FLAVORS[flavor], steps=2, hidden_size=6, num_layers=2, log=None)
    save_checkpoint(model, tmp_path / "m.safetensors")
    back = load_checkpoint(tmp_path / "m.safetensors")
    assert back.config() == {"flavor": flavor, "hidden_size": 6, "num_layers": 2}
    assert back.train_params == model.train_params
    assert back.train_params[flavor]["steps"] == 2 and back.train_params["seed"] == 0
    x = torch.randn(3, 4, 1)
    assert torch.equal(back(x)[1], model(x)[1])
    save_checkpoint(model, tmp_path / "again.safetensors")  # same weights, same bytes: dvc.lock stays put
    assert (tmp_path / "m.safetensors").read_bytes() == (tmp_path / "again.safetensors").read_bytes()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left


def test_load_refuses_truncated_and_edited_files(tmp_path):
    save_checkpoint(SequenceClassifier(torch.nn.LSTM, 4), tmp_path / "m.safetensors")
    data = (tmp_path / "m.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ArtifactError, match="cut.safetensors: not a seqmem checkpoint"):
        load_checkpoint(tmp_path / "cut.safetensors")
    (tmp_path / "edited.safetensors").write_bytes(data)
    respell(tmp_path / "edited.safetensors", '"hidden_size":4', '"hidden_size":5')
    with pytest.raises(ArtifactError, match="do not match config"):
        load_checkpoint(tmp_path / "edited.safetensors")


@pytest.mark.parametrize("shape", [(12, 1), (12,), (2, 12, 3)])
def test_one_sequence_is_refused_saying_how_to_batch_it(shape):
    model = SequenceClassifier(torch.nn.RNN, hidden_size=3)
    x = np.ones(shape, np.int64)
    hint = {2: r"pass x\[None\], a batch of one", 1: r"pass x\[None, :, None\]", 3: r"\(N, T, 1\)"}[len(shape)]
    with pytest.raises(ValueError, match=f"x has shape {re.escape(str(shape))}[:;] .*{hint}"):
        model(x)
    with pytest.raises(ValueError, match=f"X has shape {re.escape(str(shape))}"):
        decisions(model, x)


def test_make_datum_then_a_batch_of_one_gives_the_final_decision_of_that_sequence():
    torch.manual_seed(0)
    model = SequenceClassifier(torch.nn.LSTM, hidden_size=4)
    x, _ = make_datum(12, np.random.default_rng(3))  # (12, 1)
    final, every = model(x[None])  # (1, 1), (1, 12, 1)
    assert final.shape == (1, 1) and torch.equal(final[0], every[0, -1])
    assert np.allclose(decisions(model, x[None])[0, -1], final.item(), atol=1e-6)


def test_final_is_the_last_column_and_at_last_step_is_each_sequences_own():
    torch.manual_seed(0)
    model = SequenceClassifier(torch.nn.LSTM, hidden_size=4)
    short, long = np.array([[1], [-1], [2]]), np.array([[3], [4], [5], [6], [7]])
    padded = np.zeros((2, 5, 1), dtype=np.int64)
    padded[0, :3], padded[1] = short, long
    with torch.no_grad():
        final, d = model(padded)
        own_final, _ = model(short[None])
    assert torch.equal(final, d[:, -1])  # the contract: the padded last step
    mine = at_last_step(d[..., 0].numpy(), np.array([3, 5]))
    assert np.allclose(mine[0], own_final.item())
    assert not np.allclose(final[0].item(), own_final.item())


def test_the_loss_is_torchs_binary_cross_entropy_without_torch():
    rng = np.random.default_rng(0)
    p = np.concatenate([rng.random(3000), rng.random(50) ** 40, 1 - rng.random(50) ** 40, [0.0, 1.0, 0.5]])
    y = rng.random(len(p)) < 0.5
    y[-3:-1] = [True, False]  # log(0): both clamp at -100, as torch's does
    want = torch.nn.functional.binary_cross_entropy(torch.from_numpy(p), torch.from_numpy(y).double()).item()
    assert bce(p, y) == pytest.approx(want, rel=1e-14)
    assert bce(np.array([0.0]), np.array([True])) == 100.0
    assert bce(np.array([0.25, 0.5]), np.array([False, True])) == -(np.log(0.75) + np.log(0.5)) / 2
