"""The HTML pages: index.html and one page per feed (``feeds/ai.html``), from the Jinja2
templates in ``templates/``, autoescaped: every value is escaped where it is written.

A feed's page is made from that feed alone (its entries, the settings), so it is one
more file of the feed, rendered and rebuilt with its Atom, RSS and JSON files. Links
between pages are relative, so that a tree opened from disk works as well as a served
one; the autodiscovery links are absolute, for feed readers.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from markupsafe import Markup

from frfeeds.archive import archive_number, archive_path, newest_archive
from frfeeds.catalog import Feed
from frfeeds.records import Record
from frfeeds.render.links import document_url, rfc3339
from frfeeds.render.masthead import masthead
from frfeeds.render.outputs import FORMATS, PAGE, Frame
from frfeeds.settings import RenderSettings

if TYPE_CHECKING:  # Jinja2 is imported on first use
    from jinja2 import Environment, Template

TEMPLATES = Path(__file__).with_name("templates")
#: Where a feed's page frame is cut (no template writes a NUL).
_ENTRIES_MARK = "\x00entries\x00"
#: The index page's sections, in order; a kind not named here goes under the last heading.
SECTIONS = (("all", "Everything"), ("custom", "Custom feeds"), ("topic", "Topics"), ("provider", "Providers"))
OTHER_SECTION = "More feeds"
#: Feeds announced in the index's <head> for readers' autodiscovery; providers can
#: number thousands, so they are listed in the page only (each page announces its own).
DISCOVERABLE = ("all", "custom", "topic")
#: Stories the index page shows.
NEWEST_STORIES = 10


@dataclass(frozen=True, slots=True)
class Link:
    href: str
    name: str = ""
    type: str = ""
    title: str = ""


def render_feed_page(feed: Feed, settings: RenderSettings) -> dict[str, Frame]:
    """``{"feeds/ai.html": Frame}``: the feed's title, icon and description, its three
    subscribe links, and around its entries (page_entries)."""
    head = masthead(feed, settings)
    name = feed.path.rsplit("/", 1)[-1]
    # a served query's page: subscribe to its first page (its selection, newest first)
    first = next((link.query for link in feed.links if link.rel == "first"), feed.url_query)
    suffix = f"?{first}" if first else ""
    # the entries go where the mark is; a feed without any says so there
    entries = Markup(_ENTRIES_MARK) if feed.entries else Markup(_template("entries.html").render(entries=()))
    page = _template("feed.html").render(
        site=settings.site, feed=feed, head=head, entries_html=entries,
        root="../" * feed.path.count("/"), description=feed.description, icon=head.icon,
        alternates=_alternates(feed, head.title, settings),
        subscribe=[Link(output.file(name) + suffix, output.label, output.media_type) for output in FORMATS],
        pages=[Link(PAGE.file(name) + (f"?{link.query}" if link.query else ""), title=link.rel)
               for rel in ("previous", "next") for link in feed.links if link.rel == rel and link.path == feed.path],
        form_action=PAGE.file(name),
        archives=_archives(feed),
    )
    prefix, mark, suffix = page.partition(_ENTRIES_MARK)
    if feed.entries and not mark:
        raise ValueError("feed.html does not write entries_html")
    return {PAGE.file(feed.path): Frame(prefix.encode(), suffix.encode())}


def page_entries(records: Sequence[Record], contents: Sequence[str],
                 settings: RenderSettings) -> dict[str, list[bytes]]:
    """Each record's ``<article>`` of a feed's page (entries.html, one entry at a time)."""
    template = _template("entries.html")
    return {"page": [template.render(entries=(record,)).encode() for record in records]}


def _archives(feed: Feed) -> dict[str, Any] | None:
    """The archive section of a feed's page: how many archive documents, and the newest
    and oldest in each format (relative links); None without archives."""
    newest = newest_archive(feed)
    if newest is None:
        return None
    folder = feed.path.rpartition("/")[0] + "/"  # the page's folder: links are relative to it
    count = archive_number(newest.path)

    def links(path: str) -> list[Link]:
        return [Link(output.file(path).removeprefix(folder), output.label, output.media_type) for output in FORMATS]

    return {"count": count, "newest": links(newest.path), "oldest": links(archive_path(feed.path, 1))}


def render_index(feeds: Sequence[Feed], newest: Sequence[Record], settings: RenderSettings) -> bytes:
    """index.html: the site's identity, its newest stories, and every feed by kind with
    its item count, newest date, page and formats."""
    site = settings.site
    alternates = [link for feed in feeds if feed.kind in DISCOVERABLE
                  for link in _alternates(feed, masthead(feed, settings).title, settings)]
    page = _template("index.html").render(
        site=site, feeds=feeds, entries=newest, root="", description=site.description, icon=site.icon,
        alternates=alternates, sections=_sections(feeds),
        form_action=next((PAGE.file(feed.path) for feed in feeds if feed.kind == "all"), ""),
    )
    return page.encode("utf-8")


def _alternates(feed: Feed, title: str, settings: RenderSettings) -> list[Link]:
    return [Link(document_url(settings.base_url, feed.path, output.extension, feed.url_query), type=output.media_type,
                 title=f"{title} ({output.label})") for output in FORMATS]


def _sections(feeds: Sequence[Feed]) -> list[dict[str, Any]]:
    headings = dict(SECTIONS)
    grouped: dict[str, list[dict[str, Any]]] = {heading: [] for _, heading in SECTIONS}
    for feed in feeds:
        heading = headings.get(feed.kind, OTHER_SECTION)
        newest = _when(feed.entries[0].published_at) if feed.entries else "—"
        links = [Link(output.file(feed.path), output.label) for output in FORMATS]
        grouped.setdefault(heading, []).append({"feed": feed, "page": PAGE.file(feed.path), "newest": newest,
                                                "links": links})
    return [{"heading": heading, "rows": rows} for heading, rows in grouped.items() if rows]


def _when(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M UTC")


def _day(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%d")  # not %B: month names would follow the machine's locale


def _host(url: str) -> str:
    return (urlsplit(url).hostname or url).removeprefix("www.")


@functools.cache
def _environment() -> Environment:
    """One Jinja2 environment per process (imported on first use: a no-change build
    renders nothing). StrictUndefined: a misspelt name fails the render, never prints ''."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    environment = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, auto_reload=False,
    )
    environment.filters.update(rfc3339=rfc3339, day=_day, host=_host)
    return environment


def _template(name: str) -> Template:
    return _environment().get_template(name)


def load_templates() -> None:
    """Compile every template now (the app does, when it is made): with auto_reload off,
    rendering a page afterwards reads no template file."""
    environment = _environment()
    for name in environment.list_templates():
        environment.get_template(name)
