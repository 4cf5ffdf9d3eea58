"""Stage evaluate@<flavor>: score one trained model, and follow its memory of a -1 for retention.max_distance steps.

One process for both, and no torch in it: the model is read by seqmem.checkpoint and run by seqmem.kernels.
"""

from seqmem.core.config import FLAVOR_NAMES, EvalConfig, RetentionConfig
from stages.common import command, load_params, section, trained_from


def _four_places(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.4f}"  # None: no sequence to measure it on (no positives, say)


def main(args) -> None:
    params = load_params(args.params)
    cfg = EvalConfig.from_dict(section(params, "evaluate", args.params), "evaluate")
    rcfg = RetentionConfig.from_dict(section(params, "retention", args.params), "retention")
    trained = trained_from(params, args.flavor, args.params)  # what the model must be trained from: valid first
    # numba only now (no torch at all: seqmem.checkpoint reads the model): a bad param is refused at once
    from seqmem.checkpoint import check_provenance, read_checkpoint
    from seqmem.core.artifacts import write_csv, write_json
    from seqmem.evaluate import record
    from seqmem.retention import retention
    from seqmem.valset import load_valset

    # read and check everything before writing: the model must be the one params.yaml's train section made
    val, model = load_valset(args.val), read_checkpoint(args.model)
    check_provenance(model, args.model, args.flavor, trained)
    metrics, rows = record(model, val, cfg)
    held, curve = retention(model, rcfg)
    longest, half = str(max(cfg.lengths)), held["half_life"]
    shown = {"accuracy": metrics["accuracy"], "lag0": metrics["lag0_share"], "latch": metrics["latch_rate"],
             f"accuracy at length {longest}": metrics["accuracy_by_length"][longest]}
    print(f"{model.flavor:>4}: " + "  ".join(f"{k} {_four_places(v)}" for k, v in shown.items()), flush=True)
    print(f"{model.flavor:>4}: memory half-life {'> ' + str(rcfg.max_distance) if half is None else half} steps, "
          f"false alarms by step {rcfg.max_distance}: {held['false_alarm_at_max']:.3f}", flush=True)
    # each file keyed by the model: `dvc metrics diff` then names it
    write_json({model.flavor: metrics}, args.out)
    write_csv([{"model": model.flavor, **row} for row in rows], args.length_curve)
    write_json({model.flavor: held}, args.retention)
    write_csv([{"model": model.flavor.upper(), **row} for row in curve], args.retention_curve)


cli = command(__doc__, main, {
    "--flavor": {"choices": FLAVOR_NAMES, "help": "the model's flavor: its checkpoint must say so"},
    "--val": "validation set from stage generate",
    "--model": "checkpoint from stage train@<flavor>",
    "--out": "metrics JSON to write",
    "--length-curve": "accuracy-by-length CSV to write",
    "--retention": "retention metrics JSON to write",
    "--retention-curve": "retention curve CSV to write",
})


if __name__ == "__main__":
    cli()
