"""The one-line error handler of every command: the stages and seqmem-probe."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable

from seqmem.core.artifacts import ArtifactError, reason
from seqmem.core.config import ConfigError


def run(main: Callable[[argparse.Namespace], None], args: argparse.Namespace) -> None:
    """Run a command: a bad param or artifact is one line on stderr and exit 2, an OS error 1, anything else 3.

    Ctrl-C is exit 130. Outputs are written atomically, so none of these leaves a half-written file.
    """
    debug = args.debug or os.environ.get("SEQMEM_DEBUG") == "1"
    try:
        main(args)
    except (ConfigError, ArtifactError) as e:
        if debug:
            traceback.print_exc()
        kind = "params" if isinstance(e, ConfigError) else "artifact"
        print(f"error ({kind}): {e}", file=sys.stderr)
        sys.exit(2)
    except OSError as e:  # a full disk, a read-only folder, a path that is a folder
        if debug:
            traceback.print_exc()
        path = e.filename2 or e.filename  # a rename's destination is the path the user named
        where = f"{path}: " if path else ""
        print(f"error (os): {where}{e.strerror or e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("interrupted: no output was written", file=sys.stderr)
        sys.exit(130)
    except Exception as e:  # the last guard: a bug or an exhausted machine is one line too, never a traceback
        if debug:
            traceback.print_exc()
        what = "out of memory (MemoryError)" if isinstance(e, MemoryError) else reason(e)
        print(f"error (internal): {what}, rerun with --debug", file=sys.stderr)
        sys.exit(3)
