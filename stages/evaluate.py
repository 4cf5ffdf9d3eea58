"""Stage evaluate: score every trained model on the validation set and on much longer sequences."""

from pathlib import Path

from seqmem.artifacts import write_csv, write_json
from seqmem.config import EvalConfig
from seqmem.dataset import load_valset
from seqmem.evaluate import report
from seqmem.model import load_checkpoint
from stages.common import load_flavors, load_section, parser, run


def main(args) -> None:
    flavors = load_flavors(args.params)
    cfg = EvalConfig.from_dict(load_section(args.params, "evaluate"), "evaluate")
    val = load_valset(args.val)
    models = {f: load_checkpoint(Path(args.models) / f"{f}.pt") for f in flavors}  # load all before writing
    metrics, curve = {}, []
    for f, model in models.items():
        metrics[f], rows = report(model, val, cfg)
        curve += [{"model": f, **row} for row in rows]
    write_json(metrics, args.out)
    write_csv(curve, args.length_curve)
    for f, m in metrics.items():
        longest = max(cfg.lengths)
        print(f"{f:>4}: accuracy {m['accuracy']:.4f}  lag0 {m['lag0_share']:.4f}  latch {m['latch_rate']:.4f}  "
              f"accuracy at length {longest} {m['accuracy_by_length'][str(longest)]:.4f}")


def cli(argv: list[str] | None = None) -> None:
    """Command line: see --help."""
    p = parser(__doc__)
    p.add_argument("--val", required=True, help="validation set from stage generate")
    p.add_argument("--models", required=True, help="folder of <flavor>.pt checkpoints")
    p.add_argument("--out", required=True, help="metrics JSON to write")
    p.add_argument("--length-curve", required=True, help="accuracy-by-length CSV to write")
    run(main, p.parse_args(argv))


if __name__ == "__main__":
    cli()
