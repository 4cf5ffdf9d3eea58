"""seqmem-probe: a trained model's per-step decision on a sequence you choose.

    seqmem-probe --model models/lstm.safetensors 1 2 3 -1 5 6
    seqmem-probe --model models/rnn.safetensors "4,4,-1,2" --png trace.png
    seqmem-probe --model models/lstm.safetensors --file long_sequence.txt
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import textwrap
from array import array
from typing import TextIO

import numpy as np

from seqmem.checkpoint import read_checkpoint
from seqmem.core.errors import run
from seqmem.inference import decisions

BARS = "▁▂▃▄▅▆▇█"


def sparkline(p: np.ndarray, width: int = 80) -> str:
    """One character per step (or per bucket of steps, their mean, past `width`), ▁ for 0 up to █ for 1."""
    p = np.asarray(p, dtype=float)
    if len(p) > width:
        p = np.array([chunk.mean() for chunk in np.array_split(p, width)])
    return "".join(BARS[min(int(v * len(BARS)), len(BARS) - 1)] for v in p)


def first_flip(p: np.ndarray) -> int | None:
    """First step whose decision exceeds 0.5, or None."""
    above = np.flatnonzero(np.asarray(p) > 0.5)
    return int(above[0]) if above.size else None




MAX_PNG = 100_000  # a plot of more steps is a smear, and matplotlib needs GBs for it
MAX_TABLE = 60  # longer sequences get the sparkline and summary only, unless --table
MAX_PROBE_STEPS = 10_000_000  # every step's decision is kept: ~100 MB, and a few minutes of work at most
MAX_CHARS = 64 << 20  # more text than MAX_PROBE_STEPS tokens can take ("-1, " each): refused before it is parsed
TOKENS = {str(v): v for v in range(-1, 10)}
ALLOWED = " ".join(TOKENS)
VALUE_OPTIONS = ("--model", "--file", "--png")  # options that take a value: the next argument is theirs


def _position(text: str) -> int:
    return len(re.findall(r"[^\s,]+", text))  # tokens before this point: only on an error


def _bad_token(token: str, i: int) -> str:
    """Why `token` (at position i) is refused, naming it as the user wrote it."""
    if re.fullmatch(r"-?[1-9][0-9]*", token, re.ASCII):
        return f"value {token} at position {i} is outside -1..9"
    shown = repr(token[:20])
    try:
        int(token)  # "+1", "01", "1_0", "١" and "１" all pass int(): numbers, but not written as the task writes them
    except ValueError:
        return f"token {shown} at position {i} is not an integer (allowed: {ALLOWED})"
    return f"token {shown} at position {i} is not one of {ALLOWED}, written in ASCII digits with no sign or leading 0"


def _parse(text: str, where: str = "") -> np.ndarray:
    """Integers -1..9 separated by whitespace or one comma; ValueError names the bad token and its position."""
    if not re.search(r"[^\s,]", text):
        raise ValueError(f"{where}the sequence is empty: give integers -1..9, for example 1 2 3 -1 5 6")
    if m := re.search(r"^\s*,|,\s*,|,\s*$", text):
        raise ValueError(f"{where}an empty value at position {_position(text[: m.start()])} "
                         "(two commas in a row, or a stray one)")
    values = array("b")  # a byte a step
    for i, m in enumerate(re.finditer(r"[^\s,]+", text)):
        v = TOKENS.get(m.group())
        if v is None:
            raise ValueError(f"{where}{_bad_token(m.group(), i)}")
        if i == MAX_PROBE_STEPS:
            raise ValueError(f"{where}more than {MAX_PROBE_STEPS:,} steps; seqmem-probe keeps every step's decision, "
                             "so that is as long as it goes")
        values.append(v)
    return np.frombuffer(values, dtype=np.int8).astype(np.int64)


def parse_sequence(tokens: list[str]) -> np.ndarray:
    """Integers -1..9 from tokens like "1", "-1", "1,2,3" or "1 2 3"; ValueError names the bad token."""
    return _parse(" ".join(tokens))


def read_sequence(stream: TextIO, name: str) -> np.ndarray:
    """The same from a text stream; a huge, endless or binary file is refused fast, not read into memory."""
    where = f"--file {name}: "
    try:
        text = stream.read(MAX_CHARS + 1)
    except UnicodeDecodeError as e:
        raise ValueError(f"{where}not a text file ({e.reason} at byte {e.start})") from None
    if "\x00" in text:
        raise ValueError(f"{where}not a text file (it holds NUL bytes)")
    if len(text) > MAX_CHARS:
        raise ValueError(f"{where}more than {MAX_CHARS >> 20} MB of text; seqmem-probe takes at most "
                         f"{MAX_PROBE_STEPS:,} steps, since it keeps every step's decision")
    return _parse(text, where)


def describe(seq: np.ndarray, p: np.ndarray, table: bool) -> str:
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
    if where.size > 1:  # allowed, to see what a model does with it, but outside the task the models learnt
        lines.append(f"note: {where.size} -1s (steps {', '.join(map(str, where))}): a task sequence holds at most one, "
                     "so the models never trained on this")
    return "\n".join(lines)


def _read(args: argparse.Namespace) -> np.ndarray:
    """The sequence from the arguments or --file; ValueError for anything that can't be probed as asked."""
    if args.file and args.sequence:
        raise ValueError("give the sequence as arguments or with --file, not both")
    if args.png:
        _check_png(args)
    if args.file == "-":
        seq = read_sequence(sys.stdin, "-")
    elif args.file:
        try:
            with open(args.file, encoding="utf-8") as f:
                seq = read_sequence(f, args.file)
        except OSError as e:
            raise ValueError(f"cannot read --file {args.file}: {e.strerror}") from None
    else:
        seq = parse_sequence(args.sequence)
    if args.png and len(seq) > MAX_PNG:
        raise ValueError(f"--png draws at most {MAX_PNG:,} steps, and this sequence has {len(seq):,}")
    return seq


def _check_png(args: argparse.Namespace) -> None:
    """--png names a new or replaceable .png file, never one of this command's inputs."""
    if os.path.isdir(args.png):
        raise ValueError(f"--png {args.png} is a folder; give a file name, for example trace.png")
    if not args.png.lower().endswith(".png"):
        raise ValueError(f"--png {args.png}: the name must end in .png, the only format seqmem-probe writes")
    for flag, path in (("--model", args.model), ("--file", args.file)):
        if path and path != "-" and os.path.exists(path) and os.path.exists(args.png) and \
                os.path.samefile(path, args.png):
            raise ValueError(f"--png {args.png} is the {flag} file: writing it would destroy an input")


def _probe(args: argparse.Namespace, seq: np.ndarray) -> None:
    model = read_checkpoint(args.model)
    if len(seq) > 1_000_000:  # minutes of work: say how far it got
        def progress(done: int) -> None:
            print(f"  {done:,}/{len(seq):,} steps", file=sys.stderr, flush=True)
    else:
        progress = None
    p = decisions(model, seq[None, :, None], progress)[0]  # (T,)
    print(f"{model.flavor} from {args.model}, {len(seq)} steps")
    print(describe(seq, p, table=args.table or len(seq) <= MAX_TABLE))
    if args.png:
        from seqmem.figures import save, traces_figure  # matplotlib only when asked for

        rows = [{"probe": "your sequence", "step": t, "token": int(k), "p": float(v)}
                for t, (k, v) in enumerate(zip(seq, p, strict=True))]
        save(traces_figure({model.flavor: rows}), args.png)
        print(f"wrote {args.png}")


def _as_positional(argv: list[str]) -> list[str]:
    """Let a comma-form sequence start with -1: argparse takes "-1,2" for an unknown option.

    argparse reads an argument that starts with a space as a positional one, and the parser
    skips whitespace, so " -1,2" means what the user typed.
    """
    return [f" {a}" if re.match(r"-[0-9]", a) and (i == 0 or argv[i - 1] not in VALUE_OPTIONS) else a
            for i, a in enumerate(argv)]


def _description() -> str | None:
    """The module docstring as written, its examples indented, on every Python.

    Python 3.13 strips a docstring's common indentation when it compiles it (3.11 and 3.12 keep it),
    which changed --help and so docs/seqmem-probe.md; dedent, then indent again, gives one text on all.
    """
    if not __doc__:  # python -OO drops docstrings
        return None
    first, rest = __doc__.split("\n", 1)
    return first + "\n" + textwrap.indent(textwrap.dedent(rest), "    ")


def parser() -> argparse.ArgumentParser:
    """seqmem-probe's command line (docs/seqmem-probe.md pastes its --help)."""
    p = argparse.ArgumentParser(prog="seqmem-probe", description=_description(),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sequence", nargs="*", help="integers -1..9, space- or comma-separated")
    p.add_argument("--file", help="read the sequence from this file instead ('-': stdin); for long sequences")
    p.add_argument("--model", required=True, help="checkpoint written by the train stage, e.g. models/lstm.safetensors")
    p.add_argument("--png", help="also write the trace as a PNG here (a .png name, not an input's)")
    p.add_argument("--table", action="store_true", help=f"print the per-step table even past {MAX_TABLE} steps")
    p.add_argument("--debug", action="store_true", help="show tracebacks (or set SEQMEM_DEBUG=1)")
    return p


def main(argv: list[str] | None = None) -> None:
    """seqmem-probe: see --help."""
    p = parser()
    args = p.parse_args(_as_positional(sys.argv[1:] if argv is None else argv))

    def probe(args: argparse.Namespace) -> None:
        try:
            seq = _read(args)
        except ValueError as e:
            p.error(str(e))  # exit 2 with the usage line, before any model is loaded or file written
        _probe(args, seq)

    # Ctrl-C while reading stdin, and anything unexpected, are one line too; from the command line
    # (argv None) the process ends without the interpreter's teardown (0.2-0.3 s with numba loaded)
    run(probe, args, fast_exit=argv is None)


if __name__ == "__main__":
    main()
