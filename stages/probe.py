"""Stage probe@<flavor>: how one model decides and what holds its memory.

Its per-step decisions on the exercise's probe sequences, linear readouts of its state, and every
digit's fixed points and short cycles with their stability (seqmem.attractors). One process for all of them: a
model's probing pays for `import torch` once.
"""

from seqmem.core.config import FLAVOR_NAMES, AttractorsConfig, ProbeConfig
from stages.common import command, load_params, section, trained_from


def main(args) -> None:
    params = load_params(args.params)
    cfg = ProbeConfig.from_dict(section(params, "probe", args.params), "probe")
    found_cfg = AttractorsConfig.from_dict(section(params, "attractors", args.params), "attractors")
    trained = trained_from(params, args.flavor, args.params)  # what the model must be trained from: valid first
    # torch only now: a bad param is refused in a fraction of a second, not after 2 s of imports
    from seqmem.attractors import attractors
    from seqmem.checkpoint import check_provenance, read_checkpoint
    from seqmem.core.artifacts import write_csv, write_json
    from seqmem.hidden import memory_view
    from seqmem.model import from_checkpoint
    from seqmem.probes import followed_pair, probe_set, staircase_rows, trace_rows
    from seqmem.valset import load_valset

    # the model must be the one params.yaml's train section made (checked before torch builds it)
    val, ckpt = load_valset(args.val), read_checkpoint(args.model)
    check_provenance(ckpt, args.model, args.flavor, trained)
    model = from_checkpoint(ckpt)
    probes = probe_set(cfg.sequence, cfg.positions)
    traces, staircase = trace_rows(model, probes), staircase_rows(model, cfg.sequence)
    metrics, hidden = memory_view(model, val.X, val.lengths, followed_pair(probes, cfg.positions), cfg.units)
    found, points, trajectories, plane = attractors(model, found_cfg)
    write_csv(traces, args.traces)
    write_csv(staircase, args.staircase)
    write_csv(hidden, args.hidden)
    write_json({model.flavor: metrics}, args.readout)
    write_csv([{"model": model.flavor.upper(), **row} for row in points], args.points)
    write_csv([{"model": model.flavor.upper(), **row} for row in trajectories], args.trajectories)
    write_json({model.flavor: found}, args.attractors)
    write_json({"model": model.flavor.upper(), **plane}, args.plane)
    print(f"{model.flavor:>4}: " + "  ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
    cycles = found["digits_with_stable_seen_cycle"]
    print(f"{model.flavor:>4}: a stable 'seen' point under {found['digits_with_stable_seen']} of 10 digits, "
          f"a stable 'no -1' point under {found['digits_with_stable_not_seen']}"
          + ("" if cycles is None else f", a stable 'seen' cycle under {cycles}")
          + f"; {found['converged']:.1%} of the searches converged", flush=True)


cli = command(__doc__, main, {
    "--flavor": {"choices": FLAVOR_NAMES, "help": "the model's flavor: its checkpoint must say so"},
    "--val": "validation set from stage generate (for the linear readouts)",
    "--model": "checkpoint from stage train@<flavor>",
    "--traces": "decision traces CSV to write",
    "--staircase": "CSV to write: the -1 at every position",
    "--hidden": "hidden-unit trajectories CSV to write",
    "--readout": "linear-readout metrics JSON to write",
    "--points": "CSV to write: every digit's fixed (or slowest) points, and its cycles' states",
    "--trajectories": "CSV to write: real sequences' states on the points' plane",
    "--attractors": "fixed-point and cycle metrics JSON to write",
    "--plane": "JSON to write: the plane of the points and trajectories (mean and two principal directions)",
})


if __name__ == "__main__":
    cli()
