"""Stage probe: per-step decisions on the exercise's probe sequences, and where the memory lives."""

from pathlib import Path

from seqmem.core.config import ProbeConfig
from stages.common import command, load_flavors, load_section


def main(args) -> None:
    flavors = load_flavors(args.params)
    cfg = ProbeConfig.from_dict(load_section(args.params, "probe"), "probe")
    # torch only now: a bad param is refused in a fraction of a second, not after 4 s of imports
    from seqmem.core.artifacts import write_csv, write_json
    from seqmem.hidden import memory_view
    from seqmem.model import load_checkpoint
    from seqmem.probes import followed_pair, probe_set, staircase_rows, trace_rows
    from seqmem.valset import load_valset

    val = load_valset(args.val)
    models = {f: load_checkpoint(Path(args.models) / f"{f}.pt") for f in flavors}
    probes = probe_set(cfg.sequence, cfg.positions)
    pair = followed_pair(probes, cfg.positions)
    metrics = {}
    for f, model in models.items():
        write_csv(trace_rows(model, probes), Path(args.traces) / f"{f}.csv")
        write_csv(staircase_rows(model, cfg.sequence), Path(args.staircase) / f"{f}.csv")
        metrics[f], rows = memory_view(model, val.X, val.lengths, pair, cfg.units)
        write_csv(rows, Path(args.hidden) / f"{f}.csv")
    write_json(metrics, args.readout)
    for f, m in metrics.items():
        print(f"{f:>4}: " + "  ".join(f"{k} {v:.4f}" for k, v in m.items()))


cli = command(__doc__, main, {
    "--val": "validation set from stage generate (for the linear readouts)",
    "--models": "folder of <flavor>.pt checkpoints",
    "--traces": "folder for <flavor>.csv decision traces",
    "--staircase": "folder for <flavor>.csv: the -1 at every position",
    "--hidden": "folder for <flavor>.csv hidden-unit trajectories",
    "--readout": "linear-readout metrics JSON to write",
})


if __name__ == "__main__":
    cli()
