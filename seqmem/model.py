"""One classifier for every recurrent flavor: an nn.RNN/LSTM/GRU plus a linear+sigmoid head."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from seqmem.checkpoint import Checkpoint, read_checkpoint, write_checkpoint
from seqmem.core.config import FLAVOR_NAMES, FlavorConfig, ModelConfig
from seqmem.data import check_batch

# recurrent state: (layers, N, H), or an LSTM's (h, c) pair of them
State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]

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
        self.train_params: dict | None = None  # the `train` params it was trained from (train() sets them)

    def as_input(self, x: torch.Tensor | np.ndarray) -> torch.Tensor:
        """A batch (N, T, 1) as a float tensor on the model's device; one sequence (T, 1) is refused, saying how."""
        # torch would read a (T, 1) make_datum sequence as unbatched and hand back every step as "final"
        check_batch(tuple(x.shape) if torch.is_tensor(x) else np.shape(x))
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

    def checkpoint(self) -> Checkpoint:
        """This model's config, weights as numpy and training params, as read_checkpoint gives a saved one."""
        state = {k: v.detach().cpu().numpy() for k, v in self.state_dict().items()}
        return Checkpoint(ModelConfig.from_dict(self.config(), "config"), state, self.train_params)


@torch.no_grad()
def forward_decisions(model: SequenceClassifier, X: np.ndarray) -> np.ndarray:
    """P(a -1 was seen) at every step, (N, T) float64, by the model's own forward pass (pinned torch).

    For short sequences where the model is in memory anyway (training's validation, the probes):
    torch takes milliseconds, where loading the compiled kernel (seqmem.inference) takes half a
    second. The two agree to float32 rounding.
    """
    return model(X)[1][..., 0].double().cpu().numpy()


@contextlib.contextmanager
def one_thread() -> Iterator[int]:
    """Run torch on one thread inside, and give back the caller's count (yielded) after."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield threads
    finally:
        torch.set_num_threads(threads)


def save_checkpoint(model: SequenceClassifier, path: str | Path) -> None:
    """Write weights, config and training params as safetensors (seqmem.checkpoint), atomically: no pickle."""
    write_checkpoint(model.checkpoint(), path)


def from_checkpoint(ckpt: Checkpoint, device: str = "cpu") -> SequenceClassifier:
    """The model a checked Checkpoint describes, in eval mode."""
    model = SequenceClassifier(FLAVORS[ckpt.flavor], ckpt.hidden_size, ckpt.num_layers)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in ckpt.state_dict.items()})
    model.train_params = ckpt.train
    return model.to(device).eval()


def load_checkpoint(path: str | Path, device: str = "cpu") -> SequenceClassifier:
    """Rebuild a model from save_checkpoint's file, read and checked (seqmem.checkpoint) before it is allocated."""
    return from_checkpoint(read_checkpoint(path), device)
