"""Where things live in the feed tree, as absolute URLs under the base URL."""

from __future__ import annotations

import datetime as dt

#: Format name -> file extension, media type.
FORMATS = {
    "atom": ("atom", "application/atom+xml"),
    "rss": ("rss", "application/rss+xml"),
    "json": ("json", "application/feed+json"),
}


def feed_file(path: str, fmt: str) -> str:
    """``feeds/ai`` + ``atom`` -> ``feeds/ai.atom``."""
    return f"{path}.{FORMATS[fmt][0]}"


def absolute(base_url: str, tree_path: str = "") -> str:
    return f"{base_url}/{tree_path}"


def rfc3339(when: dt.datetime) -> str:
    """``2021-05-17T04:08:00Z``: the form JSON Feed and index pages use."""
    return when.isoformat().replace("+00:00", "Z")
