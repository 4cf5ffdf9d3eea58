"""A seed sweep's table, from `dvc exp show --json`: one row per experiment, and how many seeds hold.

    dvc exp show --json | python scripts/seeds.py

For each model: accuracy at the longest of `evaluate.lengths` and the memory half-life (retention).
A seed *holds* when that accuracy is at least 99% and the memory outlasts `retention.max_distance`.
Every experiment of the listing is a row, named, with its `train.seed`; failed ones are counted apart.
Experiments that differ in any param but the seed are tabled and counted apart, a group each, headed
by the params that set it apart; a seed that ran twice in a group counts once.
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


def _flat(d: dict, prefix: str = "") -> dict[str, str]:
    """{"train": {"rnn": {"hidden_size": 8}}} -> {"train.rnn.hidden_size": "8"}; lists as JSON text."""
    out = {}
    for k, v in d.items():
        out |= _flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": json.dumps(v)}
    return out


def groups(done: list[dict]) -> list[tuple[dict[str, str], list[dict]]]:
    """Experiments grouped by every param but train.seed: (the params that set the group apart, its experiments).

    A seed count means something only among runs that differ in nothing else; an experiment with
    hidden_size 8 is another model, not another seed.
    """
    flat = [_flat(e["params"]) for e in done]
    keys = sorted({k for f in flat for k in f} - {"train.seed"})
    varying = [k for k in keys if len({f.get(k) for f in flat}) > 1]
    out: dict[tuple, tuple[dict, list]] = {}
    for e, f in zip(done, flat, strict=True):
        key = tuple(f.get(k) for k in varying)
        out.setdefault(key, ({k: v for k, v in zip(varying, key, strict=True)}, []))[1].append(e)
    return list(out.values())


def _group_table(exps: list[dict]) -> list[str]:
    """A row per experiment (by seed), then a line per model: how many distinct seeds hold."""
    flavors = [f for f in exps[0]["params"]["flavors"] if all(f in e["metrics"] for e in exps)]
    longest, followed = max(exps[0]["params"]["evaluate"]["lengths"]), exps[0]["params"]["retention"]["max_distance"]
    head = ["experiment", "train.seed"]
    for f in flavors:
        head += [f"{f.upper()} accuracy at {longest:,}", f"{f.upper()} half-life"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    held: dict[str, dict[int, bool]] = {f: {} for f in flavors}
    seen: dict[int, list[str]] = {}
    for e in exps:
        seed = e["params"]["train"]["seed"]
        seen.setdefault(seed, []).append(e["name"])
        row = [e["name"], str(seed)]
        for f in flavors:
            m = e["metrics"][f]
            # a half-life of null (longer than followed) is left out of `dvc exp show --json` altogether
            acc, half = m["accuracy_by_length"][str(longest)], m.get("half_life")
            held[f].setdefault(seed, acc >= HOLDS_FROM and half is None)  # a repeated seed counts once
            row += [f"{100 * acc:.1f}%", _half_life(half, followed)]
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    for f in flavors:
        lines.append(f"{f.upper()}: {sum(held[f].values())} of {len(held[f])} seeds hold (at least {HOLDS_FROM:.0%} "
                     f"at length {longest:,}, memory past {followed:,} steps)")
    for seed, names in seen.items():
        if len(names) > 1:
            lines.append(f"seed {seed} ran {len(names)} times ({', '.join(names)}): counted once")
    return lines


def table(exps: list[dict]) -> str:
    """Markdown: per group of experiments that differ only in their seed, a row per experiment and the count."""
    done = sorted((e for e in exps if not e["error"] and e["metrics"]), key=lambda e: (e["params"]["train"]["seed"],
                                                                                        e["name"]))
    if not done:
        return "no finished experiment in this listing"
    found = groups(done)
    lines = []
    for apart, members in found:
        if len(found) > 1:  # say what sets each group apart: its seeds are counted apart from the others'
            lines += [f"### {', '.join(f'{k}={v}' for k, v in apart.items())}", ""]
        lines += [*_group_table(members), ""]
    failed = [e["name"] for e in exps if e["error"]]
    if failed:
        lines.append(f"failed, left out: {', '.join(failed)}")
    return "\n".join(lines).rstrip()


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
