"""A checkpoint: a safetensors file of float32 weights, with the model's config and training params in its metadata.

safetensors executes nothing and validates its layout (dtypes, shapes, offsets, overlaps, truncation)
when it loads. On top of that, the reader caps the header, rejects duplicate keys (which safetensors
would let the last one win) and checks every tensor's name, dtype and shape against the config
before any weight is read. Reading needs numpy, not torch, so a stage that only infers never pays
for `import torch`. One metadata key only: safetensors writes several in a random order (#584).
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from seqmem.core.artifacts import ArtifactError, atomic_path, reason
from seqmem.core.config import MAX_WEIGHTS, ConfigError, ModelConfig, TrainConfig, shown, weight_shapes

FORMAT = 1  # the metadata document's layout; a reader refuses any other
META_KEY = "seqmem"
MAX_HEADER_BYTES = 1 << 16  # the largest model's header (16 layers of names, shapes, offsets, the metadata): ~8 KB
MAX_CHECKPOINT_BYTES = 8 + MAX_HEADER_BYTES + 4 * MAX_WEIGHTS
PICKLE_ZIP = b"PK\x03\x04"  # what torch.save writes: a zip holding a pickle


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """A trained model: its config, float32 weights (out, in) as torch lays them, and the params it was trained from.

    `train` is params.yaml's `train` section as the model saw it: the shared keys and its own flavor's
    section; None for a model built outside train().
    """

    config: ModelConfig
    state_dict: dict[str, np.ndarray]
    train: dict[str, Any] | None = None

    @property
    def flavor(self) -> str:
        return self.config.flavor

    @property
    def hidden_size(self) -> int:
        return self.config.hidden_size

    @property
    def num_layers(self) -> int:
        return self.config.num_layers


def write_checkpoint(ckpt: Checkpoint, path: str | Path) -> None:
    """Write atomically; the same model gives the same bytes, whatever order its weights come in."""
    from safetensors.numpy import save  # only where a model is written

    doc = {"format": FORMAT, "config": dataclasses.asdict(ckpt.config), "train": ckpt.train}
    meta = json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=False)
    # contiguous copies: safetensors 0.8.0 writes a non-contiguous array's memory, not its values (#825)
    arrays = {k: np.ascontiguousarray(v, dtype="<f4") for k, v in sorted(ckpt.state_dict.items())}
    data = save(arrays, metadata={META_KEY: meta})
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json's object hook: a key written twice is an error, not last-one-wins (safetensors audit, TOB-SFTN-7)."""
    out = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"the key {shown(k)} appears twice")
        out[k] = v
    return out


def _read(path: Path) -> bytes:
    """The file's bytes, once its size says it can be a seqmem checkpoint."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ArtifactError(f"{path}: no such model file; run `dvc repro` to train it") from None
    if not path.is_file():
        raise ArtifactError(f"{path}: not a file")
    if size > MAX_CHECKPOINT_BYTES:
        raise ArtifactError(f"{path}: {size:,} bytes; a seqmem checkpoint is at most {MAX_CHECKPOINT_BYTES:,} "
                            f"(a model of at most {MAX_WEIGHTS:,} weights)")
    data = path.read_bytes()
    if data[:4] == PICKLE_ZIP:
        raise ArtifactError(f"{path}: a torch.save checkpoint from an earlier seqmem, which seqmem no longer reads "
                            "(its pickle could run code); `dvc repro` retrains the pipeline's models as "
                            "models/<flavor>.safetensors, and seqmem.model.save_checkpoint writes your own")
    return data


def _header(path: Path, data: bytes) -> tuple[dict, dict]:
    """(tensor entries, metadata document), parsed from the capped header: nothing past it is touched."""
    if len(data) < 8:
        raise ArtifactError(f"{path}: not a seqmem checkpoint ({len(data)} bytes; a safetensors file starts with an "
                            "8-byte header length)")
    n = int.from_bytes(data[:8], "little")
    if n > MAX_HEADER_BYTES or 8 + n > len(data):
        raise ArtifactError(f"{path}: not a seqmem checkpoint (a header of {n:,} bytes in a file of {len(data):,}; "
                            f"at most {MAX_HEADER_BYTES:,})")
    try:
        header = json.loads(data[8 : 8 + n].decode("utf-8"), object_pairs_hook=_unique)
        if not isinstance(header, dict):
            raise ValueError(f"the header is {type(header).__name__}, not an object")
        meta = header.pop("__metadata__", None)
        if not isinstance(meta, dict) or list(meta) != [META_KEY] or not isinstance(meta[META_KEY], str):
            raise ValueError(f"its metadata must hold one key, {META_KEY!r}, with a JSON document: got {shown(meta)}")
        doc = json.loads(meta[META_KEY], object_pairs_hook=_unique)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:  # json's errors; RecursionError: nested deep
        raise ArtifactError(f"{path}: not a seqmem checkpoint ({reason(e)})") from None
    if not isinstance(doc, dict) or set(doc) != {"format", "config", "train"}:
        got = sorted(doc, key=str) if isinstance(doc, dict) else type(doc).__name__
        raise ArtifactError(f"{path}: its metadata must hold ['config', 'format', 'train'], got {shown(got)}")
    if doc["format"] != FORMAT or type(doc["format"]) is not int:
        raise ArtifactError(f"{path}: checkpoint format {shown(doc['format'])}; this seqmem reads format {FORMAT}")
    return header, doc


def _check_entries(path: Path, header: dict, cfg: ModelConfig) -> None:
    """Every tensor the config implies, no other, each F32 of its shape: before a single weight is read."""
    expected = weight_shapes(cfg.flavor, cfg.hidden_size, cfg.num_layers)
    missing, unexpected = sorted(set(expected) - set(header)), sorted(set(header) - set(expected), key=str)
    if missing or unexpected:
        which = f"missing {missing[0]!r}" if missing else f"unexpected tensor {shown(unexpected[0])}"
        raise ArtifactError(f"{path}: weights do not match config {dataclasses.asdict(cfg)} ({which})")
    for key, shape in expected.items():
        entry = header[key]
        if not isinstance(entry, dict) or entry.get("dtype") != "F32":
            got = entry.get("dtype") if isinstance(entry, dict) else entry
            raise ArtifactError(f"{path}: {key} must be a float32 (F32) tensor, got {shown(got)}")
        if entry.get("shape") != list(shape):
            got = shown(entry.get("shape"))
            raise ArtifactError(f"{path}: weights do not match config {dataclasses.asdict(cfg)} "
                                f"(size mismatch: {key} is {got}, the config implies {list(shape)})")


def _train_params(path: Path, train: Any, cfg: ModelConfig) -> dict | None:
    """The recorded training params: None, or a valid `train` section for exactly this model's flavor and shape."""
    if train is None:
        return None
    try:
        TrainConfig.from_params(train, [cfg.flavor], path="train")
    except ConfigError as e:
        raise ArtifactError(f"{path}: its training params are not valid: {e}") from None
    others = sorted(set(train) - set(TrainConfig.keys()) - {cfg.flavor})
    if others:
        raise ArtifactError(f"{path}: its training params hold train.{others[0]}, but the model is {cfg.flavor!r}")
    for key in ("hidden_size", "num_layers"):
        if train[cfg.flavor][key] != getattr(cfg, key):
            raise ArtifactError(f"{path}: its config says {key} {getattr(cfg, key)}, its training params "
                                f"train.{cfg.flavor}.{key} {shown(train[cfg.flavor][key])}")
    return train


def read_checkpoint(path: str | Path) -> Checkpoint:
    """save_checkpoint's file as numpy, without torch: size, header, config (the `train.<flavor>` rules), recorded
    params, and each tensor's name, dtype and shape are checked before any weight is read, then finiteness."""
    path = Path(path)
    data = _read(path)
    header, doc = _header(path, data)
    try:
        cfg = ModelConfig.from_dict(doc["config"], "config")
    except ConfigError as e:
        raise ArtifactError(f"{path}: {e}") from None
    _check_entries(path, header, cfg)
    train = _train_params(path, doc["train"], cfg)
    from safetensors import SafetensorError
    from safetensors.numpy import load

    try:
        state = load(data)  # safetensors' own checks: offsets inside the buffer, no overlap, no gap
    except SafetensorError as e:
        raise ArtifactError(f"{path}: not a loadable seqmem checkpoint ({reason(e)})") from None
    expected = weight_shapes(cfg.flavor, cfg.hidden_size, cfg.num_layers)
    for key, shape in expected.items():
        v = state[key]
        if v.dtype != np.float32 or v.shape != shape:  # what the header said, read back
            raise ArtifactError(f"{path}: {key} reads as {v.dtype} {v.shape}, not float32 {shape}")
        if not np.isfinite(v).all():
            raise ArtifactError(f"{path}: weights hold NaN or inf ({key}): a diverged training run?")
    return Checkpoint(cfg, {k: np.array(state[k], order="C") for k in expected}, train)


def _flat(d: dict, prefix: str) -> dict[str, Any]:
    out = {}
    for k, v in d.items():
        out |= _flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v}
    return out


def check_provenance(ckpt: Checkpoint, path: str | Path, flavor: str, train: dict) -> None:
    """Refuse a model that these params did not make: another flavor, no recorded params, or other ones.

    `train` is what the model's training params must be: TrainConfig.record(flavor) of params.yaml.
    """
    if ckpt.flavor != flavor:
        raise ArtifactError(f"{path}: holds an {ckpt.flavor.upper()} model, but this is the {flavor.upper()}'s "
                            f"place; run `dvc repro -s train@{flavor}` to train it")
    if ckpt.train is None:
        raise ArtifactError(f"{path}: records no training params, so nothing says params.yaml made it; "
                            f"run `dvc repro -s train@{flavor}` to train it")
    had, want = _flat(ckpt.train, "train."), _flat(train, "train.")
    differ = [k for k in sorted(had.keys() | want.keys()) if had.get(k, math.nan) != want.get(k, math.nan)]
    if differ:
        shown_keys = ", ".join(f"{k} {shown(had.get(k))} (params.yaml: {shown(want.get(k))})" for k in differ[:3])
        more = f", and {len(differ) - 3} more" if len(differ) > 3 else ""
        raise ArtifactError(f"{path} was trained with other params than params.yaml's: {shown_keys}{more}. Two "
                            "`dvc exp run`s at once in one workspace do this (queue them instead); run "
                            f"`dvc repro -f -s train@{flavor}` to retrain it")
