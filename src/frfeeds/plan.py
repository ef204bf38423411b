"""The plan: published summaries -> which feeds hold which entries, and the files they make.

The build writes the files to disk and the app serves them: the same bytes either way.
Each feed has a digest of everything its files are made from (the package's code, the
RenderSettings the renderers read, its path, title and description, a custom feed's
query, and its entries' contents), so a feed whose digest did not change since the last
build need not be rendered again. Rendering is pure over values: the caller fetches the
entries' details (``Encoded``) before asking for files; nothing here reads a file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import marshal
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from operator import attrgetter
from typing import Any

from frfeeds.archive import split_all
from frfeeds.catalog import Feed, Selection, build_catalog, select
from frfeeds.fingerprint import code_fingerprint
from frfeeds.read.codec import decode_records
from frfeeds.records import Record, Summary
from frfeeds.render.content import entry_html
from frfeeds.render.outputs import (
    SITE_PAGES,
    Frame,
    RegistryError,
    document_outputs,
    entry_renderers,
    feed_files,
    feed_renderers,
    load_renderers,
    renderer,
    site_page,
)
from frfeeds.render.pages import NEWEST_STORIES, load_templates
from frfeeds.settings import RenderSettings, Settings

#: Pages made from the list of feeds rather than from entries: index.html, feeds.opml.
PAGES = tuple(output.name for output in SITE_PAGES)
#: Feeds rendered together: one fetch of their entries' details, one task for a worker.
RENDER_BATCH = 100
#: At most this many entries in a batch (but for its first feed): 100 heads of 50.
BATCH_ENTRIES = 5_000
#: (summary, details) bytes of full records by path: what rendering a batch needs.
Encoded = dict[str, tuple[bytes, bytes]]
#: An entry's fragment by output row name (``atom``: its ``<entry>``): made once, used
#: in every document that holds the entry.
Parts = dict[str, bytes]


@dataclass(frozen=True)
class Plan:
    #: What the renderers read besides feeds and entries (the digests cover it).
    render: RenderSettings
    selection: Selection
    feeds: tuple[Feed, ...]
    #: Feed document path (``feeds/ai``, ``feeds/ai/archive/3``) -> digest of what its files are made from.
    digests: dict[str, str]
    #: Digest of what index.html and feeds.opml are made from.
    pages_digest: str
    #: The stories index.html shows: the newest entries of all feeds.
    newest: tuple[Summary, ...] = ()
    #: The feeds' RFC 5005 archive documents (``feeds/ai/archive/3``; archive.py), each
    #: feed's oldest first; rendered in the registry's formats only (no page).
    archives: tuple[Feed, ...] = ()
    #: What every document's digest starts with (the code, the RenderSettings): a
    #: document made later (a served query's) is digested with it too.
    stamp: tuple[str, str] = ("", "")

    @property
    def stamp_digest(self) -> str:
        """The stamp as one digest: what fragments kept between builds were made under."""
        return _digest(self.stamp)

    @property
    def documents(self) -> tuple[Feed, ...]:
        """Every feed document: the feeds, then the archives."""
        return self.feeds + self.archives


#: Every field of Feed but its entries, whatever fields it gains.
_OWN_FIELDS = attrgetter(*(field.name for field in fields(Feed) if field.name != "entries"))
_ENTRY_DIGEST = attrgetter("digest")


def plan_site(settings: Settings, summaries: Iterable[Summary], now: dt.datetime | None) -> Plan:
    """Which feeds the records make, each with the digest of its inputs. Records dated
    after ``now`` are held back (``selection.scheduled``); the caller reads the clock
    (or takes settings.now): None holds nothing back."""
    selection = select(summaries, settings.include_unpublished, now)
    archives: tuple[Feed, ...] = ()
    if settings.feeds.archives:  # every story of each feed (shared references), split into head and archives
        every = build_catalog(selection.records, max(1, len(selection.records)), settings.feeds)
        feeds, archives = split_all(every, settings.limit, settings.feeds.archive_size)
    else:
        feeds = build_catalog(selection.records, settings.limit, settings.feeds)
    render = settings.render
    # a feed's files are made of exactly this, its own fields and its entries
    stamp = (code_fingerprint(), repr(render))
    digests = {feed.path: feed_digest(stamp, feed) for feed in feeds + archives}
    pages = tuple((_fields(feed), len(feed.entries), _stamp(feed)) for feed in feeds)
    newest = newest_entries(feeds)
    pages_digest = _digest((stamp, pages, tuple(map(_ENTRY_DIGEST, newest))))
    return Plan(render, selection, feeds, digests, pages_digest, newest, archives, stamp)


def feed_digest(stamp: tuple[str, str], feed: Feed) -> str:
    """The digest of a feed document's files: the stamp (code, RenderSettings), every
    field of the feed but its entries, and its entries' digests."""
    return _digest((stamp, _fields(feed), tuple(map(_ENTRY_DIGEST, feed.entries))))


def _fields(feed: Feed) -> str:
    """Every field of a feed but its entries: their repr (frozen dataclasses, tuples and
    text all the way down, so equal feeds give equal text)."""
    return repr(_OWN_FIELDS(feed))


def newest_entries(feeds: Sequence[Feed], count: int = NEWEST_STORIES) -> tuple[Summary, ...]:
    """The newest entries of all feeds (by publication date, ties by id, as in a feed):
    entries of feeds only, so the details fetched for the feeds cover them."""
    unique = {entry.path: entry for feed in feeds for entry in feed.entries}
    return tuple(heapq.nsmallest(count, unique.values(),
                                 key=lambda entry: (-entry.published_at.timestamp(), entry.url)))


def entry_paths(feeds: Iterable[Feed]) -> list[str]:
    """The records whose details rendering these feeds needs, each once, in order."""
    return list(dict.fromkeys(entry.path for feed in feeds for entry in feed.entries))


def feed_paths(feed: Feed) -> list[str]:
    """The files of a feed document: one per FEED_OUTPUTS row (its formats and its page),
    an archive's one per format (ARCHIVE_OUTPUTS)."""
    return feed_files(feed.path, feed.archive)


def batches(feeds: Sequence[Feed], size: int = RENDER_BATCH,
            entries_bound: int = BATCH_ENTRIES) -> list[Sequence[Feed]]:
    """Feeds in batches of size (RENDER_BATCH), in order, each of at most entries_bound entries
    but for its first feed: archive documents hold more entries than heads, and a
    batch's records are all fetched, sent and decoded at once."""
    made: list[Sequence[Feed]] = []
    start = entries = 0
    for index, feed in enumerate(feeds):
        if index > start and (index - start == size or entries + len(feed.entries) > entries_bound):
            made.append(feeds[start:index])
            start, entries = index, 0
        entries += len(feed.entries)
    if start < len(feeds):
        made.append(feeds[start:])
    return made


def load_rendering() -> None:
    """Import every renderer and compile the templates now: done before worker
    processes are forked, each of them renders with no import or compilation of its own."""
    load_renderers()
    load_templates()


def render_feeds(inputs: RenderSettings, work: Iterable[tuple[Sequence[Feed], Encoded]]) -> Iterator[dict[str, bytes]]:
    """The files of each feed, one feed at a time, in order, from batches of feeds each
    with its entries' details (the served tree's way: a few feeds at a time, in this
    process; a build renders with rendering.py)."""
    for feeds, encoded in work:
        yield from render_batch(inputs, feeds, decode_records(encoded))


def wanted_rows(documents: Iterable[Feed]) -> dict[str, frozenset[str]]:
    """Record path -> the rows whose fragment of it some document needs (an archive
    has no page), in the order the documents first hold them."""
    wanted: dict[str, frozenset[str]] = {}
    for feed in documents:
        rows = frozenset(output.name for output in document_outputs(feed.archive))
        for entry in feed.entries:
            held = wanted.get(entry.path)
            wanted[entry.path] = rows if held is None or held == rows else held | rows
    return wanted


def make_parts(inputs: RenderSettings, records: Mapping[str, Record],
               wanted: Mapping[str, frozenset[str]]) -> dict[str, Parts]:
    """The fragments of each record that ``wanted`` names, by row: each entries renderer
    of the registry called once, with every record some of its rows need."""
    html = {path: entry_html(record) for path, record in records.items()}  # once per record, every format
    parts: dict[str, Parts] = {path: {} for path in records}
    for render, rows in entry_renderers():
        names = {row.name for row in rows}
        chosen = [path for path in records if not names.isdisjoint(wanted[path])]
        if not chosen:
            continue
        made = render([records[path] for path in chosen], [html[path] for path in chosen], inputs)
        if set(made) != names or any(len(fragments) != len(chosen) for fragments in made.values()):
            raise RegistryError(f"an entries renderer made {sorted(made)} for {len(chosen)} records, where the "
                                f"registry expects {sorted(names)}, one fragment per record")
        for name, fragments in made.items():
            for path, fragment in zip(chosen, fragments, strict=True):
                parts[path][name] = fragment
    return parts


def make_frames(inputs: RenderSettings, feeds: Sequence[Feed]) -> list[dict[str, Frame]]:
    """Each document's frames by file (in FEED_OUTPUTS order; an archive's formats only),
    each frame renderer of the registry called once per document."""
    made_all = []
    for feed in feeds:
        frames: dict[str, Frame] = {}
        for render, rows in feed_renderers(document_outputs(feed.archive)):
            made = render(feed, inputs)
            expected = {row.file(feed.path) for row in rows}
            if set(made) != expected:
                raise RegistryError(f"a renderer made {sorted(made)} of {feed.path}, where the registry "
                                    f"expects {sorted(expected)}")
            frames.update(made)
        made_all.append(frames)
    return made_all


def assemble(feed: Feed, frames: Mapping[str, Frame], parts: Mapping[str, Parts]) -> dict[str, bytes]:
    """A document's files: each frame with the feed's entries' fragments of its row."""
    return {output.file(feed.path): frames[output.file(feed.path)].join([parts[entry.path][output.name]
                                                                          for entry in feed.entries])
            for output in document_outputs(feed.archive)}


def render_batch(inputs: RenderSettings, feeds: Sequence[Feed], records: dict[str, Record]) -> list[dict[str, bytes]]:
    """Each feed document's files (in FEED_OUTPUTS order; an archive's formats only);
    records holds every entry's full record."""
    parts = make_parts(inputs, records, wanted_rows(feeds))
    return [assemble(feed, frames, parts) for feed, frames in zip(feeds, make_frames(inputs, feeds), strict=True)]


def render_page(plan: Plan, path: str, newest: Encoded) -> bytes:
    """A site page (index.html, feeds.opml) by its path, from the list of feeds and the
    newest stories' details; RegistryError for a path that is no site page."""
    make = renderer(site_page(path).renderer)
    records = decode_records({entry.path: newest[entry.path] for entry in plan.newest})
    data: bytes = make(plan.feeds, [records[entry.path] for entry in plan.newest], plan.render)
    return data


def render_tree(plan: Plan, encoded: Encoded) -> dict[str, bytes]:
    """Every file of the tree, sorted by path; encoded holds every entry's details."""
    files = {path: render_page(plan, path, encoded) for path in PAGES}
    work = ((feeds, {path: encoded[path] for path in entry_paths(feeds)}) for feeds in batches(plan.documents))
    for made in render_feeds(plan.render, work):
        files.update(made)
    return dict(sorted(files.items()))


def _stamp(feed: Feed) -> tuple[str, str]:
    newest = feed.entries[0].published_at.isoformat() if feed.entries else ""
    return feed.updated.isoformat(), newest


def _digest(value: Any) -> str:
    return hashlib.blake2b(marshal.dumps(value), digest_size=16).hexdigest()
