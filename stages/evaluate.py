"""Stage evaluate: score every trained model on the validation set."""

from pathlib import Path

from seqmem.artifacts import write_json
from seqmem.dataset import load_valset
from seqmem.evaluate import evaluate
from seqmem.model import load_checkpoint
from stages.common import load_flavors, parser, run


def main(args) -> None:
    flavors = load_flavors(args.params)
    val = load_valset(args.val)
    models = {f: load_checkpoint(Path(args.models) / f"{f}.pt") for f in flavors}  # load all before writing
    metrics = {f: evaluate(m, val) for f, m in models.items()}
    write_json(metrics, args.out)
    for f, m in metrics.items():
        print(f"{f:>4}: accuracy {m['accuracy']:.4f}  loss {m['loss']:.4f}")


def cli(argv: list[str] | None = None) -> None:
    """Command line: see --help."""
    p = parser(__doc__)
    p.add_argument("--val", required=True, help="validation set from stage generate")
    p.add_argument("--models", required=True, help="folder of <flavor>.pt checkpoints")
    p.add_argument("--out", required=True, help="metrics JSON to write")
    run(main, p.parse_args(argv))


if __name__ == "__main__":
    cli()
