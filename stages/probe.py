"""Stage probe: per-step decision traces of every model on the exercise's probe sequences."""

from pathlib import Path

from seqmem.artifacts import write_csv
from seqmem.config import ProbeConfig
from seqmem.model import load_checkpoint
from seqmem.probe import probe_set, trace_rows
from stages.common import load_flavors, load_section, parser, run


def main(args) -> None:
    flavors = load_flavors(args.params)
    cfg = ProbeConfig.from_dict(load_section(args.params, "probe"), "probe")
    models = {f: load_checkpoint(Path(args.models) / f"{f}.pt") for f in flavors}
    probes = probe_set(cfg.sequence, cfg.positions)
    for f, model in models.items():
        write_csv(trace_rows(model, probes), Path(args.out) / f"{f}.csv")


def cli(argv: list[str] | None = None) -> None:
    """Command line: see --help."""
    p = parser(__doc__)
    p.add_argument("--models", required=True, help="folder of <flavor>.pt checkpoints")
    p.add_argument("--out", required=True, help="folder for <flavor>.csv traces")
    run(main, p.parse_args(argv))


if __name__ == "__main__":
    cli()
