"""index.html: every feed with its item count and newest date, and autodiscovery links."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from frfeeds.catalog import Feed
from frfeeds.settings import Settings
from frfeeds.render.links import FORMATS, absolute, feed_file

SECTIONS = (("all", "Everything"), ("topic", "Topics"), ("provider", "Providers"))
FORMAT_NAMES = {"atom": "Atom", "rss": "RSS", "json": "JSON Feed"}
#: Feeds announced in <head> for readers' autodiscovery; providers can number
#: thousands, so they are listed in the page only.
DISCOVERABLE = ("all", "topic")

STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
    "table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.25rem .5rem;"
    "border-bottom:1px solid #ddd}td.n{text-align:right}"
)


def render_index(feeds: Sequence[Feed], settings: Settings) -> bytes:
    head = [
        "<!DOCTYPE html>",
        f'<html lang="{escape(settings.site.language)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>News feeds</title>",
    ]
    for feed in feeds:
        if feed.kind in DISCOVERABLE:
            for fmt, (_, media_type) in FORMATS.items():
                href = escape(absolute(settings.base_url, feed_file(feed.path, fmt)))
                title = escape(f"{feed.title} ({FORMAT_NAMES[fmt]})")
                head.append(f'<link rel="alternate" type="{media_type}" title="{title}" href="{href}">')
    head += [f"<style>{STYLE}</style>", "</head>", "<body>", "<h1>News feeds</h1>"]
    body = [
        f"<p>{len(feeds)} feeds, each in Atom, RSS and JSON Feed. "
        'Subscribe to one in any reader, or import them all: <a href="feeds.opml">feeds.opml</a>.</p>'
    ]
    for kind, heading in SECTIONS:
        members = [feed for feed in feeds if feed.kind == kind]
        if members:
            body += [f"<h2>{heading}</h2>", _table(members)]
    tail = ["</body>", "</html>", ""]
    return "\n".join(head + body + tail).encode("utf-8")


def _table(feeds: Sequence[Feed]) -> str:
    rows = ["<table>", "<tr><th>Feed</th><th>Items</th><th>Newest</th><th>Formats</th></tr>"]
    for feed in feeds:
        newest = feed.entries[0].published_at.strftime("%Y-%m-%d %H:%M UTC") if feed.entries else "—"
        links = " · ".join(
            f'<a href="{escape(feed_file(feed.path, fmt))}">{FORMAT_NAMES[fmt]}</a>' for fmt in FORMATS
        )
        rows.append(
            f"<tr><td>{escape(feed.title)}</td><td class=\"n\">{len(feed.entries)}</td>"
            f"<td>{newest}</td><td>{links}</td></tr>"
        )
    rows.append("</table>")
    return "\n".join(rows)
