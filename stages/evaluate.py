"""Stage evaluate@<flavor>: score one trained model on the validation set and on much longer sequences."""

from seqmem.core.config import EvalConfig
from stages.common import command, load_section


def _four_places(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.4f}"  # None: no sequence to measure it on (no positives, say)


def main(args) -> None:
    cfg = EvalConfig.from_dict(load_section(args.params, "evaluate"), "evaluate")
    # torch only now: a bad param is refused in a fraction of a second, not after 4 s of imports
    from seqmem.core.artifacts import write_csv, write_json
    from seqmem.evaluate import record
    from seqmem.model import load_checkpoint
    from seqmem.valset import load_valset

    val, model = load_valset(args.val), load_checkpoint(args.model)  # read everything before writing
    metrics, rows = record(model, val, cfg)
    longest = str(max(cfg.lengths))
    shown = {"accuracy": metrics["accuracy"], "lag0": metrics["lag0_share"], "latch": metrics["latch_rate"],
             f"accuracy at length {longest}": metrics["accuracy_by_length"][longest]}
    print(f"{model.flavor:>4}: " + "  ".join(f"{k} {_four_places(v)}" for k, v in shown.items()), flush=True)
    write_json({model.flavor: metrics}, args.out)  # keyed by the model: `dvc metrics diff` then names it
    write_csv([{"model": model.flavor, **row} for row in rows], args.length_curve)


cli = command(__doc__, main, {
    "--val": "validation set from stage generate",
    "--model": "checkpoint from stage train@<flavor>",
    "--out": "metrics JSON to write",
    "--length-curve": "accuracy-by-length CSV to write",
})


if __name__ == "__main__":
    cli()
