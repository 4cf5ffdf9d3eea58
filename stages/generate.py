"""Stage generate: the fixed, seeded validation set."""

import numpy as np

from seqmem.cli import run
from seqmem.config import DataConfig
from seqmem.valset import make_valset, save_valset
from stages.common import load_section, parser


def main(args) -> None:
    cfg = DataConfig.from_dict(load_section(args.params, "data"), "data")
    vs = make_valset(cfg.num_sequences, np.random.default_rng(cfg.seed), min_len=cfg.min_len, max_len=cfg.max_len,
                     p_minus_one=cfg.p_minus_one)
    save_valset(vs, args.out)
    print(f"wrote {args.out}: {len(vs)} sequences, {int(vs.Y.sum())} with a -1")


def cli(argv: list[str] | None = None) -> None:
    """Command line: see --help."""
    p = parser(__doc__)
    p.add_argument("--out", required=True, help="validation set (.npz)")
    run(main, p.parse_args(argv))


if __name__ == "__main__":
    cli()
