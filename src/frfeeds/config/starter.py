"""The commented frfeeds.toml ``frfeeds init`` writes, derived from the table and the
query fields: a new setting or query field appears in it with no text to keep."""

from __future__ import annotations

from typing import Any

from frfeeds.config.table import CUSTOM_KEYS, TABLE
from frfeeds.query import EXAMPLES, FIELDS

#: A custom feed's own keys (``table.CUSTOM_KEYS``): example value (TOML) and what it is.
CUSTOM_EXAMPLES = {
    "slug": ('"ai-videos"', "the feed's name: lowercase letters, digits and -"),
    "title": ('"AI videos"', "its title"),
    "description": ('"Videos on AI, newest first"', "a sentence on it (optional)"),
}


def starter_file() -> str:
    """The commented frfeeds.toml ``frfeeds init`` writes: every key with its default
    (or an example), commented out, and an example custom feed."""
    lines = [
        "# frfeeds configuration. Every key is optional; each line shows the default (or",
        "# an example) commented out. Precedence: command-line option > FRFEEDS_* environment",
        "# variable > this file > default. Relative paths are relative to this file's folder.",
        "",
    ]
    section = ""
    for row in TABLE:
        name, _, key = row.key.rpartition(".")
        if name != section:
            section = name
            lines += ["", f"[{name}]"]
        if row.key == "feeds.custom":
            continue
        where = ", ".join(filter(None, (row.variable, row.option)))
        lines.append(f"# {row.doc} ({where})")
        lines.append(f"# {key} = {row.example or _toml(row.default())}")
    lines += [
        "",
        "# Feeds of your own: the records a selection matches, in every format. Within",
        "# a field any value matches (topics AI or Azure); across fields all must (AI and video).",
        "# [[feeds.custom]]",
    ]
    for name, (example, doc) in [*((key, CUSTOM_EXAMPLES[key]) for key in CUSTOM_KEYS),
                                 *((key, EXAMPLES[key]) for key in FIELDS)]:
        lines.append(f"# {f'{name} = {example}':<36} # {doc}")
    lines.append("")
    return "\n".join(lines)


def _toml(value: Any) -> str:
    """A default as TOML: text, numbers, booleans and lists of text are JSON-compatible."""
    import json

    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return json.dumps(list(value) if isinstance(value, tuple) else value, ensure_ascii=False)
