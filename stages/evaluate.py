"""Stage evaluate: score every trained model on the validation set and on much longer sequences."""

from pathlib import Path

from seqmem.core.config import EvalConfig
from stages.common import command, load_flavors, load_section


def _four_places(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.4f}"  # None: no sequence to measure it on (no positives, say)


def main(args) -> None:
    flavors = load_flavors(args.params)
    cfg = EvalConfig.from_dict(load_section(args.params, "evaluate"), "evaluate")
    # torch only now: a bad param is refused in a fraction of a second, not after 4 s of imports
    from seqmem.core.artifacts import write_csv, write_json
    from seqmem.evaluate import record
    from seqmem.model import load_checkpoint
    from seqmem.valset import load_valset

    val = load_valset(args.val)
    models = {f: load_checkpoint(Path(args.models) / f"{f}.pt") for f in flavors}  # load all before writing
    metrics, curve, longest = {}, [], str(max(cfg.lengths))
    for f, model in models.items():
        metrics[f], rows = record(model, val, cfg)
        curve += [{"model": f, **row} for row in rows]
        m = metrics[f]
        shown = {k: _four_places(v) for k, v in (("accuracy", m["accuracy"]), ("lag0", m["lag0_share"]),
                                                   ("latch", m["latch_rate"]),
                                                   (f"accuracy at length {longest}", m["accuracy_by_length"][longest]))}
        print(f"{f:>4}: " + "  ".join(f"{k} {v}" for k, v in shown.items()), flush=True)
    write_json(metrics, args.out)
    write_csv(curve, args.length_curve)


cli = command(__doc__, main, {
    "--val": "validation set from stage generate",
    "--models": "folder of <flavor>.pt checkpoints",
    "--out": "metrics JSON to write",
    "--length-curve": "accuracy-by-length CSV to write",
})


if __name__ == "__main__":
    cli()
