"""A feedgen extension for the entry links feedgen cannot write itself.

``FeedEntry.link()`` refuses ``rel="amphtml"``, and feedgen 1.0 drops the ``rel`` and
``title`` of every entry link it writes (lkiesow/python-feedgen#135), which would turn
related stories into alternates. Atom entries get ``<link>`` elements from here (AMP,
via, related); RSS items get ``<atom:link>`` for the links marked for RSS (AMP only: RSS
has no place for via and related links, which the HTML content gives instead).
"""

from __future__ import annotations

from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.util import xml_elem

ATOM_NS = "http://www.w3.org/2005/Atom"


class EntryLinksExtension(BaseExtension):  # type: ignore[misc]  # feedgen ships no types
    """Feed part: nothing at feed level; RSS already declares the atom prefix."""


class EntryLinksEntryExtension(BaseEntryExtension):  # type: ignore[misc]  # feedgen ships no types
    def __init__(self) -> None:
        self._links: list[tuple[dict[str, str], bool]] = []

    def add(self, rel: str, href: str, title: str | None, media_type: str | None = None, rss: bool = False) -> None:
        attributes = {"rel": rel, "href": href}
        if title:
            attributes["title"] = title
        if media_type:
            attributes["type"] = media_type
        self._links.append((attributes, rss))

    # entry and item are lxml elements, which feedgen (untyped) hands over
    def extend_atom(self, entry: Any) -> Any:
        for attributes, _ in self._links:
            xml_elem("link", entry, **attributes)
        return entry

    def extend_rss(self, item: Any) -> Any:
        for attributes, rss in self._links:
            if rss:
                xml_elem(f"{{{ATOM_NS}}}link", item, **attributes)
        return item
