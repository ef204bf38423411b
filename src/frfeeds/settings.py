"""Settings: defaults, then ``FRFEEDS_*`` environment variables, then explicit values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from frfeeds.errors import UsageError

MAX_LIMIT = 10_000
#: A BCP 47 language tag's shape: a 2-8 letter language, then 1-8 character subtags
#: (``en``, ``fr-CA``, ``zh-Hant-TW``, ``sr-Latn``).
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*")


@dataclass(frozen=True, slots=True)
class Settings:
    #: The records folder, read recursively.
    records: Path = Path("seeds")
    #: Where the feed tree is served from; every absolute URL in a feed starts with it.
    base_url: str = "http://localhost:8000"
    #: Entries per feed (the newest ones).
    limit: int = 50
    #: Emit the records' AMP links.
    amp: bool = True
    #: Publish ``published: false`` records too.
    include_unpublished: bool = False
    #: Language of the feeds' text (a BCP 47 tag): Atom xml:lang, RSS language, JSON language.
    language: str = "en"


#: Environment variable -> setting.
ENVIRONMENT = {
    "FRFEEDS_RECORDS": "records",
    "FRFEEDS_BASE_URL": "base_url",
    "FRFEEDS_LIMIT": "limit",
    "FRFEEDS_AMP": "amp",
    "FRFEEDS_INCLUDE_UNPUBLISHED": "include_unpublished",
    "FRFEEDS_LANGUAGE": "language",
}


def load_settings(environ: Mapping[str, str], **explicit: Any) -> Settings:
    """Settings from the environment, overridden by explicit values that are not None.

    Raises UsageError naming the variable or option that is wrong.
    """
    values: dict[str, Any] = {}
    for variable, name in ENVIRONMENT.items():
        if environ.get(variable, "") != "":
            values[name] = (variable, environ[variable])
    for name, value in explicit.items():
        if value is not None:
            values[name] = (_option(name), value)
    return Settings(**{name: _convert(name, source, value) for name, (source, value) in values.items()})


def _convert(name: str, source: str, value: Any) -> Any:
    if name == "records":
        return Path(value)
    if name == "base_url":
        from frfeeds.clean import clean_url  # on first use: it brings ftfy along

        try:
            return clean_url(str(value)).rstrip("/")
        except ValueError as exc:
            raise UsageError(f"{source} {exc}: {value!r}") from None
    if name == "limit":
        try:
            limit = int(value)
        except (TypeError, ValueError):
            raise UsageError(f"{source} must be a whole number, not {value!r}") from None
        if not 1 <= limit <= MAX_LIMIT:
            raise UsageError(f"{source} must be between 1 and {MAX_LIMIT}, not {limit}")
        return limit
    if name == "language":
        tag = str(value).strip()
        if not LANGUAGE_TAG.fullmatch(tag):
            raise UsageError(f"{source} must be a language tag such as en or fr-CA, not {value!r}")
        return tag
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise UsageError(f"{source} must be true or false, not {value!r}")


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")
