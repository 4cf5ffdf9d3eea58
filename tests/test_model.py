"""SequenceClassifier shapes for every flavor, and checkpoints that refuse bad files."""


import numpy as np
import pytest
import torch

from seqmem.core.artifacts import ArtifactError
from seqmem.data import make_data
from seqmem.evaluate import at_last_step, bce
from seqmem.model import FLAVORS, SequenceClassifier, load_checkpoint, save_checkpoint


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
def test_checkpoint_roundtrip(tmp_path, flavor):
    torch.manual_seed(0)
    model = SequenceClassifier(FLAVORS[flavor], hidden_size=6, num_layers=2)
    save_checkpoint(model, tmp_path / "m.pt")
    ckpt = torch.load(tmp_path / "m.pt", weights_only=True)
    assert set(ckpt) == {"state_dict", "config"}
    assert ckpt["config"] == {"flavor": flavor, "hidden_size": 6, "num_layers": 2}
    back = load_checkpoint(tmp_path / "m.pt")
    x = torch.randn(3, 4, 1)
    assert torch.equal(back(x)[1], model(x)[1])
    save_checkpoint(model, tmp_path / "again.pt")  # same weights, same bytes: dvc.lock stays put
    assert (tmp_path / "m.pt").read_bytes() == (tmp_path / "again.pt").read_bytes()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left


def test_load_refuses_missing_truncated_and_foreign(tmp_path):
    with pytest.raises(ArtifactError, match="no such model file"):
        load_checkpoint(tmp_path / "none.pt")
    save_checkpoint(SequenceClassifier(torch.nn.LSTM, 4), tmp_path / "m.pt")
    data = (tmp_path / "m.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(ArtifactError, match="cut.pt: not a loadable"):
        load_checkpoint(tmp_path / "cut.pt")
    torch.save({"weights": 1}, tmp_path / "other.pt")
    with pytest.raises(ArtifactError, match="expected a dict"):
        load_checkpoint(tmp_path / "other.pt")


def test_load_refuses_config_that_does_not_match_weights(tmp_path):
    save_checkpoint(SequenceClassifier(torch.nn.RNN, 8), tmp_path / "m.pt")
    ckpt = torch.load(tmp_path / "m.pt", weights_only=True)
    ckpt["config"]["hidden_size"] = 16  # edited by hand
    torch.save(ckpt, tmp_path / "m.pt")
    with pytest.raises(ArtifactError, match="do not match config"):
        load_checkpoint(tmp_path / "m.pt")


class _Boom:
    def __reduce__(self):
        return (exec, ("open('PWNED', 'w').write('x')",))


def test_load_refuses_a_malicious_pickle(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.save({"state_dict": {}, "config": _Boom()}, tmp_path / "evil.pt")
    with pytest.raises(ArtifactError, match=r"evil.pt: not a loadable seqmem checkpoint \(UnpicklingError: it names "
                                            r"'(__builtin__|builtins).exec', which a checkpoint never holds\)"):
        load_checkpoint(tmp_path / "evil.pt")
    assert not (tmp_path / "PWNED").exists()


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
