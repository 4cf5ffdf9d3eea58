"""The one-line error handler of every command: the stages and seqmem-probe."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable

from seqmem.artifacts import ArtifactError
from seqmem.config import ConfigError


def run(main: Callable[[argparse.Namespace], None], args: argparse.Namespace) -> None:
    """Run a stage: a bad param or artifact is one line on stderr and exit 2, an OS error exit 1, Ctrl-C 130."""
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
