"""How a config is checked: typed, range-checked dataclass fields built from a params section.

Every error is a ConfigError that names the dotted key it is about, so a stage's message points at
the line of params.yaml to fix. The sections themselves are in seqmem.core.config.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import typing
from typing import Any, Self


class ConfigError(ValueError):
    """A bad config value; `key` is the dotted path of the offending key."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key, self.message = key, message

    def under(self, prefix: str) -> ConfigError:
        """The same error with its key placed under a parent section."""
        return ConfigError(f"{prefix}.{self.key}" if prefix else self.key, self.message)


def param(default: Any = dataclasses.MISSING, *, ge: float | None = None, gt: float | None = None,
          le: float | None = None, choices: tuple | None = None, doc: str = "") -> Any:
    """A config field with its allowed range and, in `doc`, what it means."""
    meta = {"ge": ge, "gt": gt, "le": le, "choices": choices, "doc": doc}
    if isinstance(default, list):
        return dataclasses.field(default_factory=lambda: list(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)  # slow, and make_data builds a config per call


def shown(value: Any, limit: int = 60) -> str:
    """repr(value) for a message, at most `limit` characters; never an error (a 5,000-digit int has no repr)."""
    try:
        text = repr(value)
    except ValueError:  # past Python's 4,300-digit limit on int -> str
        return f"an integer of {int(value.bit_length() * math.log10(2)) + 1:,} digits"
    return text if len(text) <= limit else f"{text[: limit - 3]}... ({len(text):,} characters)"


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp)


def _check_scalar(key: str, value: Any, tp: type) -> None:
    # bool subclasses int, so True would pass as 1: never a number here. An int is fine as a float.
    if tp is float:
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    elif tp is int:
        ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)  # numpy's ints too
    else:
        ok = isinstance(value, tp)
    if not ok:
        raise ConfigError(key, f"must be {_type_name(tp)}, got {shown(value)} ({type(value).__name__})")
    if isinstance(value, numbers.Integral) and not -(1 << 63) <= value < 1 << 63:  # past int64 and float's range
        raise ConfigError(key, f"must be between -2**63 and 2**63 - 1, got {shown(value)}")
    if tp is float and not math.isfinite(value):
        raise ConfigError(key, f"must be a finite number, got {shown(value)}")


def _check_range(key: str, value: Any, meta: dict) -> None:
    if meta["choices"] is not None and value not in meta["choices"]:
        raise ConfigError(key, f"must be one of {list(meta['choices'])}, got {shown(value)}")
    bounds = [("ge", ">=", lambda a, b: a >= b), ("gt", ">", lambda a, b: a > b), ("le", "<=", lambda a, b: a <= b)]
    for name, sym, ok in bounds:
        if meta[name] is not None and not ok(value, meta[name]):
            raise ConfigError(key, f"must be {sym} {meta[name]}, got {shown(value)}")


@dataclasses.dataclass(frozen=True)
class Config:
    """Base for configs: every field is type- and range-checked on construction."""

    def __post_init__(self) -> None:
        hints = _hints(type(self))
        for f in dataclasses.fields(self):
            value, tp = getattr(self, f.name), hints[f.name]
            if isinstance(value, Config) or (value is None and f.default is None):  # a nested section
                continue
            if typing.get_origin(tp) is list:
                if not isinstance(value, list):
                    raise ConfigError(f.name, f"must be a list, got {shown(value)}")
                if not value:
                    raise ConfigError(f.name, "must not be empty")
                (item_tp,) = typing.get_args(tp)
                for i, item in enumerate(value):
                    _check_scalar(f"{f.name}[{i}]", item, item_tp)
                    _check_range(f"{f.name}[{i}]", item, f.metadata)
            else:
                _check_scalar(f.name, value, tp)
                _check_range(f.name, value, f.metadata)
        self.check()

    def check(self) -> None:
        """Cross-field rules; override and raise ConfigError."""

    @classmethod
    def keys(cls) -> list[str]:
        """The keys of this section (nested sections are not keys)."""
        return [f.name for f in dataclasses.fields(cls) if f.default is not None]

    @classmethod
    def from_dict(cls, section: Any, path: str, **nested: Config | None) -> Self:
        """Build from a params section; every key must be known and present, errors name `path.key`."""
        if not isinstance(section, dict):
            raise ConfigError(path, f"must be a mapping of {cls.keys()}, got {shown(section)}")
        unknown = sorted(set(section) - set(cls.keys()) - set(nested), key=str)
        if unknown:
            raise ConfigError(f"{path}.{unknown[0]}", f"unknown key; allowed keys are {cls.keys() + list(nested)}")
        missing = [k for k in cls.keys() if k not in section]
        if missing:
            raise ConfigError(f"{path}.{missing[0]}", f"missing key; {path} needs {cls.keys()}")
        try:
            return cls(**{**section, **nested})
        except ConfigError as e:
            raise e.under(path) from None
