"""A feedgen extension for the links feedgen cannot write itself.

Feed level: the document links of catalog.Feed.links (RFC 5005 archives and paging:
``prev-archive``, ``next``, ...) and the WebSub hubs (``rel="hub"``) as ``<link>`` in
Atom and ``<atom:link>`` in RSS
(feedgen writes only ``rel="self"`` into RSS, and takes its last link as RSS's
``<link>``), and RFC 5005's ``<fh:archive/>`` marker of an archive document.

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
#: RFC 5005's namespace (Feed History).
HISTORY_NS = "http://purl.org/syndication/history/1.0"


class EntryLinksExtension(BaseExtension):  # type: ignore[misc]  # feedgen ships no types
    """Feed part: the document's own links and archive marker, set before each format
    is written (``set``); RSS already declares the atom prefix."""

    def __init__(self) -> None:
        self._links: list[dict[str, str]] = []
        self._archive = False

    def set(self, links: list[dict[str, str]], archive: bool) -> None:
        """The links (attribute dicts: rel, href, type) and marker of the next document written."""
        self._links, self._archive = links, archive

    def extend_ns(self) -> dict[str, str]:
        return {"fh": HISTORY_NS} if self._archive else {}

    def extend_atom(self, feed: Any) -> Any:
        self._write(feed, "link")
        return feed

    def extend_rss(self, rss: Any) -> Any:
        self._write(rss[0], f"{{{ATOM_NS}}}link")  # the <channel>
        return rss

    def _write(self, parent: Any, tag: str) -> None:
        if self._archive:
            xml_elem(f"{{{HISTORY_NS}}}archive", parent)
        for attributes in self._links:
            xml_elem(tag, parent, **attributes)


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
