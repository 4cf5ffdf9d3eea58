"""Typed, range-checked configs, one per params.yaml section and laid out like it.

Each default and each rule is written here once: the stages build these from params.yaml, the
library functions (make_data, train) from their keyword arguments. The checking is seqmem.core.schema's.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

from seqmem.core.schema import Config, ConfigError, param, shown

__all__ = ["Config", "ConfigError", "param", "shown"]  # re-exported: callers import them from here


# --- the params.yaml sections ------------------------------------------------------------------

FLAVOR_NAMES = ("rnn", "lstm", "gru")  # torch.nn's class of each is its name upper-cased
SECTIONS = ("flavors", "data", "train", "evaluate", "retention", "probe", "attractors")  # params.yaml's top level
LOSS_MODES = ("every_step", "last_step")
DEVICES = ("cpu", "cuda", "mps", "auto")
# What fits: a set of sequences is held as int64 steps plus float64 decisions (16 bytes a step), and
# a training batch keeps every step's activations for backprop. Past these, refuse at once rather
# than run for a minute into an out-of-memory kill.
MAX_SET_STEPS = 50_000_000  # sequences x length in one set: about 1 GB
MAX_TRAIN_FLOATS = 100_000_000  # batch x length x hidden x layers x gates: about 2 GB with backprop's copies
GATES = {"rnn": 1, "gru": 3, "lstm": 4}
MAX_WEIGHTS = 1 << 22  # parameters of one model: a 16 MB checkpoint, about 200 MB to train with Adam


def weight_shapes(flavor: str, hidden_size: int, num_layers: int) -> dict[str, tuple[int, ...]]:
    """The state_dict's keys and shapes of a SequenceClassifier, without building one (torch's layout)."""
    gh, shapes = GATES[flavor] * hidden_size, {}
    for k in range(num_layers):
        shapes |= {f"rnn.weight_ih_l{k}": (gh, 1 if k == 0 else hidden_size), f"rnn.weight_hh_l{k}": (gh, hidden_size),
                   f"rnn.bias_ih_l{k}": (gh,), f"rnn.bias_hh_l{k}": (gh,)}
    return shapes | {"head.0.weight": (1, hidden_size), "head.0.bias": (1,)}


def n_weights(flavor: str, hidden_size: int, num_layers: int) -> int:
    """How many parameters a SequenceClassifier of this shape has."""
    return sum(math.prod(s) for s in weight_shapes(flavor, hidden_size, num_layers).values())


def largest_fitting(fits: Callable[[int], bool], above: int) -> int:
    """The largest value below `above` for which `fits` holds, 0 if none; `fits` must hold up to some value only."""
    lo, hi = 0, above
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo


def check_weights(key: str, flavor: str, hidden_size: int, num_layers: int) -> None:
    """At most MAX_WEIGHTS parameters: past that, checkpoints, training and analysis stop fitting."""
    n = n_weights(flavor, hidden_size, num_layers)
    if n > MAX_WEIGHTS:
        lo = largest_fitting(lambda h: n_weights(flavor, h, num_layers) <= MAX_WEIGHTS, hidden_size)
        raise ConfigError(key, f"{flavor} with hidden_size {hidden_size:,} and num_layers {num_layers} has "
                               f"{n:,} weights; at most {MAX_WEIGHTS:,} fit (a 16 MB checkpoint), so "
                               f"hidden_size <= {lo:,} with num_layers {num_layers}")


def _check_fits(key: str, n: int, length: int) -> None:
    if n * length > MAX_SET_STEPS:
        raise ConfigError(key, f"{n:,} sequences of up to {length:,} steps is {n * length:,} steps; at most "
                               f"{MAX_SET_STEPS:,} fit in memory (about 1 GB), so at most {MAX_SET_STEPS // length:,} "
                               f"sequences of {length:,} steps")


def _check_distinct(key: str, values: list) -> None:
    seen = set()
    for i, v in enumerate(values):
        if v in seen:
            raise ConfigError(f"{key}[{i}]", f"repeats {shown(v)}: each value may be listed once")
        seen.add(v)


@dataclasses.dataclass(frozen=True)
class Sequences(Config):
    """How sequences are drawn: the keys `data:`, `train:` and make_data share."""

    min_len: int = param(10, ge=1, doc="shortest sequence")
    max_len: int = param(25, ge=1, doc="longest sequence")
    p_minus_one: float = param(0.5, ge=0.0, le=1.0, doc="probability that a sequence holds a -1")

    def check(self) -> None:
        if self.min_len > self.max_len:
            raise ConfigError("min_len", f"must be <= max_len, got min_len={self.min_len} > max_len={self.max_len}")


@dataclasses.dataclass(frozen=True)
class DataConfig(Sequences):
    """`data:` the fixed validation set."""

    seed: int = param(0, ge=0, doc="seed of the validation set")
    num_sequences: int = param(2000, ge=1, doc="number of validation sequences")

    # what fits is seqmem.budget's to say: the set's size drives four stages' memory


@dataclasses.dataclass(frozen=True)
class Shape(Config):
    """A model's size: the keys a checkpoint's config shares with `train.<flavor>:`."""

    hidden_size: int = param(32, ge=1, doc="recurrent state size")
    num_layers: int = param(1, ge=1, le=16, doc="stacked recurrent layers")


@dataclasses.dataclass(frozen=True)
class ModelConfig(Shape):
    """A checkpoint's config: what it takes to rebuild the model, checked before anything is allocated."""

    flavor: str = param("rnn", choices=FLAVOR_NAMES, doc="rnn, lstm or gru")

    def check(self) -> None:
        check_weights("hidden_size", self.flavor, self.hidden_size, self.num_layers)


@dataclasses.dataclass(frozen=True)
class FlavorConfig(Shape):
    """`train.<flavor>:` the keys only that flavor's stage reads."""

    loss_mode: str = param("every_step", choices=LOSS_MODES,
                           doc="every_step: BCE on 'a -1 seen so far' at each step; last_step: final step only")
    lr: float = param(2e-2, gt=0.0, le=1e38, doc="Adam learning rate (float32 holds it)")
    max_grad_norm: float = param(1.0, ge=0.0, doc="clip the gradient's global L2 norm to this; 0: no clipping")
    steps: int = param(600, ge=1, doc="optimizer steps")
    forget_bias: float = param(0.0, ge=-10.0, le=10.0,
                               doc="added to an LSTM's forget-gate bias at init (Gers et al. 2000); 0 for rnn, gru")
    forget_penalty: float = param(0.0, ge=0.0, le=1e6,
                                  doc="weight of the LSTM's mean forget gate (each batch's last step) in the loss; "
                                      "0 for rnn, gru")
    carry_batches: int = param(1, ge=1, le=1_000_000,
                               doc="a training sequence runs on over 1..this many batches (log-uniform), "
                                   "its state carried; 1: each batch is fresh sequences")


@dataclasses.dataclass(frozen=True)
class TrainConfig(Sequences):
    """`train:` the keys every flavor shares, and a `train.<flavor>:` section per flavor."""

    seed: int = param(0, ge=0, doc="seeds weights and the training batches")
    batch_size: int = param(64, ge=1, doc="fresh sequences per step")
    eval_every: int = param(50, ge=1, doc="steps between validation-accuracy log lines")
    threads: int = param(1, ge=1, doc="torch CPU threads; results are bit-exact per count")
    device: str = param("cpu", choices=DEVICES,
                        doc="cpu (the pinned, bit-exact default), cuda, mps (Apple's GPU), or auto: the fastest at "
                            "hand (cuda, then mps, then cpu), for speed over exactness (docs/install.md#a-gpu)")
    rnn: FlavorConfig | None = None
    lstm: FlavorConfig | None = None
    gru: FlavorConfig | None = None

    def check(self) -> None:
        super().check()
        for name in FLAVOR_NAMES:
            flavor = getattr(self, name)
            for key in ("forget_bias", "forget_penalty"):
                if flavor and name != "lstm" and getattr(flavor, key) != 0:
                    raise ConfigError(f"{name}.{key}", f"must be 0: only an LSTM has a forget gate, got "
                                                       f"{getattr(flavor, key)}")
            if flavor:
                check_weights(f"{name}.hidden_size", name, flavor.hidden_size, flavor.num_layers)
        # training activations of one sequence, in floats: the widest flavor decides what batch fits
        per_sequence = {name: self.max_len * f.hidden_size * f.num_layers * GATES[name]
                        for name in FLAVOR_NAMES if (f := getattr(self, name))}
        name = max(per_sequence, key=per_sequence.get, default=None)
        if name and self.batch_size * per_sequence[name] > MAX_TRAIN_FLOATS:
            f = getattr(self, name)
            raise ConfigError("batch_size", f"{self.batch_size:,} sequences of up to {self.max_len} steps with "
                                            f"{name} hidden_size {f.hidden_size} x {f.num_layers} layers need about "
                                            f"{self.batch_size * per_sequence[name] * 20 / 1e9:.0f} GB to train; "
                                            f"at most {MAX_TRAIN_FLOATS // per_sequence[name]:,} sequences fit "
                                            "(about 2 GB)")
        if self.device in ("cuda", "mps"):
            import torch  # only here: configs stay importable without torch

            backend = torch.cuda if self.device == "cuda" else torch.backends.mps
            if not backend.is_available():
                raise ConfigError("device", f"is {self.device!r} but torch.{backend.__name__.removeprefix('torch.')}"
                                            ".is_available() is False; use 'cpu' or 'auto'")

    @classmethod
    def from_params(cls, section: Any, flavors: list[str], path: str = "train") -> TrainConfig:
        """The `train:` section with a section for each of `flavors`; another flavor's may be there or not."""
        if not isinstance(section, dict):
            raise ConfigError(path, f"must be a mapping of {cls.keys()} and flavor sections, got {shown(section)}")
        for name in flavors:
            if name not in section:
                raise ConfigError(f"{path}.{name}", f"missing key: a section with {FlavorConfig.keys()}")
        nested = {name: FlavorConfig.from_dict(section[name], f"{path}.{name}") if name in section else None
                  for name in FLAVOR_NAMES}
        return cls.from_dict({k: v for k, v in section.items() if k not in FLAVOR_NAMES}, path, **nested)

    def flavor(self, name: str) -> FlavorConfig:
        """The section of one flavor, which must be there."""
        section = getattr(self, name)
        if section is None:
            raise ConfigError(name, f"missing key: a section with {FlavorConfig.keys()}")
        return section

    def record(self, name: str) -> dict[str, Any]:
        """What a `name` model is trained from, as params.yaml writes it: the shared keys and its own section."""
        return {k: getattr(self, k) for k in self.keys()} | {name: dataclasses.asdict(self.flavor(name))}


@dataclasses.dataclass(frozen=True)
class EvalConfig(Config):
    """`evaluate:` flip timing and length generalization."""

    seed: int = param(1, ge=0, doc="seed of the fixed-length test sets")
    lengths: list[int] = param([50, 100, 200, 500, 1000, 2000, 5000, 10000], ge=1,
                               doc="fixed lengths far beyond training to test")
    num_sequences: int = param(500, ge=1, doc="sequences per fixed-length set")
    ignore_first: int = param(1, ge=0, doc="first steps not counted as false alarms")

    def check(self) -> None:
        _check_distinct("lengths", self.lengths)
        for i, length in enumerate(self.lengths):
            _check_fits(f"lengths[{i}]", self.num_sequences, length)


@dataclasses.dataclass(frozen=True)
class RetentionConfig(Config):
    """`retention:` how long the memory of a -1 lasts, far past the training lengths."""

    seed: int = param(2, ge=0, doc="seed of the random digits after (and without) the -1")
    num_sequences: int = param(64, ge=1, doc="sequences with a -1 first, and as many without one")
    max_distance: int = param(100_000, ge=10, doc="steps after the -1 to follow the decision for")

    def check(self) -> None:
        _check_fits("num_sequences", self.num_sequences, self.max_distance + 1)


@dataclasses.dataclass(frozen=True)
class ProbeConfig(Config):
    """`probe:` the exercise's probe sequence and where to place the -1."""

    sequence: list[int] = param([1, 2, 3, 4, 5, 6, 7, 8, 9], ge=0, le=9, doc="probe sequence, values 0..9")
    positions: list[int] = param([0, 4, 8], ge=0, doc="positions at which a copy gets a -1")
    units: int = param(2, ge=1, le=8, doc="hidden units to plot: those most correlated with 'a -1 was seen'")

    def check(self) -> None:
        _check_distinct("positions", self.positions)
        for i, pos in enumerate(self.positions):
            if pos >= len(self.sequence):
                raise ConfigError(f"positions[{i}]", f"must be < len(sequence) = {len(self.sequence)}, got {pos}")


@dataclasses.dataclass(frozen=True)
class AttractorsConfig(Config):
    """`attractors:` the search for the states each digit leaves unchanged, or brings back (seqmem.fixed_points)."""

    seed: int = param(0, ge=0, doc="seed of the sequences whose states start the search")
    num_starts: int = param(128, ge=1, le=4096, doc="starting states, sampled along sequences with and without a -1")
    iters: int = param(300, ge=0, le=100_000, doc="Adam steps on q = |F(s, x) - s|^2 / 2, all starts at once")
    lr: float = param(0.01, gt=0, le=1, doc="Adam's learning rate")
    newton: int = param(20, ge=0, le=1000, doc="Newton steps that polish each minimum, in float64")
    q_tol: float = param(1e-14, gt=0, le=1, doc="a minimum with q below this is a fixed point (of F^k, for a cycle)")
    merge_tol: float = param(1e-6, gt=0, le=1, doc="fixed points (or a cycle's states) closer than this are one")
    max_period: int = param(2, ge=1, le=6, doc="also find each digit's cycles, orbits of period 2..this (1: fixed "
                            "points only)")
    cycle_starts: int = param(64, ge=1, le=4096, doc="the cycle search starts from the first this many starts (all, "
                              "if fewer); each costs about k times a fixed-point start")
    drift_steps: int = param(100_000, ge=1, le=10_000_000,
                             doc="steps to follow the input-averaged drift after a -1 (the predicted half-life)")
