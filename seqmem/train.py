"""Train a SequenceClassifier on fresh make_data batches, one batch per step."""

# no `from __future__ import annotations`: help(train) then shows `steps: int = 600`, not 'int'
import contextlib
import math
import os
from collections.abc import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from seqmem.core.config import ConfigError, FlavorConfig, TrainConfig
from seqmem.core.numerics import warn_if_unpinned
from seqmem.data import Streams
from seqmem.evaluate import at_last_step, share_correct
from seqmem.model import FLAVORS, SequenceClassifier, State, flavor_of, forward_decisions
from seqmem.optim import Adam
from seqmem.valset import ValSet, make_valset


def resolve_device(device: str) -> torch.device:
    """'auto' is the fastest device at hand: CUDA, then Apple's MPS, then the CPU (TrainConfig refused the missing)."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available()
                            else "cpu")
    return torch.device(device)


@contextlib.contextmanager
def deterministic(device: torch.device) -> Iterator[None]:
    """On a GPU, torch's documented determinism settings while inside (docs/install.md#a-gpu); the CPU is pinned.

    cuDNN's RNN kernels pick algorithms by benchmark and reduce nondeterministically unless told not to,
    cuBLAS needs a fixed workspace (set before it first runs), and Ampere and newer cards compute float32
    matrix products in TF32 by default: 10 bits of mantissa, not 23.
    """
    if device.type == "cpu":
        yield
        return
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    saved = (torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.deterministic,
             torch.backends.cudnn.benchmark, torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32)
    torch.use_deterministic_algorithms(True, warn_only=device.type == "mps")  # MPS lacks some deterministic kernels
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(saved[0])
        (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark, torch.backends.cudnn.allow_tf32,
         torch.backends.cuda.matmul.allow_tf32) = saved[1:]


def loss_fn(logits: torch.Tensor, target: np.ndarray, loss_mode: str) -> torch.Tensor:
    """BCE on logits (N, T, 1): at every step against 'a -1 seen so far', or on the final step only."""
    target = torch.from_numpy(target).to(logits.device)  # (N, T, 1)
    if loss_mode == "every_step":
        return F.binary_cross_entropy_with_logits(logits, target)
    return F.binary_cross_entropy_with_logits(logits[:, -1], target[:, -1])


def carry_over(state: State | None, fresh: np.ndarray) -> State | None:
    """The recurrent state for the next batch: zero for fresh rows, detached (backprop stops at a batch)."""
    if state is None or fresh.all():
        return None
    parts = state if isinstance(state, tuple) else (state,)  # each (layers, N, H)
    keep = torch.from_numpy(~fresh).to(parts[0].device).float()[None, :, None]  # (1, N, 1)
    parts = tuple(p.detach() * keep for p in parts)
    return parts if isinstance(state, tuple) else parts[0]


def train(
    rnn_cls: type[nn.RNNBase],
    *,
    steps: int = FlavorConfig.steps,
    batch_size: int = TrainConfig.batch_size,
    lr: float = FlavorConfig.lr,
    max_grad_norm: float = FlavorConfig.max_grad_norm,
    hidden_size: int = FlavorConfig.hidden_size,
    num_layers: int = FlavorConfig.num_layers,
    loss_mode: str = FlavorConfig.loss_mode,
    forget_bias: float = FlavorConfig.forget_bias,
    forget_penalty: float = FlavorConfig.forget_penalty,
    carry_batches: int = FlavorConfig.carry_batches,
    seed: int = TrainConfig.seed,
    min_len: int = TrainConfig.min_len,
    max_len: int = TrainConfig.max_len,
    p_minus_one: float = TrainConfig.p_minus_one,
    eval_every: int = TrainConfig.eval_every,
    threads: int = TrainConfig.threads,
    device: str = TrainConfig.device,
    val: ValSet | None = None,
    log: Callable[[str], None] | None = print,
) -> tuple[SequenceClassifier, dict[str, list]]:
    """Train a classifier around `rnn_cls` (nn.RNN, nn.LSTM or nn.GRU); return (model, history).

    The defaults are the pipeline's (seqmem/core/config.py). `val` is scored every `eval_every` steps
    (by default 512 held-out sequences); `log` gets a progress line each time.
    """
    name = flavor_of(rnn_cls)
    section = FlavorConfig(hidden_size=hidden_size, num_layers=num_layers, loss_mode=loss_mode, lr=lr,
                           max_grad_norm=max_grad_norm, steps=steps, forget_bias=forget_bias,
                           forget_penalty=forget_penalty, carry_batches=carry_batches)
    cfg = TrainConfig(seed=seed, batch_size=batch_size, min_len=min_len, max_len=max_len, p_minus_one=p_minus_one,
                      eval_every=eval_every, threads=threads, device=device, **{name: section})
    return fit(cfg, name, val=val, log=log)


def fit(cfg: TrainConfig, flavor: str, val: ValSet | None = None,
        log: Callable[[str], None] | None = print) -> tuple[SequenceClassifier, dict[str, list]]:
    """train() for a checked config, as the pipeline's train stage builds it from params.yaml."""
    cfg.flavor(flavor)  # its section must be there: refused before anything runs
    warn_if_unpinned()
    device = resolve_device(cfg.device)
    threads = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)  # results are bit-exact per thread count, so it is part of the config
    try:
        with deterministic(device):
            return _fit(cfg, flavor, device, val, log)
    finally:
        torch.set_num_threads(threads)


def _fit(cfg: TrainConfig, flavor: str, device: torch.device, val: ValSet | None,
         log: Callable[[str], None] | None) -> tuple[SequenceClassifier, dict[str, list]]:
    """fit()'s training loop, on `device`, with the thread count and determinism settings in force."""
    own = cfg.flavor(flavor)
    if log and device.type != "cpu":
        log(f"{flavor}: training on {device.type}: the weights match the CPU's within tolerance, not bit for bit")
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)  # batches come from their own stream, apart from the weights'
    if val is None:  # a held-out set from another stream, for the progress log
        val = make_valset(512, np.random.default_rng([cfg.seed, 1]), min_len=cfg.min_len, max_len=cfg.max_len)
    model = SequenceClassifier(FLAVORS[flavor], own.hidden_size, own.num_layers).to(device)
    if own.forget_bias:  # an LSTM's gates are [input, forget, cell, output] in its biases, (4H,)
        with torch.no_grad():
            for k in range(own.num_layers):
                getattr(model.rnn, f"bias_ih_l{k}")[own.hidden_size : 2 * own.hidden_size] += own.forget_bias
    opt = Adam(model.parameters(), lr=own.lr)
    history: dict[str, list] = {"loss": [], "val_step": [], "val_acc": []}
    batches, state = Streams(cfg.batch_size, rng, cfg, own.carry_batches), None
    for step in range(1, own.steps + 1):
        X, target, fresh = batches.next()  # (B, T, 1), (B, T, 1), (B,)
        start = carry_over(state, fresh)
        if own.forget_penalty:  # the gate pushed to 0: the memory must live in an attractor
            h, state, gate = model.run_with_forget_gate(X, start)  # (B, T, H), gate (layers, B, H)
        else:
            (h, state), gate = model.run(X, start), None
        loss = loss_fn(model.head[0](h), target, own.loss_mode)  # the task's BCE: what history logs
        total = loss if gate is None else loss + own.forget_penalty * gate.mean()
        opt.zero_grad()
        total.backward()
        if own.max_grad_norm:  # a tanh RNN's gradient can explode when a unit saturates: cap the step
            nn.utils.clip_grad_norm_(model.parameters(), own.max_grad_norm)
        opt.step()
        history["loss"].append(loss.item())
        if not math.isfinite(history["loss"][-1]):  # diverged: stop before a NaN model can be saved
            raise ConfigError("lr", f"training diverged: the loss is {history['loss'][-1]} at step {step}; "
                                    f"lower lr (now {own.lr:g}) or clip the gradient with max_grad_norm")
        if step % cfg.eval_every == 0 or step == own.steps:
            # the forward pass, not the kernel: torch is loaded here, numba would cost 0.5 s more
            acc = share_correct(at_last_step(forward_decisions(model, val.X), val.lengths), val)
            history["val_step"].append(step)
            history["val_acc"].append(acc)
            if log:
                log(f"{flavor:>4} step {step:5d}/{own.steps}  loss {loss.item():.4f}  val_acc {acc:.4f}")
    model.train_params = cfg.record(flavor)  # saved with the weights: what the pipeline checks a model against
    return model.eval(), history

