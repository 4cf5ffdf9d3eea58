"""A checkpoint is input from outside: crafted or damaged ones are refused before a model is allocated."""

from __future__ import annotations

import pickle
import re
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from seqmem import checkpoint
from seqmem.checkpoint import MAX_CHECKPOINT_BYTES, read_checkpoint
from seqmem.core.artifacts import ArtifactError
from seqmem.core.config import ModelConfig
from seqmem.inference import decisions
from seqmem.model import SequenceClassifier, load_checkpoint, save_checkpoint
from tests.helpers import ENV, sh

CONFIG = {"flavor": "lstm", "hidden_size": 4, "num_layers": 1}


def _weights(**change) -> dict:
    torch.manual_seed(0)
    state = SequenceClassifier(torch.nn.LSTM, 4).state_dict()
    return {k: change.get("fn", lambda v: v)(v.detach().clone()) for k, v in state.items()}


def _with(config: dict | None = None, state: object = None) -> dict:
    return {"config": CONFIG if config is None else config, "state_dict": _weights() if state is None else state}


CRAFTED = [  # (name, checkpoint, text the message must hold)
    ("hidden_size 4000 x 11 layers, no weights", _with({"flavor": "lstm", "hidden_size": 4000, "num_layers": 11}, {}),
     "config.hidden_size: lstm with hidden_size 4,000 and num_layers 11 has 1,344,372,001 weights"),
    ("hidden_size 15000", _with({**CONFIG, "hidden_size": 15000}, {}), "so hidden_size <= 1,022 with num_layers 1"),
    ("num_layers 1000", _with({**CONFIG, "num_layers": 1000}, {}), "config.num_layers: must be <= 16, got 1000"),
    ("hidden_size of 5,001 digits", _with({**CONFIG, "hidden_size": 10**5000}, {}),  # too long for str(): named anyway
     "config.hidden_size: must be between -2**63 and 2**63 - 1, got an integer of 5,001 digits"),
    ("a flavor of 10,000 characters", _with({**CONFIG, "flavor": "x" * 10_000}, {}), "xx... (10,002 characters)"),
    ("hidden_size as text", _with({**CONFIG, "hidden_size": "4"}), "config.hidden_size: must be int, got '4' (str)"),
    ("hidden_size 4.5", _with({**CONFIG, "hidden_size": 4.5}), "config.hidden_size: must be int, got 4.5"),
    ("hidden_size True", _with({**CONFIG, "hidden_size": True}), "config.hidden_size: must be int, got True"),
    ("hidden_size a tensor", _with({**CONFIG, "hidden_size": torch.tensor(4)}), "config.hidden_size: must be int"),
    ("an extra config key", _with({**CONFIG, "dropout": 0.5}), "config.dropout: unknown key"),
    ("no num_layers", _with({"flavor": "lstm", "hidden_size": 4}), "config.num_layers: missing key"),
    ("flavor transformer", _with({**CONFIG, "flavor": "transformer"}), "config.flavor: must be one of"),
    ("bool weights", _with(state=_weights(fn=lambda v: v.bool())), "must be a dense float32 tensor, got bool"),
    ("int64 weights", _with(state=_weights(fn=lambda v: v.long())), "must be a dense float32 tensor, got int64"),
    ("float64 weights", _with(state=_weights(fn=lambda v: v.double())), "got float64"),
    ("sparse weights", _with(state=_weights(fn=lambda v: v.to_sparse())), "must be a dense float32 tensor"),
    ("a weight that is a list", _with(state={**_weights(), "head.0.bias": [0.0]}), "got list"),
    ("a missing weight", _with(state={k: v for k, v in _weights().items() if k != "head.0.bias"}),
     "weights do not match config"),
    ("an extra weight", _with(state={**_weights(), "rnn.weight_ih_l1": torch.zeros(16, 4)}),
     "unexpected key 'rnn.weight_ih_l1'"),
    ("a transposed weight", _with(state=_weights(fn=lambda v: v.t() if v.ndim == 2 else v)), "size mismatch"),
    ("state_dict a list", _with(state=[1, 2]), "state_dict must be a dict of tensors, got list"),
    ("NaN weights", _with(state=_weights(fn=lambda v: v * float("nan"))), "weights hold NaN or inf"),
]


@pytest.mark.parametrize("ckpt, expect", [c[1:] for c in CRAFTED], ids=[c[0] for c in CRAFTED])
def test_a_crafted_checkpoint_is_refused_naming_the_problem(ckpt, expect, tmp_path):
    torch.save(ckpt, tmp_path / "m.pt")
    with pytest.raises(ArtifactError, match="m.pt: ") as e:
        load_checkpoint(tmp_path / "m.pt")
    assert expect in str(e.value)


def test_huge_files_and_zip_bombs_are_refused_before_torch_reads_them(tmp_path):
    big = tmp_path / "big.pt"
    with open(big, "wb") as f:
        f.truncate(MAX_CHECKPOINT_BYTES + 1)  # sparse: no disk used
    with pytest.raises(ArtifactError, match="bytes; a seqmem checkpoint is at most"):
        load_checkpoint(big)
    bomb = tmp_path / "bomb.pt"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb/data.pkl", b"\0" * (64 << 20))  # 64 MB of pickle in a few KB
    assert bomb.stat().st_size < 1 << 20
    with pytest.raises(ArtifactError, match="it unpacks to 67,108,864 bytes"):
        load_checkpoint(bomb)
    with pytest.raises(ArtifactError, match="not a file"):
        load_checkpoint(tmp_path)


def test_the_checkpoints_the_pipeline_writes_still_load(tmp_path):
    for cls, layers in ((torch.nn.RNN, 1), (torch.nn.LSTM, 3), (torch.nn.GRU, 2)):
        model = SequenceClassifier(cls, hidden_size=5, num_layers=layers)
        save_checkpoint(model, tmp_path / "m.pt")
        loaded = load_checkpoint(tmp_path / "m.pt")
        assert loaded.config() == model.config()
        for (k, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items(), strict=True):
            assert torch.equal(a, b), k


def _zip(path: Path, pkl: bytes, **storages: bytes) -> Path:
    """A zip laid out as torch.save lays it, holding the pickle given."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("m/data.pkl", pkl)
        zf.writestr("m/byteorder", "little")
        for key, data in storages.items():
            zf.writestr(f"m/data/{key}", data)
    return path


class _Global(tuple):
    """A global by name (module, name), whatever the module holds: written as pickle's GLOBAL opcode."""


class _Reduce(tuple):
    """(callable, args): written as REDUCE."""


class _Persistent(tuple):
    """(object,): written as BINPERSID, the way torch.save names a storage."""


def _dumps(obj: object) -> bytes:
    """Protocol-2 pickle opcodes for the few kinds of objects torch.save writes, by hand: tests can then
    craft what torch itself would never write."""
    if isinstance(obj, _Global):
        return b"c" + f"{obj[0]}\n{obj[1]}\n".encode()
    if isinstance(obj, _Reduce):
        return _dumps(obj[0]) + _dumps(tuple(obj[1])) + b"R"
    if isinstance(obj, _Persistent):
        return _dumps(obj[0]) + b"Q"
    if isinstance(obj, bool):
        return b"\x88" if obj else b"\x89"
    if isinstance(obj, int):
        return b"J" + obj.to_bytes(4, "little", signed=True)
    if isinstance(obj, str):
        return b"X" + len(obj.encode()).to_bytes(4, "little") + obj.encode()
    if isinstance(obj, tuple):
        return b"(" + b"".join(map(_dumps, obj)) + b"t"
    assert isinstance(obj, dict)
    return b"}(" + b"".join(_dumps(k) + _dumps(v) for k, v in obj.items()) + b"u"


def _tensor_pickle(numel: int, offset: int, size: tuple, stride: tuple, copies: int = 1) -> bytes:
    """torch.save's pickle of {"w": a tensor} (and "w1".. for more copies), by hand: the view (offset, size,
    stride) of one storage of numel floats."""
    storage = _Persistent((("storage", _Global(("torch", "FloatStorage")), "0", "cpu", numel),))
    ordered = _Reduce((_Global(("collections", "OrderedDict")), ()))
    tensor = _Reduce((_Global(("torch._utils", "_rebuild_tensor_v2")), (storage, offset, size, stride, False, ordered)))
    return b"\x80\x02" + _dumps({f"w{i or ''}": tensor for i in range(copies)}) + b"."


@pytest.mark.parametrize("numel, offset, size, stride, stored, expect", [
    (4, 0, (2, 2), (2, 1), 16, None),
    (4, 0, (2, 2), (1, 2), 16, None),  # a transposed view reads the same storage
    (4, 1, (2, 2), (2, 1), 16, "a tensor reads value 4 of a storage of 4"),
    (4, 0, (3, 2), (2, 1), 16, "a tensor reads value 5 of a storage of 4"),
    (4, 0, (2, 2), (2, 1), 12, "storage '0': 12 bytes, not 4 floats"),
    (4, 0, (1 << 20, 1 << 20), (0, 0), 16, "tensors of 1,099,511,627,776 values or more; a model has at most"),
    (4, -1, (2,), (1,), 16, "a tensor of size (2,) and stride (1,)"),
])
def test_a_tensors_view_must_stay_inside_its_storage(numel, offset, size, stride, stored, expect, tmp_path):
    storage = np.arange(stored // 4, dtype="<f4").tobytes()
    path = _zip(tmp_path / "m.pt", _tensor_pickle(numel, offset, size, stride), **{"0": storage})
    with zipfile.ZipFile(path) as zf:
        if expect is None:
            got = checkpoint._Unpickler(zf, "m").load()["w"]
            want = np.lib.stride_tricks.as_strided(np.arange(4, dtype=np.float32), size, [4 * s for s in stride])
            assert np.array_equal(got, want) and got.flags.c_contiguous and got.flags.writeable
        else:
            with pytest.raises(pickle.UnpicklingError, match=re.escape(expect)):
                checkpoint._Unpickler(zf, "m").load()


def test_many_views_of_one_storage_are_not_copied_past_a_models_size(tmp_path):
    big = 1 << 20  # 4 MB of storage, five views of it: 5 M values, more than MAX_WEIGHTS, from a zip of 4 MB
    path = _zip(tmp_path / "m.pt", _tensor_pickle(big, 0, (big,), (1,), copies=5), **{"0": bytes(4 * big)})
    with zipfile.ZipFile(path) as zf, pytest.raises(pickle.UnpicklingError, match="tensors of 5,242,880 values or"):
        checkpoint._Unpickler(zf, "m").load()


def test_a_checkpoint_written_big_endian_reads_the_same(tmp_path):
    save_checkpoint(SequenceClassifier(torch.nn.LSTM, hidden_size=3), tmp_path / "m.pt")
    with zipfile.ZipFile(tmp_path / "m.pt") as src, zipfile.ZipFile(tmp_path / "big.pt", "w") as dst:
        for e in src.infolist():  # what torch.save writes on a big-endian machine: swapped floats, and says so
            data = src.read(e)
            if "/data/" in e.filename:
                data = np.frombuffer(data, "<f4").astype(">f4").tobytes()
            dst.writestr(e, b"big" if e.filename.endswith("/byteorder") else data)
    little, big = read_checkpoint(tmp_path / "m.pt"), read_checkpoint(tmp_path / "big.pt")
    for k, v in little.state_dict.items():
        assert big.state_dict[k].dtype == np.float32 and np.array_equal(big.state_dict[k], v), k


def test_read_checkpoint_gives_the_weights_torch_gives(tmp_path):
    for cls, layers in ((torch.nn.RNN, 2), (torch.nn.LSTM, 1), (torch.nn.GRU, 3)):
        model = SequenceClassifier(cls, hidden_size=6, num_layers=layers)
        save_checkpoint(model, tmp_path / "m.pt")
        read = read_checkpoint(tmp_path / "m.pt")
        assert read.config == ModelConfig.from_dict(model.config(), "config")
        assert list(read.state_dict) == list(model.state_dict())
        for k, v in torch.load(tmp_path / "m.pt", weights_only=True)["state_dict"].items():
            assert read.state_dict[k].dtype == np.float32 and np.array_equal(read.state_dict[k], v.numpy()), k
        X = np.random.default_rng(0).integers(-1, 10, (9, 30, 1))
        assert np.array_equal(decisions(read, X), decisions(model, X))  # the same bits, from file or from memory


MEMORY_CAP_MB = 300


def _fresh_peak() -> None:
    """In the child: cap its memory, so allocating the 5.5 GB model described would fail (torch alone is ~230 MB)."""
    resource.setrlimit(resource.RLIMIT_DATA, (MEMORY_CAP_MB << 20, MEMORY_CAP_MB << 20))


def test_seqmem_probe_refuses_a_giant_config_in_little_memory(tmp_path):
    torch.save(_with({"flavor": "lstm", "hidden_size": 4000, "num_layers": 11}, {}), tmp_path / "m.pt")
    probe = str(Path(sys.executable).parent / "seqmem-probe")
    res = subprocess.run([probe, "--model", str(tmp_path / "m.pt"), "1", "-1"], capture_output=True, text=True,
                         env=ENV, preexec_fn=_fresh_peak)
    assert res.returncode == 2
    assert res.stderr.startswith("error (artifact): ")
    assert res.stderr.count("\n") == 1
    assert "has 1,344,372,001 weights" in res.stderr


def test_dvc_repro_of_a_stage_refuses_a_crafted_model(repo):
    torch.save(_with({**CONFIG, "hidden_size": "32"}), repo / "models/lstm.pt")
    res = sh("dvc", "repro", "-s", "evaluate@lstm", cwd=repo, check=False)
    assert res.returncode != 0
    assert "error (artifact): models/lstm.pt: config.hidden_size: must be int, got '32' (str)" in res.stderr
    assert "Traceback" not in res.stderr + res.stdout
