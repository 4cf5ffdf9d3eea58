"""Stage retention: how long each model's memory of a -1 lasts, up to retention.max_distance steps."""

from pathlib import Path

from seqmem.core.config import RetentionConfig
from stages.common import command, load_flavors, load_section


def main(args) -> None:
    flavors = load_flavors(args.params)
    cfg = RetentionConfig.from_dict(load_section(args.params, "retention"), "retention")
    # torch only now: a bad param is refused in a fraction of a second, not after 4 s of imports
    import torch

    from seqmem.core.artifacts import write_csv, write_json
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


cli = command(__doc__, main, {
    "--models": "folder of <flavor>.pt checkpoints",
    "--curves": "folder for <flavor>.csv retention curves",
    "--out": "retention metrics JSON to write",
})


if __name__ == "__main__":
    cli()
