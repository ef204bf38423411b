"""Atom 1.0 and RSS 2.0 through feedgen, with every clock- or version-dependent default set."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape

from feedgen.feed import FeedGenerator

from frfeeds.catalog import Feed
from frfeeds.clean import slugify
from frfeeds.records import Record
from frfeeds.render.content import original_url
from frfeeds.render.entrylinks import EntryLinksEntryExtension, EntryLinksExtension
from frfeeds.render.links import absolute, document_url
from frfeeds.render.masthead import Masthead, masthead
from frfeeds.render.outputs import FORMAT_BY_NAME, Frame
from frfeeds.settings import RenderSettings

GENERATOR = "frfeeds"
#: Category scheme of a record's ``type`` (topics have ``feeds/``: term + scheme names their feed).
TYPE_SCHEME = "types/"


#: Where entries start and where the last ends, in feedgen's pretty-printed documents:
#: Atom's ``<entry>`` elements are the feed's last children, RSS's ``<item>`` the
#: channel's. ("<" in text and attributes is always escaped, so these are tags.)
ENTRY_START = {"atom": b"\n  <entry>", "rss": b"\n    <item>"}
ENTRIES_END = {"atom": b"\n</feed>", "rss": b"\n  </channel>"}
_ENTRIES_DATE = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


def render_atom_rss(feed: Feed, settings: RenderSettings) -> dict[str, Frame]:
    """``{"feeds/ai.atom": Frame, "feeds/ai.rss": Frame}`` from one feedgen object: each
    document with no entries, cut where feedgen puts them (after every other child)."""
    head = masthead(feed, settings)
    generator = _feed_generator(feed, head, settings)
    out = {}
    for fmt, to_bytes in (("atom", generator.atom_str), ("rss", generator.rss_str)):
        output = FORMAT_BY_NAME[fmt]
        path = output.file(feed.path)
        url = document_url(settings.base_url, feed.path, output.extension, feed.url_query)
        generator.link(
            [
                {"href": url, "rel": "self", "type": output.media_type},
                {"href": head.home, "rel": "alternate", "type": "text/html"},
            ],
            replace=True,
        )
        documents = [{"rel": link.rel, "href": document_url(settings.base_url, link.path, output.extension, link.query),
                      "type": output.media_type} for link in feed.links]
        hubs = [{"rel": "hub", "href": hub} for hub in settings.hubs]  # WebSub, beside rel="self"
        generator.links.set(documents + hubs, feed.archive)
        if fmt == "atom":
            generator.id(url)
            if head.logo:
                generator.logo(head.logo)
        elif head.image:
            # after the Atom file: feedgen's image() sets Atom's logo too, and an RSS
            # <image> may fall back on the icon where Atom keeps its logo for a wide one
            generator.image(url=head.image, title=head.title, link=head.home)
        document: bytes = to_bytes(pretty=True)
        cut = document.rindex(ENTRIES_END[fmt]) + 1
        out[path] = Frame(document[:cut], document[cut:])
    return out


def atom_rss_entries(records: Sequence[Record], contents: Sequence[str],
                     settings: RenderSettings) -> dict[str, list[bytes]]:
    """Each record's Atom ``<entry>`` and RSS ``<item>``, as they sit in any feed
    document (indented, with a line break after): feedgen writes them all into one
    document of each format, which is cut at the entries."""
    generator = _generator()
    generator.id("urn:frfeeds:entries")
    generator.title("entries")
    generator.link(href="urn:frfeeds:entries")
    generator.description("entries")
    generator.updated(_ENTRIES_DATE)
    for record, html in zip(records, contents, strict=True):
        _add_entry(generator, record, html, settings)
    return {fmt: _cut(document, fmt, len(records))
            for fmt, document in (("atom", generator.atom_str(pretty=True)), ("rss", generator.rss_str(pretty=True)))}


def _cut(document: bytes, fmt: str, count: int) -> list[bytes]:
    start, end = ENTRY_START[fmt], document.rfind(ENTRIES_END[fmt])
    starts = []
    at = document.find(start)
    while at != -1:
        starts.append(at + 1)
        at = document.find(start, at + 1)
    if len(starts) != count or (starts and end < starts[-1]):
        raise ValueError(f"feedgen wrote {len(starts)} {fmt} entries for {count} records")
    return [document[begin:following] for begin, following in zip(starts, [*starts[1:], end + 1], strict=True)]


def _generator() -> FeedGenerator:
    generator = FeedGenerator()
    generator.load_extension("media")
    generator.load_extension("dc", atom=False, rss=True)
    generator.register_extension("links", EntryLinksExtension, EntryLinksEntryExtension)
    return generator


def _feed_generator(feed: Feed, head: Masthead, settings: RenderSettings) -> FeedGenerator:
    site = settings.site
    generator = _generator()
    generator.title(head.title)
    generator.subtitle(feed.description)
    generator.generator(GENERATOR)  # no version: upgrading must not change every byte
    generator.language(site.language)  # RSS <language>, Atom xml:lang
    generator.updated(feed.updated)
    if head.icon:
        generator.icon(head.icon)
    if site.author:  # Atom <author>; RSS wants an email there, so dc:creator instead
        generator.author({"name": site.author, **({"uri": site.url} if site.url else {})})
        generator.dc.dc_creator(site.author)
    if site.rights:
        generator.rights(site.rights)  # Atom <rights>, RSS <copyright>
    return generator


def _add_entry(generator: FeedGenerator, record: Record, html: str, settings: RenderSettings) -> None:
    entry = generator.add_entry(order="append")
    entry.guid(record.url, permalink=True)
    entry.title(record.title)
    entry.link(href=record.url)  # Atom: <link href> is rel="alternate"; RSS: <link>
    if record.excerpt:
        # Atom summary is text; RSS description is HTML, so its text is escaped once more
        # ("AT&T" -> "AT&amp;T") or readers and validators read "&T" as a broken entity.
        # Order matters: summary() sets both; description() then sets RSS's (and Atom's
        # content, which content() below replaces).
        entry.summary(record.excerpt)
        entry.description(escape(record.excerpt, quote=False))
    else:
        # without one, feedgen would copy the whole content (a video's player iframe
        # included) into RSS <description>, which stays a summary: the title, as text;
        # the HTML goes to content:encoded only
        entry.description(escape(record.title, quote=False))
    entry.content(html, type="html")
    entry.published(record.published_at)
    entry.updated(record.updated)
    entry.author(name=record.provider.name, uri=f"https://{record.provider.domain}")
    entry.dc.dc_creator(record.provider.name)
    for topic in record.topics:  # the term names the topic's feed: feeds/<term>
        entry.category(term=settings.topic_feed(topic.slug), label=topic.label,
                       scheme=absolute(settings.base_url, "feeds/"))
    if record.type and slugify(record.type):  # "video": readers can tell videos apart
        entry.category(term=slugify(record.type), label=record.type, scheme=absolute(settings.base_url, TYPE_SCHEME))
    if record.images:
        image = record.images[0]
        size = {k: str(v) for k, v in (("width", image.width), ("height", image.height)) if v}
        entry.media.content(url=image.url, medium="image", group=None, **size)
        entry.media.thumbnail(url=image.url, group=None, **size)
    if settings.amp:
        if record.amp_url:
            entry.links.add("amphtml", record.amp_url, "AMP", "text/html", rss=True)
        if record.cdn_amp_url:
            entry.links.add("amphtml", record.cdn_amp_url, "AMP (cached)", "text/html", rss=True)
    original = original_url(record)
    if original:
        entry.links.add("via", original, None, "text/html")
    for related in record.related:
        entry.links.add("related", related.url, related.title)
