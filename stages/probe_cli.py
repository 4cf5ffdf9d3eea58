"""seqmem-probe: show a trained model's per-step decision on a sequence you choose.

    seqmem-probe --model models/lstm.pt 1 2 3 -1 5 6
    seqmem-probe --model models/rnn.pt "4,4,-1,2" --png trace.png
    seqmem-probe --model models/lstm.pt --file long_sequence.txt
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

from seqmem.evaluate import decisions
from seqmem.model import load_checkpoint
from seqmem.probe import first_flip, sparkline
from stages.common import run

MAX_TABLE = 60  # longer sequences get the sparkline and summary only, unless --table


def parse_sequence(tokens: list[str]) -> np.ndarray:
    """Integers -1..9 from tokens like "1", "-1", "1,2,3" or "1 2 3"; ValueError names the bad token."""
    words = [w for t in tokens for w in re.split(r"[\s,]+", t.strip()) if w]
    if not words:
        raise ValueError("the sequence is empty: give integers -1..9, for example 1 2 3 -1 5 6")
    values = []
    for i, w in enumerate(words):
        try:
            v = int(w)
        except ValueError:
            raise ValueError(f"token {w!r} at position {i} is not an integer (allowed: -1..9)") from None
        if not -1 <= v <= 9:
            raise ValueError(f"value {v} at position {i} is outside -1..9")
        values.append(v)
    return np.array(values, dtype=np.int64)


def report(seq: np.ndarray, p: np.ndarray, table: bool) -> str:
    """The per-step table (or not), a sparkline, and the decision in words."""
    lines = []
    if table:
        lines.append("step  token  P(-1 seen)")
        for t, (tok, v) in enumerate(zip(seq, p, strict=True)):
            mark = "  <- -1" if tok == -1 else ""
            lines.append(f"{t:4d}  {tok:5d}  {v:10.3f}  {sparkline([v])}{mark}")
    lines.append(f"trace  {sparkline(p)}" + (f"  ({len(p)} steps, {-(-len(p) // 80)} per character)"
                                              if len(p) > 80 else ""))
    flip, where = first_flip(p), np.flatnonzero(seq == -1)
    verdict = "a -1 was seen" if p[-1] > 0.5 else "no -1 was seen"
    lines.append(f"decision: {verdict} (P = {p[-1]:.3f} at the last step)")
    crossed = "never exceeds 0.5" if flip is None else f"first exceeds 0.5 at step {flip}"
    if where.size:
        lines.append(f"the -1 arrives at step {where[0]}; the decision {crossed}")
    else:
        alarm = " (a false alarm)" if flip is not None else ""
        lines.append(f"no -1 in the sequence; the decision {crossed}{alarm}")
    return "\n".join(lines)


def main(args: argparse.Namespace) -> None:
    seq = args.sequence
    model = load_checkpoint(args.model)
    p = decisions(model, seq[None, :, None])[0]  # (T,)
    print(f"{model.flavor} from {args.model}, {len(seq)} steps")
    print(report(seq, p, table=args.table or len(seq) <= MAX_TABLE))
    if args.png:
        from seqmem.figures import save, traces_figure  # matplotlib only when asked for

        rows = [{"probe": "your sequence", "step": t, "token": int(k), "p": float(v)}
                for t, (k, v) in enumerate(zip(seq, p, strict=True))]
        save(traces_figure({model.flavor: rows}), args.png)
        print(f"wrote {args.png}")


def cli(argv: list[str] | None = None) -> None:
    """Command line: see --help."""
    p = argparse.ArgumentParser(prog="seqmem-probe", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sequence", nargs="*", help="integers -1..9, space- or comma-separated")
    p.add_argument("--file", help="read the sequence from this file instead ('-': stdin); for long sequences")
    p.add_argument("--model", required=True, help="checkpoint written by the train stage, e.g. models/lstm.pt")
    p.add_argument("--png", help="also write the trace as a PNG here")
    p.add_argument("--table", action="store_true", help=f"print the per-step table even past {MAX_TABLE} steps")
    p.add_argument("--debug", action="store_true", help="show tracebacks (or set SEQMEM_DEBUG=1)")
    args = p.parse_args(argv)
    try:
        if args.file and args.sequence:
            raise ValueError("give the sequence as arguments or with --file, not both")
        if args.file:
            args.sequence = [sys.stdin.read() if args.file == "-" else Path(args.file).read_text()]
        args.sequence = parse_sequence(args.sequence)
    except OSError as e:
        p.error(f"cannot read --file {args.file}: {e.strerror}")
    except ValueError as e:
        p.error(str(e))  # exit 2 with the usage line, before any model is loaded or file written
    run(main, args)


if __name__ == "__main__":
    cli()
