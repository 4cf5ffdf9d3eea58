"""A seed sweep's table, from `dvc exp show --json`: one row per experiment, and how many seeds hold.

    dvc exp show --json | python scripts/seeds.py

For each model: accuracy at the longest of `evaluate.lengths` and the memory half-life (retention).
A seed *holds* when that accuracy is at least 99% and the memory outlasts `retention.max_distance`.
Every experiment of the listing is a row, named, with its `train.seed`; failed ones are counted apart.
"""

from __future__ import annotations

import json
import sys

HOLDS_FROM = 0.99  # accuracy at the longest length


def experiments(show: list[dict]) -> list[dict]:
    """Each experiment's {name, error, params, metrics}, as `dvc exp show --json` lists them under their baseline."""
    out = []
    for baseline in show:
        for exp in baseline.get("experiments") or []:
            for rev in exp["revs"]:
                data = rev.get("data") or {}
                params = ((data.get("params") or {}).get("params.yaml") or {}).get("data") or {}
                metrics = {}
                for file in (data.get("metrics") or {}).values():
                    for flavor, values in (file.get("data") or {}).items():
                        metrics.setdefault(flavor, {}).update(values)
                out.append({"name": rev["name"] or rev["rev"][:7], "error": rev.get("error"), "params": params,
                            "metrics": metrics})
    return out


def _half_life(value: int | None, followed: int) -> str:
    return f"> {followed:,}" if value is None else f"{value:,}"


def table(exps: list[dict]) -> str:
    """Markdown: a row per experiment (sorted by seed), then a line per model: how many seeds hold."""
    done = sorted((e for e in exps if not e["error"] and e["metrics"]), key=lambda e: (e["params"]["train"]["seed"],
                                                                                        e["name"]))
    if not done:
        return "no finished experiment in this listing"
    flavors = [f for f in done[0]["params"]["flavors"] if all(f in e["metrics"] for e in done)]
    longest, followed = max(done[0]["params"]["evaluate"]["lengths"]), done[0]["params"]["retention"]["max_distance"]
    head = ["experiment", "train.seed"]
    for f in flavors:
        head += [f"{f.upper()} accuracy at {longest:,}", f"{f.upper()} half-life"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    held = dict.fromkeys(flavors, 0)
    for e in done:
        row = [e["name"], str(e["params"]["train"]["seed"])]
        for f in flavors:
            m = e["metrics"][f]
            # a half-life of null (longer than followed) is left out of `dvc exp show --json` altogether
            acc, half = m["accuracy_by_length"][str(longest)], m.get("half_life")
            held[f] += acc >= HOLDS_FROM and half is None
            row += [f"{100 * acc:.1f}%", _half_life(half, followed)]
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    for f in flavors:
        lines.append(f"{f.upper()}: {held[f]} of {len(done)} seeds hold (at least {HOLDS_FROM:.0%} at length "
                     f"{longest:,}, memory past {followed:,} steps)")
    failed = [e["name"] for e in exps if e["error"]]
    if failed:
        lines.append(f"failed, left out: {', '.join(failed)}")
    return "\n".join(lines)


def main() -> None:
    try:
        show = json.load(sys.stdin)
    except json.JSONDecodeError as e:
        sys.exit(f"seeds: standard input is not `dvc exp show --json` output: {e}")
    if not isinstance(show, list):
        sys.exit("seeds: standard input is not `dvc exp show --json` output: expected a list of revisions")
    try:
        print(table(experiments(show)))
    except (KeyError, TypeError, AttributeError, ValueError) as e:  # a listing of another shape
        sys.exit(f"seeds: standard input is not `dvc exp show --json` output of this pipeline: "
                 f"{type(e).__name__} {e}")


if __name__ == "__main__":
    main()
