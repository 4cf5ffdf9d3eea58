"""One classifier for every recurrent flavor: an nn.RNN/LSTM/GRU plus a linear+sigmoid head."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from seqmem.core.artifacts import ArtifactError, atomic_path, reason
from seqmem.core.config import FLAVOR_NAMES, MAX_WEIGHTS, ConfigError, FlavorConfig, ModelConfig, weight_shapes

# recurrent state: (layers, N, H), or an LSTM's (h, c) pair of them
State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]

MAX_CHECKPOINT_BYTES = 4 * MAX_WEIGHTS + (1 << 20)  # the largest model's float32 weights, the pickle and the zip
MAX_PICKLE_BYTES = 1 << 20  # the pickle holds only keys and the config: a few KB

FLAVORS: dict[str, type[nn.RNNBase]] = {name: getattr(nn, name.upper()) for name in FLAVOR_NAMES}


def flavor_of(rnn_cls: type[nn.RNNBase]) -> str:
    """The params name ('rnn', 'lstm', 'gru') of a torch recurrent class."""
    for name, cls in FLAVORS.items():
        if cls is rnn_cls:
            return name
    raise ValueError(f"rnn_cls must be one of {[c.__name__ for c in FLAVORS.values()]}, got {rnn_cls!r}")


class SequenceClassifier(nn.Module):
    """Reads a sequence step by step and says, at every step, P(a -1 was seen)."""

    def __init__(self, rnn_cls: type[nn.RNNBase], hidden_size: int = FlavorConfig.hidden_size,
                 num_layers: int = FlavorConfig.num_layers):
        super().__init__()
        self.flavor = flavor_of(rnn_cls)
        self.hidden_size, self.num_layers = hidden_size, num_layers
        self.rnn = rnn_cls(input_size=1, hidden_size=hidden_size, num_layers=num_layers, batch_first=True)
        self.head = nn.Sequential(nn.Linear(hidden_size, 1), nn.Sigmoid())

    def as_input(self, x: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Any (N, T, 1) array or tensor as a float tensor on the model's device."""
        # make_data gives int64 numpy; the RNN wants float32 on our device
        device = self.head[0].weight.device
        return torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x, device=device).float()

    def hidden(self, x: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Top-layer hidden state h_t at every step, (N, T, H)."""
        return self.run(x)[0]

    def run(self, x: torch.Tensor | np.ndarray, state: State | None = None) -> tuple[torch.Tensor, State]:
        """(h_t at every step (N, T, H), final recurrent state), starting from `state` (None: zeros)."""
        return self.rnn(self.as_input(x), state)

    def run_with_forget_gate(self, x: torch.Tensor | np.ndarray,
                             state: State | None = None) -> tuple[torch.Tensor, State, torch.Tensor]:
        """run(), plus an LSTM's forget gate at the last step, every layer: (layers, N, H).

        nn.LSTM keeps its gates inside, so the gate is recomputed from the weights, each layer's
        input at the last step and its output the step before.
        """
        if self.flavor != "lstm":
            raise ValueError(f"only an LSTM has a forget gate, and this model is {self.flavor!r}")
        x, H, L = self.as_input(x), self.hidden_size, self.num_layers
        if state is None:
            zeros = x.new_zeros(L, x.shape[0], H)
            state = (zeros, zeros)
        if L == 1 or x.shape[1] == 1:  # one pass: the output holds the top layer's h_{T-1}
            h, after = self.rnn(x, state)  # (N, T, H)
            before = h[:, -2][None] if x.shape[1] > 1 else state[0]  # (layers, N, H)
        else:  # lower layers' h_{T-1} are not in the output: run the last step on its own
            head, (before, c) = self.rnn(x[:, :-1], state)
            last, after = self.rnn(x[:, -1:], (before, c))
            h = torch.cat([head, last], 1)  # (N, T, H)
        inputs = [x[:, -1]] + list(after[0][:-1])  # layer k reads layer k-1's new output, (N, in)
        w = {name: p[H : 2 * H] for name, p in self.rnn.named_parameters()}  # gates: input, forget, cell, output
        gate = [torch.sigmoid(F.linear(inp, w[f"weight_ih_l{k}"], w[f"bias_ih_l{k}"])
                              + F.linear(before[k], w[f"weight_hh_l{k}"], w[f"bias_hh_l{k}"]))
                for k, inp in enumerate(inputs)]
        return h, after, torch.stack(gate)

    def logits(self, x: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Pre-sigmoid decision at every step, (N, T, 1); train on these for stability."""
        return self.head[0](self.hidden(x))

    def forward(self, x: torch.Tensor | np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """(final (N, 1), decisions (N, T, 1)): P(a -1 was seen) at the last step and at every step.

        `final` is the last column. In a right-padded batch of mixed lengths, a sequence's own final
        decision is at its own last step: take it with seqmem.evaluate.at_last_step(d, lengths).
        """
        decisions = self.head(self.hidden(x))  # (N, T, 1) probabilities
        return decisions[:, -1], decisions  # final (N, 1)

    def config(self) -> dict:
        """What it takes to rebuild this model: stored beside the weights."""
        return {"flavor": self.flavor, "hidden_size": self.hidden_size, "num_layers": self.num_layers}


# output floats per kernel call: long sequences go in time chunks, so memory stays bounded
CHUNK_FLOATS = 1 << 24


@contextlib.contextmanager
def one_thread() -> Iterator[int]:
    """Run torch on one thread inside, and give back the caller's count (yielded) after."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield threads
    finally:
        torch.set_num_threads(threads)


def decision_chunks(model: SequenceClassifier, X: np.ndarray, floats: int | None = None,
                    last: bool = False) -> Iterator[tuple[int, np.ndarray]]:
    """(t, P(a -1 was seen) at steps t .. t + span, (N, span) float64) for consecutive time chunks of
    about `floats` outputs each (CHUNK_FLOATS); with `last`, one chunk (T - 1, (N, 1)): the last step alone.

    seqmem.kernels computes them (compiled, on every core, the same bits on every CPU, whatever the
    chunking); the recurrent state is carried from chunk to chunk, so memory stays bounded. They
    agree with forward() to float32 rounding (~1e-7).
    """
    from seqmem.kernels import Kernel  # numba loads only where decisions are computed

    X = np.asarray(X)  # (N, T, 1); the kernel reads int64 (make_data's) or float32 in place
    X = np.ascontiguousarray(X if X.dtype in (np.int64, np.float32) else X.astype(np.float32))
    N, T = X.shape[:2]
    if last and T == 0:
        raise ValueError("sequences of no steps have no last decision")
    weights = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    kernel = Kernel(model.flavor, weights, model.hidden_size, model.num_layers, N)
    span = max(1, (floats or CHUNK_FLOATS) // max(N, 1))  # time steps per chunk
    for t in range(0, T, span):
        steps = min(span, T - t)
        out = kernel.decisions(X, t, steps, last=last)  # with last, only the final chunk's counts
        if not last or t + steps == T:
            yield (T - 1 if last else t), out


def decisions(model: SequenceClassifier, X: np.ndarray, progress: Callable[[int], None] | None = None,
              last: bool = False) -> np.ndarray:
    """P(a -1 was seen) at every step, (N, T) float64, in bounded memory; at the last step alone, (N,), if `last`.

    decision_chunks' chunks put together. `progress(steps)` is called after each chunk.
    """
    X = np.asarray(X)
    N, T = X.shape[:2]
    out = None
    for t, chunk in decision_chunks(model, X, last=last):
        if last:
            out = chunk[:, 0]
        elif chunk.shape[1] == T:  # one chunk: no copy
            out = chunk
        else:
            if out is None:
                out = np.empty((N, T))
            out[:, t : t + chunk.shape[1]] = chunk
        if progress:
            progress(T if last else t + chunk.shape[1])
    return np.empty((N, T)) if out is None else out  # None: no steps


def save_checkpoint(model: SequenceClassifier, path: str | Path) -> None:
    """Write {state_dict, config} atomically: plain tensors and ints, no pickled module."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    buf = io.BytesIO()  # torch.save names the zip's root folder after the file: a random temp name would leak in
    torch.save({"state_dict": state, "config": model.config()}, buf)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buf.getvalue())


def _open_zip(path: Path) -> None:
    """Refuse what is too big, or not torch's zip format, before torch reads a byte of it."""
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
        with zipfile.ZipFile(path) as zf:
            entries = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise ArtifactError(f"{path}: not a loadable seqmem checkpoint (not the zip archive torch.save writes: "
                            f"{reason(e)})") from None
    unpacked = sum(e.file_size for e in entries)  # a zip bomb is small on disk
    pickle = max((e.file_size for e in entries if e.filename.endswith("/data.pkl")), default=0)
    if unpacked > MAX_CHECKPOINT_BYTES or pickle > MAX_PICKLE_BYTES:
        raise ArtifactError(f"{path}: not a loadable seqmem checkpoint (it unpacks to {unpacked:,} bytes, "
                            f"{pickle:,} of them pickle; at most {MAX_CHECKPOINT_BYTES:,} and {MAX_PICKLE_BYTES:,})")


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
        if not isinstance(v, torch.Tensor) or v.layout != torch.strided or v.dtype != torch.float32:
            got = (str(v.dtype).removeprefix("torch.") + ("" if v.layout == torch.strided else f" {v.layout}")
                   if isinstance(v, torch.Tensor) else type(v).__name__)
            raise ArtifactError(f"{path}: {key} must be a dense float32 tensor, got {got}")
        if tuple(v.shape) != shape:
            raise ArtifactError(f"{path}: weights do not match config {dataclasses.asdict(cfg)} "
                                f"(size mismatch: {key} is {tuple(v.shape)}, the config implies {shape})")
        if not torch.isfinite(v).all():
            raise ArtifactError(f"{path}: weights hold NaN or inf ({key}): a diverged training run?")


def load_checkpoint(path: str | Path, device: str = "cpu") -> SequenceClassifier:
    """Rebuild a model from save_checkpoint's file; everything is checked before a model is allocated.

    A checkpoint is input from outside: size, zip layout, config (the `train.<flavor>` rules) and each
    tensor's key, dtype and shape, then weights_only=True so that a crafted pickle can't run code.
    """
    path = Path(path)
    _open_zip(path)
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises RuntimeError, UnpicklingError, EOFError... on bad files
        raise ArtifactError(f"{path}: not a loadable seqmem checkpoint ({reason(e)})") from None
    if not isinstance(ckpt, dict) or set(ckpt) != {"state_dict", "config"}:
        raise ArtifactError(f"{path}: expected a dict with keys ['config', 'state_dict']")
    try:
        cfg = ModelConfig.from_dict(ckpt["config"], "config")
    except ConfigError as e:
        raise ArtifactError(f"{path}: {e}") from None
    _check_weights(path, ckpt["state_dict"], cfg)
    model = SequenceClassifier(FLAVORS[cfg.flavor], cfg.hidden_size, cfg.num_layers)
    model.load_state_dict(ckpt["state_dict"])
    return model.to(device).eval()
