"""Write the generated parts of the docs: the params reference and the README's results at a glance.

    python scripts/docs.py           # rewrite them from seqmem/core/config.py and the committed metrics
    python scripts/docs.py --check   # exit 1, naming the file, where they are stale (tests/test_docs.py)

Each generated part sits between `<!-- generated: NAME -->` and `<!-- end: NAME -->` in its file;
the words around it are written by hand.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from seqmem.core import config  # noqa: E402
from seqmem.core.artifacts import read_metrics  # noqa: E402
from stages.common import load_params  # noqa: E402

SECTIONS = [("data", config.DataConfig), ("train", config.TrainConfig), ("train.<flavor>", config.FlavorConfig),
            ("evaluate", config.EvalConfig), ("retention", config.RetentionConfig), ("probe", config.ProbeConfig),
            ("attractors", config.AttractorsConfig)]


def _range(meta: dict) -> str:
    if meta["choices"]:
        return ", ".join(f"`{c}`" for c in meta["choices"])
    parts = [f"{sym} {meta[k]:,}" if isinstance(meta[k], int) else f"{sym} {meta[k]:g}"
             for k, sym in (("ge", ">="), ("gt", ">"), ("le", "<=")) if meta[k] is not None]
    return ", ".join(parts) or "any"


def params_reference() -> str:
    """A table row per key: default, allowed values, meaning; from the configs' fields."""
    rows = ["| key | default | allowed | meaning |", "|---|---|---|---|",
            f"| `flavors` | `{list(config.FLAVOR_NAMES[:2])}` | a list drawn from {', '.join(config.FLAVOR_NAMES)} "
            "| one `train@<flavor>` stage each |"]
    for name, cls in SECTIONS:
        for f in dataclasses.fields(cls):
            if f.default is None:  # a nested flavor section, listed as train.<flavor>
                continue
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            rows.append(f"| `{name}.{f.name}` | `{default}` | {_range(f.metadata)} | {f.metadata['doc']} |")
    return "\n".join(rows)


def committed(kind: str) -> dict:
    """{flavor: metrics} from the committed metrics/<kind>/<flavor>.json (kind: evaluate, retention, readout)."""
    return read_metrics(ROOT / "metrics" / kind)


def results() -> str:
    """Every model's headline numbers, as `python scripts/results.py --md` prints them."""
    from results import markdown, rows  # scripts/results.py, beside this file

    return markdown(*rows(ROOT))


def probe_help() -> str:
    """seqmem-probe --help, as a terminal 100 columns wide prints it."""
    import os

    os.environ["COLUMNS"] = "100"
    from seqmem.cli import parser

    p = parser()
    p.color = False  # 3.14 colours help where stdout is a terminal or FORCE_COLOR is set; older ones ignore it
    return f"```\n$ seqmem-probe --help\n{p.format_help().rstrip()}\n```"


def probing() -> str:
    """How the decision is reached, per model, from the committed evaluate and readout metrics."""
    metrics, readout = committed("evaluate"), committed("readout")
    flavors = sorted(metrics, key=config.FLAVOR_NAMES.index)

    def row(label: str, value) -> str:
        return f"| {label} | " + " | ".join(value(f) for f in flavors) + " |"

    def pct(x: float | None) -> str:
        return "" if x is None else f"{x:.1%}"

    by_length = lambda L: lambda f: pct(metrics[f]["accuracy_by_length"].get(str(L)))  # noqa: E731
    lengths = sorted(map(int, metrics[flavors[0]]["accuracy_by_length"]))
    return "\n".join([
        "| | " + " | ".join(f.upper() for f in flavors) + " |", "|---" * (len(flavors) + 1) + "|",
        row("flips exactly at the -1 (lag 0)", lambda f: pct(metrics[f]["lag0_share"])),
        row("mean lag (steps)", lambda f: f"{metrics[f]['mean_lag']:.1f}"),
        row("stays flipped to the end (latch rate)", lambda f: pct(metrics[f]["latch_rate"])),
        row("false alarms before the -1", lambda f: pct(metrics[f]["false_alarm_rate"])),
        *[row(f"accuracy, length {L:,}", by_length(L)) for L in lengths],
        row('linear readout of "a -1 was seen" from h_t', lambda f: pct(readout[f]["linear_readout_h"])),
        row("linear readout from the cell state c_t", lambda f: pct(readout[f].get("linear_readout_c"))),
    ])


def attractors() -> str:
    """Per model, from the committed metrics/attractors/<flavor>.json: what holds the memory."""
    found = committed("attractors")
    flavors = sorted(found, key=config.FLAVOR_NAMES.index)
    cfg = load_params(ROOT / "params.yaml")["attractors"]
    steps, periods = cfg["drift_steps"], f"2..{cfg['max_period']}" if cfg["max_period"] > 2 else "2"

    def row(label: str, value) -> str:
        return f"| {label} | " + " | ".join(value(found[f]) for f in flavors) + " |"

    def tau(x: float | None) -> str:
        return "none" if x is None else f"{x:.2f} steps"

    def digits(key: str):
        return lambda m: "not searched" if m.get(key) is None else f"{m[key]} of 10"

    def end(m: dict) -> str:
        from results import predicted_end  # scripts/results.py, beside this file

        return predicted_end(m, steps)

    return "\n".join([
        "| | " + " | ".join(f.upper() for f in flavors) + " |", "|---" * (len(flavors) + 1) + "|",
        row("digits with a stable 'a -1 was seen' point (P > 0.5)", digits("digits_with_stable_seen")),
        row(f"digits with a stable 'seen' cycle (period {periods}, P > 0.5 at each state)",
            digits("digits_with_stable_seen_cycle")),
        row("digits with a stable 'no -1' point (P < 0.5)", digits("digits_with_stable_not_seen")),
        row("digits with a stable 'no -1' cycle (P < 0.5 at each state)", digits("digits_with_stable_not_seen_cycle")),
        row("digits with no fixed point at all", digits("digits_without_fixed_point")),
        row("slowest stable 'seen' point's time constant", lambda m: tau(m.get("slowest_seen_time_constant"))),
        row("memory's end, predicted from the dynamics", end),
        row("searches that converged to a fixed point", lambda m: f"{m['converged']:.1%}"),
    ])


def prediction() -> str:
    """Predicted against measured half-lives of the exercise's LSTM, from benchmarks/memory_prediction.json."""
    rows = json.loads((ROOT / "benchmarks/memory_prediction.json").read_text())["rows"]
    out = ["| training seed | predicted from the dynamics | measured: half forget by | so the crossing lies in | "
           "predicted / measured |", "|---|---|---|---|---|"]
    for r in rows:
        span = f"({r['measured_after']:,}, {r['measured']:,}]" if r["measured_after"] else "-"
        out.append(f"| {r['seed']} | {r['predicted']:,} steps | {r['measured']:,} steps | {span} | "
                   f"{r['predicted'] / r['measured']:.2f} |")
    return "\n".join(out)


PARTS = {"params": (ROOT / "docs/params.md", params_reference), "results": (ROOT / "README.md", results),
         "help": (ROOT / "docs/seqmem-probe.md", probe_help), "probing": (ROOT / "docs/probing.md", probing),
         "attractors": (ROOT / "README.md", attractors), "prediction": (ROOT / "README.md", prediction)}


def render(text: str, name: str, body: str) -> str:
    """`text` with its generated part NAME replaced by `body`."""
    pattern = re.compile(rf"(<!-- generated: {name} -->\n).*?(<!-- end: {name} -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"docs.py: no '<!-- generated: {name} -->' ... '<!-- end: {name} -->' block")
    return pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 where a generated part is stale")
    args = p.parse_args()
    stale = []
    for name, (path, make) in PARTS.items():
        text = path.read_text()
        new = render(text, name, make())
        if new != text:
            stale.append(f"{path.relative_to(ROOT)} ({name})")
            if not args.check:
                path.write_text(new)
    if args.check and stale:
        print(f"docs.py: stale: {', '.join(stale)}; run `python scripts/docs.py`")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
