"""Train a SequenceClassifier on fresh make_data batches, one batch per step."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from seqmem.config import ConfigError, TrainConfig
from seqmem.data import make_data, seen_so_far
from seqmem.dataset import ValSet, make_valset
from seqmem.evaluate import accuracy
from seqmem.model import SequenceClassifier
from seqmem.numerics import warn_if_unpinned


class Adam:
    """torch.optim.Adam's update (no weight decay, no amsgrad), written out.

    Why not torch.optim: every torch optimizer imports torch._dynamo when built, which costs
    1.3-1.8 s on this 2-core machine, as long as training itself. tests/test_train.py checks
    that this matches torch.optim.Adam step for step.
    """

    def __init__(self, params: Iterable[torch.Tensor], lr: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8):
        self.params = list(params)
        self.lr, self.betas, self.eps, self.t = lr, betas, eps, 0
        self.m = [torch.zeros_like(p) for p in self.params]  # first moment
        self.v = [torch.zeros_like(p) for p in self.params]  # second moment

    def zero_grad(self) -> None:
        """Drop the gradients."""
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """One bias-corrected Adam step."""
        self.t += 1
        b1, b2 = self.betas
        c1, c2 = 1 - b1**self.t, 1 - b2**self.t
        for p, m, v in zip(self.params, self.m, self.v, strict=True):
            if p.grad is None:
                continue
            m.lerp_(p.grad, 1 - b1)
            v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
            denom = (v.sqrt() / math.sqrt(c2)).add_(self.eps)
            p.addcdiv_(m, denom, value=-self.lr / c1)


def resolve_device(device: str) -> torch.device:
    """'auto' means CUDA when there is one; TrainConfig already refused 'cuda' without it."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def loss_fn(model: SequenceClassifier, X: np.ndarray, Y: np.ndarray, loss_mode: str) -> torch.Tensor:
    """BCE on logits: at every step against 'a -1 seen so far', or on the final step only."""
    logits = model.logits(X)  # (B, T, 1)
    device = logits.device
    if loss_mode == "every_step":
        return F.binary_cross_entropy_with_logits(logits, torch.from_numpy(seen_so_far(X)).to(device))
    return F.binary_cross_entropy_with_logits(logits[:, -1], torch.from_numpy(Y).float().to(device))


def train(
    rnn_cls: type[nn.RNNBase],
    *,
    val: ValSet | None = None,
    log: Callable[[str], None] | None = print,
    **config: object,
) -> tuple[SequenceClassifier, dict[str, list]]:
    """Train from TrainConfig's defaults (overridden by keyword); return (model, history)."""
    cfg = TrainConfig(**config)  # type- and range-checks every keyword
    warn_if_unpinned()
    device = resolve_device(cfg.device)
    threads = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)  # results are bit-exact per thread count, so it is part of the config
    try:
        torch.manual_seed(cfg.seed)
        rng = np.random.default_rng(cfg.seed)  # batches come from their own stream, apart from the weights'
        if val is None:  # a held-out set from another stream, for the progress log
            val = make_valset(512, np.random.default_rng([cfg.seed, 1]), min_len=cfg.min_len, max_len=cfg.max_len)
        model = SequenceClassifier(rnn_cls, cfg.hidden_size, cfg.num_layers).to(device)
        opt = Adam(model.parameters(), lr=cfg.lr)
        history: dict[str, list] = {"loss": [], "val_step": [], "val_acc": []}
        data_kw = dict(min_len=cfg.min_len, max_len=cfg.max_len, p_minus_one=cfg.p_minus_one)
        for step in range(1, cfg.steps + 1):
            X, Y = make_data(cfg.batch_size, rng, **data_kw)  # (B, T, 1), (B, 1)
            loss = loss_fn(model, X, Y, cfg.loss_mode)
            opt.zero_grad()
            loss.backward()
            if cfg.max_grad_norm:  # a tanh RNN's gradient can explode when a unit saturates: cap the step
                nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
            opt.step()
            history["loss"].append(loss.item())
            if not math.isfinite(history["loss"][-1]):  # diverged: stop before a NaN model can be saved
                raise ConfigError("lr", f"training diverged: the loss is {history['loss'][-1]} at step {step}; "
                                        f"lower lr (now {cfg.lr:g}) or clip the gradient with max_grad_norm")
            if step % cfg.eval_every == 0 or step == cfg.steps:
                acc = accuracy(model, val)
                history["val_step"].append(step)
                history["val_acc"].append(acc)
                if log:
                    log(f"{model.flavor:>4} step {step:5d}/{cfg.steps}  loss {loss.item():.4f}  val_acc {acc:.4f}")
        return model.eval(), history
    finally:
        torch.set_num_threads(threads)
