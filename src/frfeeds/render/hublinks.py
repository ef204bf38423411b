"""WebSub discovery in the feeds: a ``rel="hub"`` link per hub (``settings.hubs``).

Atom gets ``<link rel="hub">`` beside its ``rel="self"``; RSS ``<atom:link rel="hub">``
beside the ``<atom:link rel="self">`` feedgen writes; JSON Feed ``hubs`` (``type``
``WebSub``). feedgen has no place for a hub link in RSS (it writes an atom:link for
``rel="self"`` only), hence this extension, registered by the syndication renderer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from feedgen.ext.base import BaseExtension
from feedgen.util import xml_elem

ATOM_NS = "http://www.w3.org/2005/Atom"


class HubLinksExtension(BaseExtension):  # type: ignore[misc]  # feedgen ships no types
    def __init__(self) -> None:
        self._hubs: tuple[str, ...] = ()

    def hubs(self, hubs: Sequence[str]) -> None:
        self._hubs = tuple(hubs)

    # feed is the lxml root (feedgen, untyped, hands it over) before any entry is added
    def extend_atom(self, feed: Any) -> Any:
        for hub in self._hubs:
            xml_elem("link", feed, rel="hub", href=hub)
        return feed

    def extend_rss(self, feed: Any) -> Any:
        channel = feed.find("channel")
        for hub in self._hubs:
            xml_elem(f"{{{ATOM_NS}}}link", channel, rel="hub", href=hub)
        return feed


def json_hubs(hubs: Sequence[str]) -> list[dict[str, str]]:
    """JSON Feed 1.1's ``hubs``: ``[{"type": "WebSub", "url": ...}]``."""
    return [{"type": "WebSub", "url": hub} for hub in hubs]
