"""Stage attractors@<flavor>: one model's fixed points under every digit, their stability, and the picture's plane."""

from seqmem.core.config import AttractorsConfig
from stages.common import command, load_section


def main(args) -> None:
    cfg = AttractorsConfig.from_dict(load_section(args.params, "attractors"), "attractors")
    # torch only now: a bad param is refused in a fraction of a second, not after 2 s of imports
    import torch

    from seqmem.attractors import attractors
    from seqmem.core.artifacts import write_csv, write_json
    from seqmem.model import load_checkpoint

    torch.set_num_threads(1)  # small float64 steps: one thread is faster, and the bits don't depend on the machine
    model = load_checkpoint(args.model)
    metrics, points, trajectories = attractors(model, cfg)
    print(f"{model.flavor:>4}: a stable 'seen' point under {metrics['digits_with_stable_seen']} of 10 digits, "
          f"a stable 'not seen' point under {metrics['digits_with_stable_not_seen']}; "
          f"{metrics['converged']:.1%} of the searches converged", flush=True)
    write_csv([{"model": model.flavor.upper(), **row} for row in points], args.points)
    write_csv([{"model": model.flavor.upper(), **row} for row in trajectories], args.trajectories)
    write_json({model.flavor: metrics}, args.out)


cli = command(__doc__, main, {
    "--model": "checkpoint from stage train@<flavor>",
    "--points": "CSV to write: every digit's fixed (or slowest) points",
    "--trajectories": "CSV to write: real sequences' states on the points' plane",
    "--out": "metrics JSON to write",
})


if __name__ == "__main__":
    cli()
