"""Every model's headline numbers on one screen, from the metrics stage evaluate and probe wrote.

    python scripts/results.py        # a table for the terminal: a row per measure, a column per model
    python scripts/results.py --md   # the same as Markdown (the README's "Results at a glance" is this)

`dvc metrics show` lists every key of every metrics file as a column (two thousand characters wide);
this picks the few that answer the project's questions, and says "> 100,000 steps" where a memory
outlasted what was followed (a null in the metrics). To compare runs: `dvc exp show --only-changed --md`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from seqmem.core.artifacts import read_metrics  # noqa: E402
from seqmem.core.config import FLAVOR_NAMES  # noqa: E402
from stages.common import load_params  # noqa: E402

SCREEN = 100  # columns: the README's first look fits one screen


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2%}"


def predicted_end(m: dict, steps: int) -> str:
    """When the dynamics say the memory ends, from a model's metrics/attractors entry, in words."""
    if m.get("predicted_half_life") is not None:
        return f"{m['predicted_half_life']:,} steps"
    if m.get("drift_settled_period") == 1:
        return "never ('seen' point)"
    if m.get("drift_settled_period"):
        return f"never ('seen' {m['drift_settled_period']}-cycle)"
    return f"not within {steps:,} steps"


def rows(root: Path = ROOT) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """(model names, [(measure, a value per model)]) from root's metrics/ and params.yaml."""
    params = load_params(root / "params.yaml")
    flavors = sorted(params["flavors"], key=FLAVOR_NAMES.index)
    kinds = {k: read_metrics(root / "metrics" / k) for k in ("evaluate", "retention", "readout", "attractors")}
    missing = [f"metrics/{k}/{f}.json" for k, m in kinds.items() for f in flavors if f not in m]
    if missing:
        raise SystemExit(f"results: {missing[0]} is missing; run `dvc repro` first")
    ev, ret, read, att = (kinds[k] for k in ("evaluate", "retention", "readout", "attractors"))
    data, followed = params["data"], params["retention"]["max_distance"]
    longest = max(ev[flavors[0]]["accuracy_by_length"], key=int)
    drift = params["attractors"]["drift_steps"]

    def per(fn) -> list[str]:
        return [fn(f) for f in flavors]

    def half(f: str) -> str:
        h = ret[f]["half_life"]
        return f"> {followed:,} steps" if h is None else f"{h:,} steps"

    def held_by(f: str) -> str:
        point, cycle = att[f]["digits_with_stable_seen"], att[f].get("digits_with_stable_seen_cycle")
        return f"{point} of 10" + ("" if cycle is None else f" / {cycle} of 10")

    table = [
        (f"validation accuracy ({data['num_sequences']:,} sequences, lengths {data['min_len']}..{data['max_len']})",
         per(lambda f: _pct(ev[f]["accuracy"]))),
        ("flips at the -1 itself / stays flipped",
         per(lambda f: f"{_pct(ev[f]['lag0_share'])} / {_pct(ev[f]['latch_rate'])}")),
        ("false alarms before the -1", per(lambda f: _pct(ev[f]["false_alarm_rate"]))),
        (f"accuracy at length {int(longest):,}", per(lambda f: _pct(ev[f]["accuracy_by_length"][longest]))),
        ("memory half-life (until half the sequences forget)", per(half)),
        (f"false alarms within {followed:,} steps", per(lambda f: _pct(ret[f]["false_alarm_at_max"]))),
        ("linear readout of 'a -1 was seen' from h", per(lambda f: _pct(read[f]["linear_readout_h"]))),
        ("digits with a stable 'seen' point / 2+-cycle", per(held_by)),
        ("memory's end, predicted from the dynamics", per(lambda f: predicted_end(att[f], drift))),
    ]
    return [f.upper() for f in flavors], table


def markdown(models: list[str], table: list[tuple[str, list[str]]]) -> str:
    """The table as Markdown."""
    lines = ["| measure | " + " | ".join(models) + " |", "|---" * (len(models) + 1) + "|"]
    return "\n".join(lines + [f"| {label} | " + " | ".join(values) + " |" for label, values in table])


def plain(models: list[str], table: list[tuple[str, list[str]]], columns: int = SCREEN) -> str:
    """The table for a terminal: right-aligned values beside their labels, or under them where that is too wide."""
    width = max(len(label) for label, _ in table)
    cols = [max(len(m), *(len(v[i]) for _, v in table)) for i, m in enumerate(models)]

    def line(values: list[str]) -> str:
        return "  ".join(v.rjust(c) for v, c in zip(values, cols, strict=True))

    if width + 2 + len(line(models)) <= columns:
        rows = (f"{label.ljust(width)}  {line(v)}" for label, v in table)
        return "\n".join([" " * (width + 2) + line(models), *rows])
    # three models or more: each label on a line of its own, its values indented below it
    return "\n".join(["  " + line(models), *(f"{label}\n  {line(v)}" for label, v in table)])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--md", action="store_true", help="print Markdown instead of a plain table")
    args = p.parse_args()
    models, table = rows()
    print(markdown(models, table) if args.md else plain(models, table))


if __name__ == "__main__":
    main()
