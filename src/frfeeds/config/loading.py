"""Settings from four places: defaults, the config file, the environment, then options
(or ``create_app`` keys), each value checked by its row of the table.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from frfeeds.config.table import ROWS, SECTIONS, TABLE, Source, _Nested, _shown
from frfeeds.errors import UsageError
from frfeeds.settings import Settings

TYPE_CHECKING = False  # as typing's, which a no-change build does not import (mypy takes it as True)
if TYPE_CHECKING:
    from typing import Any

#: The config file looked for in the current folder.
CONFIG_FILE = "frfeeds.toml"
CONFIG_VARIABLE = "FRFEEDS_CONFIG"


def load_settings(
    environ: Mapping[str, str],
    given: Mapping[str, Any] | None = None,
    *,
    app: bool = False,
    config: Path | str | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> Settings:
    """Settings from defaults, the config file, the environment, then ``given`` values
    (key -> value; None is not given): command-line options, or ``create_app`` keys if app.

    The config file is ``config`` if given, else FRFEEDS_CONFIG, else ./frfeeds.toml if
    there is one. ``defaults`` replace the table's defaults (``frfeeds serve``'s port).
    Raises UsageError naming the source of the bad value.
    """
    values: dict[str, tuple[Any, Source]] = {}
    for key, value in (defaults or {}).items():
        values[key] = (value, Source(f"default {key}"))
    path = config_path(environ, config)
    if path is not None:
        for key, value in read_config(path).items():
            values[key] = (value, Source(key, path, typed=True))
    for row in TABLE:
        if row.variable and environ.get(row.variable, "") != "":
            values[row.key] = (environ[row.variable], Source(row.variable))
    for key, value in (given or {}).items():
        if value is not None:
            row = ROWS[key]
            values[key] = (value, Source(f"create_app {row.name}" if app else row.option or row.key))
    return assemble({key: _convert(key, value, source) for key, (value, source) in values.items()})


def _convert(key: str, value: Any, source: Source) -> Any:
    try:
        return ROWS[key].convert(value, source)
    except _Nested as exc:  # feeds.custom[2].title
        raise Source(source.label + exc.key, source.file, source.typed).error(str(exc)) from None
    except ValueError as exc:
        raise source.error(str(exc)) from None


def assemble(values: Mapping[str, Any]) -> Settings:
    """Settings from converted values by dotted key; the rest are defaults."""
    sections: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
    top: dict[str, Any] = {}
    for key, value in values.items():
        section, _, name = key.rpartition(".")
        (sections[section] if section else top)[name] = value
    return Settings(**top, **{name: SECTIONS[name](**items) for name, items in sections.items()})


def config_path(environ: Mapping[str, str], config: Path | str | None = None) -> Path | None:
    """The config file to read: the one named (option, then FRFEEDS_CONFIG), which must
    exist, else ./frfeeds.toml when there is one, else None."""
    named = config if config not in (None, "") else environ.get(CONFIG_VARIABLE) or None
    if named is not None:
        return Path(named)
    return Path(CONFIG_FILE) if os.path.lexists(CONFIG_FILE) else None


def read_config(path: Path) -> dict[str, Any]:
    """A config file's settings by dotted key, not yet converted. Raises UsageError
    (``path: key: reason``) for a file that cannot be read or parsed, and for unknown keys."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib

    try:
        with open(path, "rb") as file:
            document = tomllib.loads(file.read().decode("utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: is not valid TOML: {exc}") from None
    return _flatten(document, path)


def _flatten(document: Mapping[str, Any], path: Path) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in document.items():
        if name in SECTIONS:
            if not isinstance(value, dict):
                raise UsageError(f"{path}: {name}: must be a table ([{name}]), not {_shown(value)}")
            items = {f"{name}.{key}": item for key, item in value.items()}
        else:
            items = {name: value}
        for key, item in items.items():
            if key not in ROWS:
                from frfeeds.query import unknown_key

                raise UsageError(f"{path}: {key}: {unknown_key(key, _known_keys(key))}")
            found[key] = item
    return found


def _known_keys(key: str) -> list[str]:
    """The keys an unknown one may have meant: its section's first, then the others."""
    section = key.partition(".")[0] if "." in key else ""
    keys = list(ROWS) + list(SECTIONS)
    return sorted(keys, key=lambda known: not known.startswith(section + ".")) if section else keys
