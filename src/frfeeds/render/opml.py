"""feeds.opml: every feed once (its Atom form), for one-click import into a reader.

The all feed and the custom feeds come first, outside any group: they are the
publisher's own, and a reader's folder called "Custom" would tell a subscriber nothing.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from email.utils import format_datetime

from frfeeds.catalog import EPOCH, Feed
from frfeeds.records import Record
from frfeeds.render.links import absolute
from frfeeds.render.masthead import masthead
from frfeeds.render.outputs import feed_file
from frfeeds.settings import RenderSettings

#: Feeds listed first, in catalog order, outside any group.
UNGROUPED = ("all", "custom")
GROUPS = (("topic", "Topics"), ("provider", "Providers"))


def render_opml(feeds: Sequence[Feed], stories: Sequence[Record], settings: RenderSettings) -> bytes:
    """feeds.opml (the newest stories, which the index shows, are not in it)."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = settings.site.title
    newest = max((feed.updated for feed in feeds), default=EPOCH)
    ET.SubElement(head, "dateModified").text = format_datetime(newest)
    if settings.site.author:
        ET.SubElement(head, "ownerName").text = settings.site.author
    body = ET.SubElement(root, "body")
    for feed in feeds:
        if feed.kind in UNGROUPED:
            _outline(body, feed, settings)
    for kind, label in GROUPS:
        members = [feed for feed in feeds if feed.kind == kind]
        if members:
            group = ET.SubElement(body, "outline", text=label, title=label)
            for feed in members:
                _outline(group, feed, settings)
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return data + b"\n"


def _outline(parent: ET.Element, feed: Feed, settings: RenderSettings) -> None:
    head = masthead(feed, settings)
    ET.SubElement(
        parent,
        "outline",
        text=head.title,
        title=head.title,
        type="rss",
        xmlUrl=absolute(settings.base_url, feed_file(feed.path, "atom")),
        htmlUrl=head.home,
    )
