"""What every stage shares: the params file, the --debug switch, and one-line errors."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from seqmem.config import FLAVOR_NAMES, ConfigError


def parser(description: str) -> argparse.ArgumentParser:
    """An ArgumentParser with --params and --debug."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
    p.add_argument("--debug", action="store_true", help="show tracebacks (or set SEQMEM_DEBUG=1)")
    return p


def load_params(path: str | Path) -> dict:
    """The whole params file, read exactly as DVC reads it (ruamel.yaml, YAML 1.2), so dvc.lock and the stage agree.

    PyYAML reads YAML 1.1, where `017` is 15, `1:30` is 90 and `1e-3` a string; to DVC they are 17, a string
    and 0.001.
    """
    from ruamel.yaml import YAML, YAMLError

    try:
        text = Path(path).read_text()
    except OSError as e:
        raise ConfigError(str(path), f"cannot read the params file: {e.strerror}") from None
    try:
        params = YAML(typ="safe").load(text)  # what dvc.utils.serialize.parse_yaml does
    except YAMLError as e:
        raise ConfigError(str(path), f"not valid YAML: {str(e).splitlines()[0]}") from None
    if not isinstance(params, dict):
        raise ConfigError(str(path), f"must be a mapping of sections, got {type(params).__name__}")
    return params


def load_section(path: str, key: str) -> Any:
    """One top-level section of the params file."""
    params = load_params(path)
    if key not in params:
        raise ConfigError(key, f"missing section in {path}")
    return params[key]


def load_flavors(path: str) -> list[str]:
    """The top-level `flavors:` list, checked."""
    return check_flavors(load_section(path, "flavors"))


def check_flavors(flavors: Any) -> list[str]:
    """`flavors:` must be a non-empty list of distinct known flavors."""
    if not isinstance(flavors, list) or not flavors:
        raise ConfigError("flavors", f"must be a non-empty list drawn from {list(FLAVOR_NAMES)}, got {flavors!r}")
    for i, name in enumerate(flavors):
        if name not in FLAVOR_NAMES:
            raise ConfigError(f"flavors[{i}]", f"must be one of {list(FLAVOR_NAMES)}, got {name!r}")
    if len(set(flavors)) != len(flavors):
        raise ConfigError("flavors", f"must not repeat a flavor, got {flavors}")
    return flavors
