"""Stage retention@<flavor>: how long one model's memory of a -1 lasts, up to retention.max_distance steps."""

from seqmem.core.config import RetentionConfig
from stages.common import command, load_section


def main(args) -> None:
    cfg = RetentionConfig.from_dict(load_section(args.params, "retention"), "retention")
    # torch only now: a bad param is refused in a fraction of a second, not after 4 s of imports
    import torch

    from seqmem.core.artifacts import write_csv, write_json
    from seqmem.model import load_checkpoint
    from seqmem.retention import retention

    torch.set_num_threads(1)  # 100,000 small steps: one thread is twice as fast as two (measured)
    model = load_checkpoint(args.model)
    metrics, rows = retention(model, cfg)
    half = metrics["half_life"]
    print(f"{model.flavor:>4}: memory half-life {'> ' + str(cfg.max_distance) if half is None else half} steps, "
          f"false alarms by step {cfg.max_distance}: {metrics['false_alarm_at_max']:.3f}", flush=True)
    write_csv([{"model": model.flavor.upper(), **row} for row in rows], args.curve)
    write_json({model.flavor: metrics}, args.out)


cli = command(__doc__, main, {
    "--model": "checkpoint from stage train@<flavor>",
    "--curve": "retention curve CSV to write",
    "--out": "retention metrics JSON to write",
})


if __name__ == "__main__":
    cli()
