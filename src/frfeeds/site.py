"""The plan: loaded records -> which feeds hold which entries, and the files they make.

The build writes the files to disk and the app serves them: the same bytes either way.
Each feed has a digest of everything its files are made from (the output settings and
the package's code, settings.build_digest, its path, title and description, a custom
feed's query, and its entries' contents), so a feed whose digest did not change since
the last build need not be rendered again.
"""

from __future__ import annotations

import hashlib
import heapq
import marshal
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from frfeeds.catalog import Feed, Selection, build_catalog, select
from frfeeds.read.codec import decode_records
from frfeeds.records import Record, Summary
from frfeeds.render import entry_html, render_atom_rss, render_feed_page, render_index, render_json, render_opml
from frfeeds.render.links import FORMATS, feed_file
from frfeeds.render.masthead import page_file
from frfeeds.render.pages import NEWEST_STORIES
from frfeeds.settings import Feeds, Settings, build_digest
from frfeeds.workers import gc_paused, process_pool

if TYPE_CHECKING:
    from frfeeds.read.loader import Loaded

#: Pages made from the list of feeds rather than from entries.
PAGES = ("index.html", "feeds.opml")
_RENDER_BATCH = 100


@dataclass(frozen=True)
class Plan:
    settings: Settings
    loaded: Loaded
    selection: Selection
    feeds: tuple[Feed, ...]
    #: Feed path (``feeds/ai``) -> digest of what its files are made from.
    digests: dict[str, str]
    #: Digest of what index.html and feeds.opml are made from.
    pages_digest: str
    #: The stories index.html shows: the newest entries of all feeds.
    newest: tuple[Summary, ...] = ()


def plan_site(settings: Settings, loaded: Loaded) -> Plan:
    """Which feeds the loaded records make, each with the digest of its inputs."""
    selection = select(loaded.summaries, settings.include_unpublished)
    feeds = build_catalog(selection.records, settings.limit, settings.feeds)
    # feeds.* decide which feeds exist and what each holds, which a feed's own digest
    # covers: editing one custom feed (or min_entries) re-renders only what it changes.
    # The custom feeds' slugs stay in: entries' topic categories name topic feeds by them.
    custom_slugs = tuple(sorted(feed.slug for feed in settings.feeds.custom))
    stamp = (build_digest(replace(settings, feeds=Feeds())), custom_slugs)
    digests = {feed.path: _digest((stamp, feed.path, feed.kind, feed.title, feed.description,
                                   feed.query.canonical() if feed.query else None,
                                   tuple(entry.digest for entry in feed.entries))) for feed in feeds}
    pages = tuple((feed.path, feed.kind, feed.title, feed.description, len(feed.entries), _stamp(feed))
                  for feed in feeds)
    newest = newest_entries(feeds)
    pages_digest = _digest((build_digest(settings), pages, tuple(entry.digest for entry in newest)))
    return Plan(settings, loaded, selection, feeds, digests, pages_digest, newest)


def newest_entries(feeds: Sequence[Feed], count: int = NEWEST_STORIES) -> tuple[Summary, ...]:
    """The newest entries of all feeds (by publication date, ties by id, as in a feed):
    entries of feeds only, so a served plan holds them (hold_entries)."""
    unique = {entry.path: entry for feed in feeds for entry in feed.entries}
    return tuple(heapq.nsmallest(count, unique.values(), key=lambda entry: (-entry.published_at.timestamp(), entry.url)))


def hold_entries(plan: Plan) -> Plan:
    """The plan holding every entry's details in memory (Loaded.hold): rendering any of
    its feeds then reads nothing from disk. What a served tree is made from."""
    return replace(plan, loaded=plan.loaded.hold(_entry_paths(plan.feeds)))


def feed_paths(feed: Feed) -> list[str]:
    """The files of a feed: its three formats and its page."""
    return [feed_file(feed.path, fmt) for fmt in FORMATS] + [page_file(feed.path)]


def render_feeds(plan: Plan, feeds: Sequence[Feed], workers: int = 1) -> Iterator[dict[str, bytes]]:
    """The files of each feed, one feed at a time, in order; full records decoded a batch
    at a time. With workers > 1 and many feeds, worker processes render batches.

    The workers are started fresh (spawned), each batch sent with the encoded records it
    needs: forked from this process after a load, every worker would map the whole heap
    (100,000 summaries and more) and the build's summed RSS would count it three times.
    """
    batches = [feeds[start:start + _RENDER_BATCH] for start in range(0, len(feeds), _RENDER_BATCH)]
    if workers < 2 or len(batches) < 4:
        for batch in batches:
            yield from _render_batch(plan.settings, batch, plan.loaded.records(_entry_paths(batch)))
        return
    payloads = ((plan.settings, batch, plan.loaded.encoded(_entry_paths(batch))) for batch in batches)
    with process_pool(workers, fork=False) as pool:
        for rendered in pool.map(_render_in_worker, payloads):
            yield from rendered


def _entry_paths(batch: Sequence[Feed]) -> Iterator[str]:
    return (entry.path for feed in batch for entry in feed.entries)


def _render_batch(settings: Settings, batch: Sequence[Feed], records: dict[str, Record]) -> list[dict[str, bytes]]:
    html = {path: entry_html(record) for path, record in records.items()}  # once per record, every format
    rendered = []
    for feed in batch:
        entries = [records[entry.path] for entry in feed.entries]
        contents = [html[entry.path] for entry in feed.entries]
        files = render_atom_rss(feed, entries, settings, contents)
        files.update(render_json(feed, entries, settings, contents))
        files.update(render_feed_page(feed, entries, settings))
        rendered.append(files)
    return rendered


def _render_in_worker(payload: tuple[Settings, Sequence[Feed], dict[str, tuple[bytes, bytes]]]) -> list[dict[str, bytes]]:
    settings, batch, encoded = payload
    with gc_paused():
        return _render_batch(settings, batch, decode_records(encoded))


def render_page(plan: Plan, path: str) -> bytes:
    """index.html or feeds.opml: made from the list of feeds (and the newest stories)."""
    if path == "index.html":
        records = plan.loaded.records(entry.path for entry in plan.newest)
        return render_index(plan.feeds, [records[entry.path] for entry in plan.newest], plan.settings)
    return render_opml(plan.feeds, plan.settings)


def render_tree(plan: Plan) -> dict[str, bytes]:
    """Every file of the tree, sorted by path."""
    files = {path: render_page(plan, path) for path in PAGES}
    for feed_files in render_feeds(plan, plan.feeds):
        files.update(feed_files)
    return dict(sorted(files.items()))


def _stamp(feed: Feed) -> tuple[str, str]:
    newest = feed.entries[0].published_at.isoformat() if feed.entries else ""
    return feed.updated.isoformat(), newest


def _digest(value: Any) -> str:
    return hashlib.blake2b(marshal.dumps(value), digest_size=16).hexdigest()
