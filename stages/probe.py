"""Stage probe@<flavor>: one model's per-step decisions on the exercise's probe sequences, and its readouts."""

from seqmem.core.config import ProbeConfig
from stages.common import command, load_section


def main(args) -> None:
    cfg = ProbeConfig.from_dict(load_section(args.params, "probe"), "probe")
    # torch only now: a bad param is refused in a fraction of a second, not after 4 s of imports
    from seqmem.core.artifacts import write_csv, write_json
    from seqmem.hidden import memory_view
    from seqmem.model import load_checkpoint
    from seqmem.probes import followed_pair, probe_set, staircase_rows, trace_rows
    from seqmem.valset import load_valset

    val, model = load_valset(args.val), load_checkpoint(args.model)
    probes = probe_set(cfg.sequence, cfg.positions)
    traces, staircase = trace_rows(model, probes), staircase_rows(model, cfg.sequence)
    metrics, hidden = memory_view(model, val.X, val.lengths, followed_pair(probes, cfg.positions), cfg.units)
    write_csv(traces, args.traces)
    write_csv(staircase, args.staircase)
    write_csv(hidden, args.hidden)
    write_json({model.flavor: metrics}, args.readout)
    print(f"{model.flavor:>4}: " + "  ".join(f"{k} {v:.4f}" for k, v in metrics.items()))


cli = command(__doc__, main, {
    "--val": "validation set from stage generate (for the linear readouts)",
    "--model": "checkpoint from stage train@<flavor>",
    "--traces": "decision traces CSV to write",
    "--staircase": "CSV to write: the -1 at every position",
    "--hidden": "hidden-unit trajectories CSV to write",
    "--readout": "linear-readout metrics JSON to write",
})


if __name__ == "__main__":
    cli()
