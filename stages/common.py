"""What every stage shares: the params file, the --debug switch, and one-line errors."""

from __future__ import annotations

import argparse
import os
import re
import sys
import traceback
from collections.abc import Callable
from typing import Any

import yaml

from seqmem.artifacts import ArtifactError
from seqmem.config import FLAVOR_NAMES, ConfigError


def parser(description: str) -> argparse.ArgumentParser:
    """An ArgumentParser with --params and --debug."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
    p.add_argument("--debug", action="store_true", help="show tracebacks (or set SEQMEM_DEBUG=1)")
    return p


class _Loader(yaml.SafeLoader):
    """PyYAML reads YAML 1.1, where `1e-3` is a string; DVC reads params as YAML 1.2, where it is a float."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def load_section(path: str, key: str) -> Any:
    """One top-level section of the params file."""
    try:
        with open(path) as f:
            params = yaml.load(f, Loader=_Loader)
    except OSError as e:
        raise ConfigError(key, f"cannot read params file {path}: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise ConfigError(key, f"{path} is not valid YAML: {str(e).splitlines()[0]}") from None
    if not isinstance(params, dict) or key not in params:
        raise ConfigError(key, f"missing section in {path}")
    return params[key]


def load_flavors(path: str) -> list[str]:
    """The top-level `flavors:` list, checked."""
    flavors = load_section(path, "flavors")
    if not isinstance(flavors, list) or not flavors:
        raise ConfigError("flavors", f"must be a non-empty list drawn from {list(FLAVOR_NAMES)}, got {flavors!r}")
    for i, name in enumerate(flavors):
        if name not in FLAVOR_NAMES:
            raise ConfigError(f"flavors[{i}]", f"must be one of {list(FLAVOR_NAMES)}, got {name!r}")
    if len(set(flavors)) != len(flavors):
        raise ConfigError("flavors", f"must not repeat a flavor, got {flavors}")
    return flavors


def run(main: Callable[[argparse.Namespace], None], args: argparse.Namespace) -> None:
    """Run a stage: a bad param or artifact becomes one line on stderr and exit 2, Ctrl-C exit 130."""
    debug = args.debug or os.environ.get("SEQMEM_DEBUG") == "1"
    try:
        main(args)
    except (ConfigError, ArtifactError) as e:
        if debug:
            traceback.print_exc()
        kind = "params" if isinstance(e, ConfigError) else "artifact"
        print(f"error ({kind}): {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted: no output was written", file=sys.stderr)
        sys.exit(130)
