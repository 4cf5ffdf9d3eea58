"""What fits: each stage's peak memory and each git-tracked output's size, computed from the params.

check_params refuses a params file whose pipeline would not fit, before any stage runs (DVC deletes
a stage's outputs before running it, so a stage that runs out of memory has already lost them).
The per-step costs are measured peaks, rounded up; tests/test_budget.py runs stages at the edges.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from seqmem.core.config import (
    GATES,
    AttractorsConfig,
    ConfigError,
    DataConfig,
    EvalConfig,
    ProbeConfig,
    RetentionConfig,
    TrainConfig,
    largest_fitting,
    n_weights,
)

STAGE_MEMORY = 4 << 30  # the promise: every stage peaks under 4 GiB (24 GiB machines run two at a time)
MAX_TRACKED = 4 << 20  # every output git tracks (CSVs, JSON) stays under 4 MiB: a repo, not a data dump
BASE = 400 << 20  # python, torch, numpy and matplotlib loaded
EXPLORER_PAGE = 192 << 10  # plots/explorer.html without the weights: its code, and each model's fixed points
PAGE_BYTES_PER_WEIGHT = 6  # a float32 in base64 is 5.33 bytes


@dataclasses.dataclass(frozen=True)
class Cost:
    """One stage's memory or one tracked file's size, as a function of the one param that drives it."""

    what: str  # "stage probe: ..." or a file name
    key: str  # the param to turn down
    value: int  # its value now (a list's length for a list)
    unit: str  # what the value counts, for the message
    cost: Callable[[int], int]  # bytes at a given value, the other params as they are
    limit: int

    def over(self) -> bool:
        """Is it over its limit now?"""
        return self.cost(self.value) > self.limit

    def largest(self) -> int:
        """The largest value of the key that fits, the other params as they are; 0 if none does."""
        lo = largest_fitting(lambda v: self.cost(v) <= self.limit, self.value)  # costs grow with the value
        return lo if self.cost(max(lo, 1)) <= self.limit else 0


def _size(n: float) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"


def _row(*widths: int) -> int:
    return sum(widths) + len(widths)  # cells, commas and the newline


def costs(flavors: list[str], data: DataConfig, train: TrainConfig, evaluate: EvalConfig,
          retention: RetentionConfig, probe: ProbeConfig, attractors: AttractorsConfig | None = None) -> list[Cost]:
    """Every stage's peak memory and every git-tracked output's size, from checked configs.

    A key's cost is the most any stage needs at that key's value: the size of the validation set,
    for one, drives generate, train, evaluate and probe alike.
    """
    T_val, T, P = data.max_len, len(probe.sequence), len(probe.positions)  # the validation set is padded to max_len
    w = len(str(T))  # digits of a probe step
    shape = {f: (train.flavor(f).hidden_size, train.flavor(f).num_layers) for f in flavors}
    kinds = {f: 2 if f == "lstm" else 1 for f in flavors}  # an LSTM's readouts read h and c

    def trains(f: str, n: int = data.num_sequences, b: int = train.batch_size, h: int | None = None) -> int:
        h, layers = (h or shape[f][0]), shape[f][1]
        return BASE + 20 * b * train.max_len * h * layers * GATES[f] + 24 * n * T_val  # activations, the val set

    def probes(f: str, n: int = data.num_sequences, h: int | None = None) -> int:
        return BASE + 30 * n * T_val + 24 * n * T_val * (h or shape[f][0]) * kinds[f]  # readout states, float64

    def evaluates(n: int = data.num_sequences, e: int = evaluate.num_sequences) -> int:
        return BASE + 32 * max(n * T_val, e * max(evaluate.lengths))

    # the keys that drive the most first: a refusal names the first key that can fix it alone
    out = [Cost("the stages that hold the validation set", "data.num_sequences", data.num_sequences, "sequences",
                lambda n: max([evaluates(n=n)] + [m(f, n=n) for f in flavors for m in (trains, probes)]),
                STAGE_MEMORY),
           Cost("stage train", "train.batch_size", train.batch_size, "sequences",
                lambda b: max(trains(f, b=b) for f in flavors), STAGE_MEMORY),
        Cost("plots/staircase/<flavor>.csv", "probe.sequence", T, "steps",
             lambda t: t * t * _row(len(str(t)), len(str(t)), 8), MAX_TRACKED),]
    for f in flavors:
        own = train.flavor(f)
        out += [
            Cost(f"stages train@{f} and probe", f"train.{f}.hidden_size", own.hidden_size, "units",
                 lambda h, f=f: max(trains(f, h=h), probes(f, h=h)), STAGE_MEMORY),
            # a row a step, "123456,0.123456": the loss is rounded to 6 digits
            Cost(f"plots/loss/{f}.csv", f"train.{f}.steps", own.steps, "steps",
                 lambda s: s * _row(len(str(s)), 9), MAX_TRACKED),
            Cost(f"plots/hidden/{f}.csv", "probe.units", probe.units, "units",
                 lambda u, k=kinds[f]: u * k * 2 * T * _row(w + 9, 6, w, 2, 9), MAX_TRACKED),
        ]
    out += [
        Cost("plots/traces/<flavor>.csv", "probe.positions", P, "positions",
             lambda p: (p + 1) * T * _row(4, w + 9, w, 2, 8), MAX_TRACKED),
        # retention runs in the same process, after evaluate's passes have let their arrays go: the larger counts
        Cost("stage evaluate", "evaluate.num_sequences", evaluate.num_sequences, "sequences",
             lambda e: evaluates(e=e), STAGE_MEMORY),
        # a row per length (the validation set's, then these); metrics/evaluate/<flavor>.json holds as many
        Cost("plots/length/<flavor>.csv", "evaluate.lengths", len(evaluate.lengths), "lengths",
             lambda n: (T_val - data.min_len + 1 + n) * _row(4, 12, 20), MAX_TRACKED),
        Cost("stage evaluate's retention pass", "retention.num_sequences", retention.num_sequences, "sequences",
             lambda n: BASE + 40 * n * (retention.max_distance + 1), STAGE_MEMORY),
    ]
    weights = {f: n_weights(f, *shape[f]) for f in flavors}
    for f in flavors:  # the explorer page holds every model's weights
        others = sum(v for g, v in weights.items() if g != f)
        out.append(Cost("plots/explorer.html", f"train.{f}.hidden_size", shape[f][0], "units",
                        lambda h, f=f, o=others: EXPLORER_PAGE + PAGE_BYTES_PER_WEIGHT * (o + n_weights(f, h,
                                                                                                      shape[f][1])),
                        MAX_TRACKED))
    attractors = attractors or AttractorsConfig()
    for f in flavors:  # the search holds a float64 Jacobian (D x D) per start and digit, about four copies of it
        D = shape[f][0] * shape[f][1] * (2 if f == "lstm" else 1)
        out.append(Cost(f"stage probe@{f}'s fixed-point search", "attractors.num_starts", attractors.num_starts,
                        "starts", lambda n, D=D: BASE + 10 * n * D * D * 8 * 4, STAGE_MEMORY))
    return out


def check(flavors: list[str], data: DataConfig, train: TrainConfig, evaluate: EvalConfig,
          retention: RetentionConfig, probe: ProbeConfig, attractors: AttractorsConfig | None = None) -> None:
    """Refuse the first cost over its limit whose key can bring it under alone, with the largest value that fits."""
    over = [c for c in costs(flavors, data, train, evaluate, retention, probe, attractors) if c.over()]
    if not over:
        return
    first, n = next(((c, n) for c in over if (n := c.largest())), (over[0], 0))
    fits = f"at most {n:,} {first.unit} fit" if n else "nothing fits: lower the other params too"
    raise ConfigError(first.key, f"{first.what}: about {_size(first.cost(first.value))} at {first.value:,} "
                                 f"{first.unit}, over the {_size(first.limit)} allowed; {fits}")
