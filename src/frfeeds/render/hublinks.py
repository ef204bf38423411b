"""WebSub discovery in JSON Feed: ``hubs`` (``type`` ``WebSub``). Atom and RSS carry
``rel="hub"`` links through the feed part of entrylinks' extension."""

from __future__ import annotations

from collections.abc import Sequence


def json_hubs(hubs: Sequence[str]) -> list[dict[str, str]]:
    """JSON Feed 1.1's ``hubs``: ``[{"type": "WebSub", "url": ...}]``."""
    return [{"type": "WebSub", "url": hub} for hub in hubs]
