"""What every process's configuration file shares: reading TOML, typed settings, one-line errors.

The node, npac-ha and npac-snmp each document and validate their own settings; this module keeps
the mechanics (and the wording of the errors an operator sees) in one place.
"""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    """One line saying which setting is wrong and why."""


def read_toml(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        return tomllib.loads(p.read_text())
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc})") from None


def relative_to(path: str | Path, value: str) -> Path:
    """A path setting: relative ones are taken from the config file's directory."""
    q = Path(value)
    return q if q.is_absolute() else Path(path).parent / q


def _numeric(kind: Any) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return int in kinds or float in kinds


def get(table: dict[str, Any], key: str, kind: Any, where: str, default: Any = None) -> Any:
    """table[key] checked against `kind` (a type or a tuple of types); missing without a default is
    an error. TOML booleans are not numbers here, and an integer is accepted where a float is."""
    if key not in table:
        if default is None:
            raise ConfigError(f"{where}: '{key}' is missing")
        return default
    value = table[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if (_numeric(kind) and isinstance(value, bool)) or not isinstance(value, kind):
        raise ConfigError(f"{where}: '{key}' must be {getattr(kind, '__name__', 'a number')}, got {value!r}")
    return value
