"""Stage retention: how long each model's memory of a -1 lasts, up to retention.max_distance steps."""

from pathlib import Path

from seqmem.cli import run
from seqmem.config import RetentionConfig
from stages.common import load_flavors, load_section, parser


def main(args) -> None:
    flavors = load_flavors(args.params)
    cfg = RetentionConfig.from_dict(load_section(args.params, "retention"), "retention")
    # torch only now: a bad param is refused in a fraction of a second, not after 4 s of imports
    import torch

    from seqmem.artifacts import write_csv, write_json
    from seqmem.model import load_checkpoint
    from seqmem.retention import retention

    torch.set_num_threads(1)  # 100,000 small steps: one thread is twice as fast as two (measured)
    models = {f: load_checkpoint(Path(args.models) / f"{f}.pt") for f in flavors}
    metrics, curves = {}, {}
    for f, model in models.items():
        metrics[f], rows = retention(model, cfg)
        curves[f] = [{"model": f.upper(), **row} for row in rows]
        half = metrics[f]["half_life"]
        print(f"{f:>4}: memory half-life {'> ' + str(cfg.max_distance) if half is None else half} steps, "
              f"false alarms by step {cfg.max_distance}: {metrics[f]['false_alarm_at_max']:.3f}", flush=True)
    for f, rows in curves.items():
        write_csv(rows, Path(args.curves) / f"{f}.csv")
    write_json(metrics, args.out)


def cli(argv: list[str] | None = None) -> None:
    """Command line: see --help."""
    p = parser(__doc__)
    p.add_argument("--models", required=True, help="folder of <flavor>.pt checkpoints")
    p.add_argument("--curves", required=True, help="folder for <flavor>.csv retention curves")
    p.add_argument("--out", required=True, help="retention metrics JSON to write")
    run(main, p.parse_args(argv))


if __name__ == "__main__":
    cli()
