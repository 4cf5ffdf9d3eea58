"""Stage figures: matplotlib PNGs of the loss curves and decision traces."""

from pathlib import Path

from seqmem.artifacts import ArtifactError
from seqmem.figures import loss_figure, read_csv, save, traces_figure
from stages.common import load_flavors, parser, run


def _read_all(folder: str, flavors: list[str]) -> dict[str, list[dict]]:
    paths = {f: Path(folder) / f"{f}.csv" for f in flavors}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise ArtifactError(f"missing {missing[0]}; run `dvc repro` to make it")
    return {f: read_csv(p) for f, p in paths.items()}


def main(args) -> None:
    flavors = load_flavors(args.params)
    losses, traces = _read_all(args.loss, flavors), _read_all(args.traces, flavors)
    save(loss_figure(losses), args.loss_png)
    save(traces_figure(traces), args.traces_png)


def cli(argv: list[str] | None = None) -> None:
    """Command line: see --help."""
    p = parser(__doc__)
    p.add_argument("--loss", required=True, help="folder of per-flavor loss CSVs")
    p.add_argument("--traces", required=True, help="folder of per-flavor trace CSVs")
    p.add_argument("--loss-png", required=True)
    p.add_argument("--traces-png", required=True)
    run(main, p.parse_args(argv))


if __name__ == "__main__":
    cli()
