"""Stage probe: per-step decisions on the exercise's probe sequences, and where the memory lives."""

from pathlib import Path

from seqmem.config import ProbeConfig
from stages.common import load_flavors, load_section, parser, run


def main(args) -> None:
    flavors = load_flavors(args.params)
    cfg = ProbeConfig.from_dict(load_section(args.params, "probe"), "probe")
    # torch only now: a bad param is refused in a fraction of a second, not after 4 s of imports
    from seqmem.artifacts import write_csv, write_json
    from seqmem.dataset import load_valset
    from seqmem.hidden import memory_view
    from seqmem.model import load_checkpoint
    from seqmem.probe import NO_MINUS_ONE, probe_set, staircase_rows, trace_rows

    val = load_valset(args.val)
    models = {f: load_checkpoint(Path(args.models) / f"{f}.pt") for f in flavors}
    probes = probe_set(cfg.sequence, cfg.positions)
    # the hidden-state view follows one negative probe and one positive: the middle listed position
    middle = f"-1 at {cfg.positions[len(cfg.positions) // 2]}"
    pair = {name: probes[name] for name in (NO_MINUS_ONE, middle)}
    metrics = {}
    for f, model in models.items():
        write_csv(trace_rows(model, probes), Path(args.traces) / f"{f}.csv")
        write_csv(staircase_rows(model, cfg.sequence), Path(args.staircase) / f"{f}.csv")
        metrics[f], rows = memory_view(model, val.X, val.lengths, pair, cfg.units)
        write_csv(rows, Path(args.hidden) / f"{f}.csv")
    write_json(metrics, args.out)
    for f, m in metrics.items():
        print(f"{f:>4}: " + "  ".join(f"{k} {v:.4f}" for k, v in m.items()))


def cli(argv: list[str] | None = None) -> None:
    """Command line: see --help."""
    p = parser(__doc__)
    p.add_argument("--val", required=True, help="validation set from stage generate (for the linear probes)")
    p.add_argument("--models", required=True, help="folder of <flavor>.pt checkpoints")
    p.add_argument("--traces", required=True, help="folder for <flavor>.csv decision traces")
    p.add_argument("--staircase", required=True, help="folder for <flavor>.csv: the -1 at every position")
    p.add_argument("--hidden", required=True, help="folder for <flavor>.csv hidden-unit trajectories")
    p.add_argument("--out", required=True, help="linear-probe metrics JSON to write")
    run(main, p.parse_args(argv))


if __name__ == "__main__":
    cli()
