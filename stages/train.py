"""Stage train@<flavor>: one definition for every recurrent flavor."""

from seqmem.core.config import FLAVOR_NAMES, ConfigError, TrainConfig
from stages.common import command, load_section


def main(args) -> None:
    cfg = TrainConfig.from_params(load_section(args.params, "train"), [args.flavor])
    # torch only now: a bad param is refused in a fraction of a second, not after 4 s of imports
    from seqmem.core.artifacts import write_csv
    from seqmem.core.numerics import exactness
    from seqmem.model import save_checkpoint
    from seqmem.train import fit
    from seqmem.valset import load_valset

    exact, why = exactness()
    if not exact:  # said once per model, plainly: not a warning, a fact about this machine
        print(f"note: {why}")
    val = load_valset(args.val)
    try:
        model, history = fit(cfg, args.flavor, val=val)
    except ConfigError as e:  # diverged: name the section the lr was written in
        raise e.under(f"train.{args.flavor}") from None
    # params.yaml must still say what it said when training began: a second `dvc exp run -S` in this workspace
    # rewrites it before DVC takes its lock, and DVC would then record this model under the other run's params
    if TrainConfig.from_params(load_section(args.params, "train"), [args.flavor]).record(args.flavor) != \
            model.train_params:
        raise ConfigError(args.params, f"changed while train@{args.flavor} ran, so no model was written: another "
                                       "`dvc exp run` in this workspace? Experiments here run one at a time; "
                                       "`dvc exp run --queue` runs several (docs/experiments.md#one-at-a-time)")
    # the model first: CSVs must never describe a run whose model was not written
    save_checkpoint(model, args.model)
    # rounded so the committed CSVs stay small and diffable; the checkpoint keeps full precision
    write_csv([{"step": i + 1, "loss": round(v, 6)} for i, v in enumerate(history["loss"])], args.loss)
    val_rows = zip(history["val_step"], history["val_acc"], strict=True)
    write_csv([{"step": s, "val_acc": a} for s, a in val_rows], args.val_acc)


cli = command(__doc__, main, {
    "--flavor": {"choices": FLAVOR_NAMES},
    "--val": "validation set from stage generate",
    "--model": "checkpoint to write",
    "--loss": "per-step training loss CSV to write",
    "--val-acc": "validation accuracy CSV to write",
})


if __name__ == "__main__":
    cli()
