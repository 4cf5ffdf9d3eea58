"""Crafted and damaged safetensors checkpoints, written byte by byte: what a reader must refuse, and why.

Shared by tests/test_checkpoints.py and benchmarks/crafted.py (which tables each one's message, exit
code and cost through seqmem-probe).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from seqmem.core.config import weight_shapes

CONFIG = {"flavor": "lstm", "hidden_size": 4, "num_layers": 1}
TRAIN = {"seed": 0, "batch_size": 64, "min_len": 10, "max_len": 25, "p_minus_one": 0.5, "eval_every": 50,
         "threads": 1, "device": "cpu",
         "lstm": {"hidden_size": 4, "num_layers": 1, "loss_mode": "every_step", "lr": 0.02, "max_grad_norm": 1.0,
                  "steps": 600, "forget_bias": 0.0, "forget_penalty": 1.0, "carry_batches": 1}}


def weights(config: dict = CONFIG) -> dict[str, np.ndarray]:
    """Small random float32 weights of the config's shapes."""
    rng = np.random.default_rng(0)
    shapes = weight_shapes(config["flavor"], config["hidden_size"], config["num_layers"])
    return {k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}


def doc(config: dict = CONFIG, train: dict | None = TRAIN, fmt: object = 1) -> str:
    """The metadata document, as seqmem.checkpoint writes it."""
    return json.dumps({"format": fmt, "config": config, "train": train}, sort_keys=True)


def raw(entries: list[tuple[str, object]], data: bytes, header_len: int | None = None) -> bytes:
    """A safetensors file from header entries (duplicates allowed, in order) and a data buffer, by hand."""
    text = "{" + ",".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in entries) + "}"
    head = text.encode()
    head += b" " * (-len(head) % 8)
    return (len(head) if header_len is None else header_len).to_bytes(8, "little") + head + data


def layout(state: dict[str, np.ndarray], meta: object = None, dtype: str = "F32") -> tuple[list, bytes]:
    """(header entries, data) laid out contiguously in key order, with the metadata entry first."""
    entries: list[tuple[str, object]] = [("__metadata__", {"seqmem": doc()} if meta is None else meta)]
    data, at = b"", 0
    for k, v in state.items():
        b = np.ascontiguousarray(v).tobytes()
        entries.append((k, {"dtype": dtype, "shape": list(v.shape), "data_offsets": [at, at + len(b)]}))
        data, at = data + b, at + len(b)
    return entries, data


def file(state: dict | None = None, meta: object = None, dtype: str = "F32") -> bytes:
    """A well-formed file (unless its parts are not)."""
    return raw(*layout(weights() if state is None else state, meta, dtype))


def _edit(fn: Callable[[list, bytes], tuple[list, bytes]]) -> bytes:
    entries, data = layout(weights())
    return raw(*fn(entries, data))


def _offsets(k: int, begin: int, end: int) -> Callable[[list, bytes], tuple[list, bytes]]:
    def fn(entries: list, data: bytes) -> tuple[list, bytes]:
        name, e = entries[k]
        entries[k] = (name, {**e, "data_offsets": [begin, end]})
        return entries, data
    return fn


def _meta(value: object) -> bytes:
    return file(meta=value)


def _nan() -> dict:
    w = weights()
    w["head.0.bias"] = np.array([np.nan], np.float32)
    return w


HUGE = {"flavor": "lstm", "hidden_size": 500_000, "num_layers": 2}  # 3 x 10^12 weights declared
CRAFTED: list[tuple[str, bytes, str]] = [  # (what, bytes, text the one-line message holds)
    ("an empty file", b"", "0 bytes; a safetensors file starts with an 8-byte header length"),
    ("a header length of 2**63", (1 << 63).to_bytes(8, "little") + b"{}", "a header of 9,223,372,036,854,775,808"),
    ("a header longer than the file", raw([], b"", header_len=4096), "a header of 4,096 bytes in a file of"),
    ("a header that is not UTF-8", raw([], b"")[:8] + b"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8", "UnicodeDecodeError"),
    ("a header that is not JSON", (8).to_bytes(8, "little") + b"{not js}", "JSONDecodeError"),
    ("a header nested 60,000 deep", (60_000).to_bytes(8, "little") + b"[" * 60_000,
     "RecursionError"),
    ("a document nested 30,000 deep", _meta({"seqmem": "[" * 30_000}), "RecursionError"),
    ("a header that is a list", (8).to_bytes(8, "little") + b"[1, 2]  ", "the header is list, not an object"),
    ("no metadata", _edit(lambda e, d: (e[1:], d)), "its metadata must hold one key, 'seqmem'"),
    ("two metadata keys", _meta({"seqmem": doc(), "other": "x"}), "its metadata must hold one key"),
    ("metadata that is not text", _meta({"seqmem": {"format": 1}}), "its metadata must hold one key"),
    ("metadata that is not JSON", _meta({"seqmem": "format=1"}), "JSONDecodeError"),
    ("a metadata key twice", _edit(lambda e, d: ([e[0], *e], d)), "the key '__metadata__' appears twice"),
    ("a document key twice", _meta({"seqmem": doc()[:-1] + ', "format": 1}'}), "the key 'format' appears twice"),
    ("a tensor twice", _edit(lambda e, d: ([*e, e[-1]], d)), "the key 'head.0.bias' appears twice"),
    ("no training params key", _meta({"seqmem": json.dumps({"format": 1, "config": CONFIG})}),
     "its metadata must hold ['config', 'format', 'train'], got ['config', 'format']"),
    ("format 2", _meta({"seqmem": doc(fmt=2)}), "checkpoint format 2; this seqmem reads format 1"),
    ("format '1' as text", _meta({"seqmem": doc(fmt="1")}), "checkpoint format '1'"),
    ("3 x 10^12 weights declared", file(state={}, meta={"seqmem": doc(HUGE, None)}),
     "config.hidden_size: lstm with hidden_size 500,000 and num_layers 2 has 3,000,010,500,001 weights"),
    ("flavor transformer", _meta({"seqmem": doc({**CONFIG, "flavor": "transformer"}, None)}),
     "config.flavor: must be one of ['rnn', 'lstm', 'gru'], got 'transformer'"),
    ("hidden_size as text", _meta({"seqmem": doc({**CONFIG, "hidden_size": "4"}, None)}),
     "config.hidden_size: must be int, got '4' (str)"),
    ("an extra config key", _meta({"seqmem": doc({**CONFIG, "dropout": 0.5}, None)}), "config.dropout: unknown key"),
    ("float64 weights", file(state={k: v.astype(np.float64) for k, v in weights().items()}, dtype="F64"),
     "must be a float32 (F32) tensor, got 'F64'"),
    ("bfloat16 declared", file(dtype="BF16"), "must be a float32 (F32) tensor, got 'BF16'"),
    ("a missing tensor", file(state={k: v for k, v in weights().items() if k != "head.0.bias"}),
     "weights do not match config {'hidden_size': 4, 'num_layers': 1, 'flavor': 'lstm'} (missing 'head.0.bias')"),
    ("an extra tensor", file(state={**weights(), "rnn.weight_ih_l1": np.zeros((16, 4), np.float32)}),
     "unexpected tensor 'rnn.weight_ih_l1'"),
    ("a transposed weight", file(state={k: v.T for k, v in weights().items()}),
     "size mismatch: rnn.weight_ih_l0 is [1, 16], the config implies [16, 1]"),
    ("overlapping offsets", _edit(_offsets(2, 0, 64)), "SafetensorError"),
    ("offsets past the data", _edit(_offsets(-1, 10_000, 10_064)), "SafetensorError"),
    ("a truncated data buffer", file()[:-4], "SafetensorError"),
    ("NaN weights", file(state=_nan()), "weights hold NaN or inf (head.0.bias)"),
    ("training params for another flavor",
     _meta({"seqmem": doc(train={**TRAIN, "rnn": {**TRAIN["lstm"], "forget_penalty": 0.0}})}),
     "its training params hold train.rnn, but the model is 'lstm'"),
    ("training params with lr as text", _meta({"seqmem": doc(train={**TRAIN, "lstm": {**TRAIN["lstm"], "lr": "x"}})}),
     "its training params are not valid: train.lstm.lr: must be float, got 'x' (str)"),
    ("training params of another size", _meta({"seqmem": doc(train={**TRAIN, "lstm": {**TRAIN["lstm"],
                                                                                           "hidden_size": 8}})}),
     "its config says hidden_size 4, its training params train.lstm.hidden_size 8"),
    ("a torch.save .pt from an earlier seqmem", b"PK\x03\x04" + bytes(60),
     "a torch.save checkpoint from an earlier seqmem, which seqmem no longer reads"),
]


def respell(path: Path, old: str, new: str) -> None:
    """Edit the metadata document of a checkpoint in place (every occurrence of `old` in its compact JSON)."""
    data = path.read_bytes()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n])
    meta = json.dumps(json.loads(header["__metadata__"]["seqmem"]), sort_keys=True, separators=(",", ":"))
    header["__metadata__"]["seqmem"] = meta.replace(old, new)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    path.write_bytes(len(head).to_bytes(8, "little") + head + data[8 + n :])


def set_weight(path: Path, key: str, value: float) -> None:
    """Overwrite every value of one tensor in a checkpoint, leaving everything else as it was."""
    data = path.read_bytes()
    n = int.from_bytes(data[:8], "little")
    begin, end = json.loads(data[8 : 8 + n])[key]["data_offsets"]
    fill = np.full((end - begin) // 4, value, "<f4").tobytes()
    path.write_bytes(data[: 8 + n + begin] + fill + data[8 + n + end :])
