"""Absolute URLs under the base URL, and the date form JSON Feed and pages use.
(Which files a feed has: ``outputs``.)"""

from __future__ import annotations

import datetime as dt


def absolute(base_url: str, tree_path: str = "") -> str:
    return f"{base_url}/{tree_path}"


def document_url(base_url: str, path: str, extension: str, query: str = "") -> str:
    """A feed document's URL in one format: ``BASE/feeds/ai.atom``, ``BASE/feeds/all.json?topics=ai``."""
    url = f"{base_url}/{path}.{extension}"
    return f"{url}?{query}" if query else url


def rfc3339(when: dt.datetime) -> str:
    """``2021-05-17T04:08:00Z``: the form JSON Feed and index pages use."""
    return when.isoformat().replace("+00:00", "Z")
