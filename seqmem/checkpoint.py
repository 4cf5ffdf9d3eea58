"""A checkpoint read without torch: its config and float32 weights as numpy, everything checked first.

save_checkpoint (seqmem.model) writes torch's zip format: a pickle that names its tensors' storages,
and one raw little-endian file per storage. A stage that only runs the inference kernel reads that
here and never imports torch (1.2-2 s a process). The pickle is input from outside: the unpickler
below resolves no global but three, so a crafted file can't run code; a torch global it meets (a
sparse layout, a torch.Size) becomes an inert placeholder that the checks then refuse by name.
"""

from __future__ import annotations

import dataclasses
import math
import pickle
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np

from seqmem.core.artifacts import ArtifactError, reason
from seqmem.core.config import MAX_WEIGHTS, ConfigError, ModelConfig, shown, weight_shapes

MAX_CHECKPOINT_BYTES = 4 * MAX_WEIGHTS + (1 << 20)  # the largest model's float32 weights, the pickle and the zip
MAX_PICKLE_BYTES = 1 << 20  # the pickle holds only keys and the config: a few KB

# torch's legacy storage class names, as torch.save writes them, and their dtypes
DTYPES = {"Float": "float32", "Double": "float64", "Half": "float16", "BFloat16": "bfloat16", "Long": "int64",
          "Int": "int32", "Short": "int16", "Char": "int8", "Byte": "uint8", "Bool": "bool",
          "ComplexFloat": "complex64", "ComplexDouble": "complex128"}


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """A trained model as save_checkpoint wrote it: its config and its float32 weights, (out, in) as torch lays them."""

    config: ModelConfig
    state_dict: dict[str, np.ndarray]

    @property
    def flavor(self) -> str:
        return self.config.flavor

    @property
    def hidden_size(self) -> int:
        return self.config.hidden_size

    @property
    def num_layers(self) -> int:
        return self.config.num_layers


@dataclasses.dataclass(frozen=True)
class Unread:
    """A torch object the pickle holds and seqmem does not read (a sparse or int64 tensor): named, for the message."""

    kind: str

    def __call__(self, *args, **kwargs) -> Unread:
        return self  # a placeholder global "called" by the pickle stays a placeholder: nothing runs


@dataclasses.dataclass(frozen=True)
class _Storage:
    dtype: str
    key: str
    numel: int


class _Unpickler(pickle.Unpickler):
    """torch.save's pickle, with storages read from the zip as numpy and no other code reachable."""

    def __init__(self, zf: zipfile.ZipFile, root: str):
        super().__init__(zf.open(f"{root}/data.pkl"))
        self.zf, self.root = zf, root
        self.storages: dict[str, np.ndarray] = {}  # key -> its values, read once however many tensors view it
        self.values = 0  # values copied out so far
        order = zf.read(f"{root}/byteorder") if f"{root}/byteorder" in zf.namelist() else b"little"
        if order not in (b"little", b"big"):
            raise pickle.UnpicklingError(f"byteorder {order[:20]!r}")
        self.float32 = np.dtype("<f4" if order == b"little" else ">f4")

    def find_class(self, module: str, name: str) -> object:
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return self._rebuild_tensor
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if module == "torch" and name.endswith("Storage"):
            return Unread(name[:40])  # its dtype, read in persistent_load
        if module.split(".")[0] == "torch":
            return Unread(name.removeprefix("_rebuild_").removesuffix("_tensor")[:40])  # "sparse", "Size"...
        raise pickle.UnpicklingError(f"it names {shown(f'{module}.{name}')}, which a checkpoint never holds")

    def persistent_load(self, pid: object) -> _Storage:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage" and isinstance(pid[1], Unread)
                and isinstance(pid[2], str) and type(pid[4]) is int and pid[4] >= 0):
            raise pickle.UnpicklingError(f"unknown persistent id {shown(pid)}")
        kind = pid[1].kind.removesuffix("Storage")
        return _Storage(DTYPES.get(kind, kind.lower()), pid[2], pid[4])

    def _rebuild_tensor(self, storage: object, offset: object, size: object, stride: object, *_) -> np.ndarray | Unread:
        """A tensor's values: an (offset, size, stride) view of its storage, copied."""
        if not isinstance(storage, _Storage):
            raise pickle.UnpicklingError("a tensor without a storage")
        if storage.dtype != "float32":
            return Unread(storage.dtype)
        ints = (offset, *size, *stride) if isinstance(size, tuple) and isinstance(stride, tuple) else ()
        if not ints or len(size) != len(stride) or any(type(v) is not int or v < 0 for v in ints):
            raise pickle.UnpicklingError(f"a tensor of size {shown(size)} and stride {shown(stride)}")
        values = math.prod(size)
        self.values += values  # all tensors together: many views of one storage must not each copy it
        if self.values > MAX_WEIGHTS:
            raise pickle.UnpicklingError(f"tensors of {self.values:,} values or more; "
                                         f"a model has at most {MAX_WEIGHTS:,}")
        last = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True))  # the last value it reads
        if values and last >= storage.numel:
            raise pickle.UnpicklingError(f"a tensor reads value {last:,} of a storage of {storage.numel:,}")
        base = self._values(storage)
        view = np.lib.stride_tricks.as_strided(base[offset:], size, [4 * s for s in stride], writeable=False)
        return np.array(view, np.float32, order="C")  # C-contiguous, native order, writable: its own memory

    def _values(self, storage: _Storage) -> np.ndarray:
        """A storage's floats, read from the zip once however many tensors view it."""
        if storage.key not in self.storages:
            data = self.zf.read(f"{self.root}/data/{storage.key}")
            if len(data) != 4 * storage.numel:
                raise pickle.UnpicklingError(f"storage {shown(storage.key)}: {len(data):,} bytes, "
                                             f"not {storage.numel:,} floats")
            self.storages[storage.key] = np.frombuffer(data, self.float32)
        return self.storages[storage.key]


def _open_zip(path: Path) -> zipfile.ZipFile:
    """The checkpoint's zip, once its size, layout and unpacked size are checked: nothing is read before."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ArtifactError(f"{path}: no such model file; run `dvc repro` to train it") from None
    if not path.is_file():
        raise ArtifactError(f"{path}: not a file")
    if size > MAX_CHECKPOINT_BYTES:
        raise ArtifactError(f"{path}: {size:,} bytes; a seqmem checkpoint is at most {MAX_CHECKPOINT_BYTES:,} "
                            f"(a model of at most {MAX_WEIGHTS:,} weights)")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise ArtifactError(f"{path}: not a loadable seqmem checkpoint (not the zip archive torch.save writes: "
                            f"{reason(e)})") from None
    entries = zf.infolist()
    unpacked = sum(e.file_size for e in entries)  # a zip bomb is small on disk
    pickles = [e for e in entries if e.filename.endswith("/data.pkl")]
    biggest = max((e.file_size for e in pickles), default=0)
    if unpacked > MAX_CHECKPOINT_BYTES or biggest > MAX_PICKLE_BYTES:
        zf.close()
        raise ArtifactError(f"{path}: not a loadable seqmem checkpoint (it unpacks to {unpacked:,} bytes, "
                            f"{biggest:,} of them pickle; at most {MAX_CHECKPOINT_BYTES:,} and {MAX_PICKLE_BYTES:,})")
    if len(pickles) != 1:
        zf.close()
        raise ArtifactError(f"{path}: not a loadable seqmem checkpoint ({len(pickles)} data.pkl entries, not 1)")
    return zf


def _check_weights(path: Path, state: object, cfg: ModelConfig) -> None:
    """Every tensor the config implies, no other, each float32 of its shape and finite."""
    if not isinstance(state, dict):
        raise ArtifactError(f"{path}: state_dict must be a dict of tensors, got {type(state).__name__}")
    expected = weight_shapes(cfg.flavor, cfg.hidden_size, cfg.num_layers)
    missing, unexpected = sorted(set(expected) - set(state)), sorted(set(state) - set(expected), key=str)
    if missing or unexpected:
        which = f"missing {missing[0]!r}" if missing else f"unexpected key {unexpected[0]!r}"
        raise ArtifactError(f"{path}: weights do not match config {dataclasses.asdict(cfg)} ({which})")
    for key, shape in expected.items():
        v = state[key]
        if not isinstance(v, np.ndarray):
            got = v.kind if isinstance(v, Unread) else type(v).__name__
            raise ArtifactError(f"{path}: {key} must be a dense float32 tensor, got {got}")
        if v.shape != shape:
            raise ArtifactError(f"{path}: weights do not match config {dataclasses.asdict(cfg)} "
                                f"(size mismatch: {key} is {v.shape}, the config implies {shape})")
        if not np.isfinite(v).all():
            raise ArtifactError(f"{path}: weights hold NaN or inf ({key}): a diverged training run?")


def read_checkpoint(path: str | Path) -> Checkpoint:
    """save_checkpoint's file as numpy, without torch: size, zip layout, config (the `train.<flavor>`
    rules), and each tensor's key, dtype, shape and finiteness are checked, and no pickled code runs."""
    path = Path(path)
    with _open_zip(path) as zf:
        root = next(n for n in zf.namelist() if n.endswith("/data.pkl")).removesuffix("/data.pkl")
        try:
            ckpt = _Unpickler(zf, root).load()
        except Exception as e:  # UnpicklingError, EOFError, KeyError, zlib's and zipfile's errors on bad files
            raise ArtifactError(f"{path}: not a loadable seqmem checkpoint ({reason(e)})") from None
    if not isinstance(ckpt, dict) or set(ckpt) != {"state_dict", "config"}:
        raise ArtifactError(f"{path}: expected a dict with keys ['config', 'state_dict']")
    try:
        cfg = ModelConfig.from_dict(ckpt["config"], "config")
    except ConfigError as e:
        raise ArtifactError(f"{path}: {e}") from None
    _check_weights(path, ckpt["state_dict"], cfg)
    return Checkpoint(cfg, dict(ckpt["state_dict"]))
