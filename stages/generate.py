"""Stage generate: the fixed, seeded validation set."""

import numpy as np

from seqmem.core.config import DataConfig
from seqmem.valset import make_valset, save_valset
from stages.common import command, load_section


def main(args) -> None:
    cfg = DataConfig.from_dict(load_section(args.params, "data"), "data")
    vs = make_valset(cfg.num_sequences, np.random.default_rng(cfg.seed), min_len=cfg.min_len, max_len=cfg.max_len,
                     p_minus_one=cfg.p_minus_one)
    save_valset(vs, args.out)
    print(f"wrote {args.out}: {len(vs)} sequences, {int(vs.Y.sum())} with a -1")


cli = command(__doc__, main, {
    "--out": "validation set (.npz)",
})


if __name__ == "__main__":
    cli()
