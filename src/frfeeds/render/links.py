"""Absolute URLs under the base URL, and the date form JSON Feed and pages use.
(Which files a feed has: ``outputs``.)"""

from __future__ import annotations

import datetime as dt


def absolute(base_url: str, tree_path: str = "") -> str:
    return f"{base_url}/{tree_path}"


def rfc3339(when: dt.datetime) -> str:
    """``2021-05-17T04:08:00Z``: the form JSON Feed and index pages use."""
    return when.isoformat().replace("+00:00", "Z")
