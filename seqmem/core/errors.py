"""The one-line error handler of every command: the stages and seqmem-probe."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable

from seqmem.core.artifacts import ArtifactError, reason
from seqmem.core.config import ConfigError


def run(main: Callable[[argparse.Namespace], None], args: argparse.Namespace, *, fast_exit: bool = False) -> None:
    """Run a command: a bad param or artifact is one line on stderr and exit 2, an OS error 1, anything else 3.

    Ctrl-C is exit 130. Outputs are written atomically, so none of these leaves a half-written file.
    fast_exit (a process's own command line, not a caller in Python): end the process at once, without
    the interpreter's teardown, which costs 0.5-1 s where torch is loaded (docs/timings.md); every output
    is written and closed by then, and nothing of seqmem's runs at exit.
    """
    code = _run(main, args)
    if fast_exit:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    if code:
        sys.exit(code)


def _run(main: Callable[[argparse.Namespace], None], args: argparse.Namespace) -> int:
    """run()'s exit code, with the one line printed."""
    debug = args.debug or os.environ.get("SEQMEM_DEBUG") == "1"
    try:
        main(args)
    except (ConfigError, ArtifactError) as e:
        if debug:
            traceback.print_exc()
        kind = "params" if isinstance(e, ConfigError) else "artifact"
        print(f"error ({kind}): {e}", file=sys.stderr)
        return 2
    except OSError as e:  # a full disk, a read-only folder, a path that is a folder
        if debug:
            traceback.print_exc()
        path = e.filename2 or e.filename  # a rename's destination is the path the user named
        where = f"{path}: " if path else ""
        print(f"error (os): {where}{e.strerror or e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: no output was written", file=sys.stderr)
        return 130
    except Exception as e:  # the last guard: a bug or an exhausted machine is one line too, never a traceback
        if debug:
            traceback.print_exc()
        what = "out of memory (MemoryError)" if isinstance(e, MemoryError) else reason(e)
        print(f"error (internal): {what}, rerun with --debug", file=sys.stderr)
        return 3
    return 0
