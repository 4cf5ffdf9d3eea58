"""What every stage shares: its command line, the params file, and one-line errors.

The stages are thin DVC entry points: parse args, load one params section, call seqmem, write outputs.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from seqmem.core.config import FLAVOR_NAMES, ConfigError, TrainConfig
from seqmem.core.errors import run


def parser(description: str) -> argparse.ArgumentParser:
    """An ArgumentParser with --params and --debug."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
    p.add_argument("--debug", action="store_true", help="show tracebacks (or set SEQMEM_DEBUG=1)")
    return p


def command(doc: str, main: Callable[[argparse.Namespace], None],
            args: dict[str, str | dict]) -> Callable[[list[str] | None], None]:
    """A stage's command line: --params, --debug and `args` (flag: help, or add_argument's keywords), all required.

    It runs `main` under the one-line error handler, so a refusal is one line and an exit code. From
    the command line (argv None) the process then ends without the interpreter's teardown (run()).
    """
    def cli(argv: list[str] | None = None) -> None:
        p = parser(doc)
        for flag, spec in args.items():
            p.add_argument(flag, required=True, **({"help": spec} if isinstance(spec, str) else spec))
        run(main, p.parse_args(argv), fast_exit=argv is None)

    return cli


MAX_PARAMS_CHARS = 1 << 20  # params.yaml is ~3 KB; a bigger file is a mistake, or hostile


def load_params(path: str | Path) -> dict:
    """The whole params file, read exactly as DVC reads it (ruamel.yaml, YAML 1.2), so dvc.lock and the stage agree.

    PyYAML reads YAML 1.1, where `017` is 15, `1:30` is 90 and `1e-3` a string; to DVC they are 17, a string
    and 0.001.
    """
    from ruamel.yaml import YAML, YAMLError

    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(str(path), f"cannot read the params file: {getattr(e, 'strerror', None) or e}") from None
    if len(text) > MAX_PARAMS_CHARS:
        raise ConfigError(str(path), f"{len(text):,} characters; a params file is a few thousand (at most "
                                     f"{MAX_PARAMS_CHARS:,})")
    # flow collections nested thousands deep overflow the C parser's stack (a segfault); the pure-Python
    # one, which reads the same YAML, raises RecursionError instead. Real params hold a few dozen brackets.
    deep = text.count("[") + text.count("{") > 1000
    try:
        params = YAML(typ="safe", pure=deep).load(text)  # what dvc.utils.serialize.parse_yaml does
    except YAMLError as e:
        raise ConfigError(str(path), f"not valid YAML: {str(e).splitlines()[0]}") from None
    except RecursionError:
        raise ConfigError(str(path), "nested too deep to read (thousands of levels)") from None
    if not isinstance(params, dict):
        raise ConfigError(str(path), f"must be a mapping of sections, got {type(params).__name__}")
    return params


def section(params: dict, key: str, path: str | Path = "params.yaml") -> Any:
    """One top-level section of a loaded params file."""
    if key not in params:
        raise ConfigError(key, f"missing section in {path}")
    return params[key]


def load_section(path: str, key: str) -> Any:
    """One top-level section of the params file."""
    return section(load_params(path), key, path)


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


def trained_from(params: dict, flavor: str, path: str | Path = "params.yaml") -> dict:
    """What a `flavor` model of this pipeline is trained from: params.yaml's train keys and its section, checked."""
    return TrainConfig.from_params(section(params, "train", path), [flavor]).record(flavor)

