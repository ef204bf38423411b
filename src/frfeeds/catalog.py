"""Decide which records go in which feed: pure functions over record Summaries, no I/O.

select() merges duplicates and leaves out unpublished and removed stories; build_catalog() groups
what remains into the feeds the ``feeds.*`` settings ask for: one for everything, one per
custom feed (the records its query selects), one per topic and one per provider, each
holding its newest entries.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from frfeeds.pickling import picklable
from frfeeds.query import Query
from frfeeds.records import Summary
from frfeeds.settings import CustomFeed, Feeds, topic_feed_name

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


@picklable
@dataclass(frozen=True, slots=True)
class DocumentLink:
    """A link from a feed document to another document of the same feed, written in each
    format to that format's file: RFC 5005 archives (``prev-archive``, ``next-archive``,
    ``current``) and pages of a served query (``next``, ``previous``, ``first``, ``last``)."""

    rel: str
    #: Tree path without the format's extension: ``feeds/ai/archive/3``.
    path: str
    #: Query string without ``?`` ("" for none): ``topics=ai&page=2``.
    query: str = ""


@picklable
@dataclass(frozen=True, slots=True)
class Feed:
    """One feed document, whatever its format: a feed's head, an archive, a query's page."""

    #: Path in the feed tree without the format's extension: ``feeds/ai``.
    path: str
    #: ``all``, ``custom``, ``topic`` or ``provider``.
    kind: str
    title: str
    description: str
    #: Newest first (by publication date, ties by id), at most the configured limit.
    entries: tuple[Summary, ...]
    #: A custom feed's selection (None for the built-in kinds): part of its digest.
    query: Query | None = None
    #: Links to the feed's other documents (archives, pages), in order.
    links: tuple[DocumentLink, ...] = ()
    #: An RFC 5005 archive document (``<fh:archive/>``): complete, never changing.
    archive: bool = False
    #: The document's own query string, without ``?`` (a served query): its id and self
    #: link are ``BASE/path.ext?url_query``.
    url_query: str = ""

    @property
    def updated(self) -> dt.datetime:
        """The newest entry's date: never the clock, so the same records give the same bytes."""
        return max((entry.updated for entry in self.entries), default=EPOCH)


@dataclass(frozen=True, slots=True)
class Selection:
    """The records that will be published, and how many were left out and why."""

    records: tuple[Summary, ...]
    #: Left out for ``published: false`` (and not removed).
    unpublished: int
    duplicates: int
    #: Left out for ``removed: true``, whatever the settings.
    removed: int = 0
    #: Held back until their publication date, which is after the selection's ``now``
    #: (sorted by that date, then path).
    scheduled: tuple[Summary, ...] = ()

    @property
    def next_publication(self) -> dt.datetime | None:
        """When the first scheduled story is due (the selection is stale from then)."""
        return self.scheduled[0].published_at if self.scheduled else None


def select(records: Iterable[Summary], include_unpublished: bool = False, now: dt.datetime | None = None) -> Selection:
    """One record per webUrl (the one updated last), without ``removed: true`` ones and,
    unless include_unpublished, without ``published: false`` ones; with ``now``, those
    dated after it are held back (scheduled). ``now`` is the caller's: nothing here
    reads the clock (None holds nothing back).

    Duplicates are merged first, so a newer unpublished or removed copy withdraws a
    story. Ties are broken by the file's path, so the choice never depends on read order.
    """
    by_url: dict[str, Summary] = {}
    duplicates = 0
    for record in records:
        kept = by_url.get(record.url)
        if kept is not None:
            duplicates += 1
            if _freshness(record) <= _freshness(kept):
                continue
        by_url[record.url] = record
    unique = sorted(by_url.values(), key=lambda record: record.url)
    present = [r for r in unique if not r.is_removed]
    chosen = tuple(r for r in present if include_unpublished or r.is_published)
    unpublished = len(present) - len(chosen)
    scheduled: tuple[Summary, ...] = ()
    if now is not None and any(r.published_at > now for r in chosen):
        scheduled = tuple(sorted((r for r in chosen if r.published_at > now), key=lambda r: (r.published_at, r.path)))
        chosen = tuple(r for r in chosen if r.published_at <= now)
    return Selection(chosen, unpublished, duplicates, len(unique) - len(present), scheduled)


def build_catalog(records: Iterable[Summary], limit: int, settings: Feeds = Feeds()) -> tuple[Feed, ...]:
    """Every feed settings ask for: all, then the custom feeds in the settings' order,
    then topics and providers, each sorted by slug.

    A topic whose slug a custom feed takes gets ``-topic`` added (as ``all`` does): the
    publisher named that feed, and a record must not be able to take its place.
    """
    ordered = newest_first(records)
    feeds = []
    if "all" in settings.kinds:
        feeds.append(Feed("feeds/all", "all", "All news", "Every story, newest first", tuple(ordered[:limit])))
    feeds += _custom_feeds(ordered, limit, settings.custom)
    if "topics" in settings.kinds:
        feeds += _topic_feeds(ordered, limit, settings)
    if "providers" in settings.kinds:
        feeds += _provider_feeds(ordered, limit, settings.min_entries)
    return tuple(feeds)


def _custom_feeds(ordered: list[Summary], limit: int, custom: Iterable[CustomFeed]) -> Iterator[Feed]:
    """Each custom feed, however few records its query selects (its URL must not come
    and go). ``since`` counts back from the newest record here, never from the clock."""
    now = ordered[0].published_at if ordered else EPOCH
    for item in custom:
        candidates: Iterable[Summary] = ordered
        if item.query.since is not None:  # newest first: no record past the first too old one matches
            oldest = now - item.query.since
            candidates = itertools.takewhile(lambda record: record.published_at >= oldest,  # noqa: B023 - read in this turn
                                             ordered)
        entries = itertools.islice((record for record in candidates if item.query.matches(record, now)), limit)
        description = item.description or f"{item.title}, newest first"
        yield Feed(f"feeds/{item.slug}", "custom", item.title, description, tuple(entries), item.query)


def _topic_feeds(ordered: list[Summary], limit: int, settings: Feeds) -> Iterator[Feed]:
    taken = {item.slug for item in settings.custom}
    names: dict[str, str | None] = {}  # a topic's slug -> its feed's name; None: no feed
    entries: dict[str, list[Summary]] = defaultdict(list)
    labels: dict[str, dict[str, int]] = defaultdict(dict)
    for record in ordered:
        seen: set[str] | None = set() if taken else None
        for topic in record.topics:
            slug = names.get(topic.slug, "")
            if slug == "":
                slug = names[topic.slug] = _feed_name(topic.slug, settings, taken)
            if slug is None:
                continue
            if seen is not None:  # "AI" renamed ai-topic beside a topic "AI topic": one feed
                if slug in seen:
                    continue
                seen.add(slug)
            spellings = labels[slug]
            spellings[topic.label] = spellings.get(topic.label, 0) + 1
            if len(entries[slug]) < limit:
                entries[slug].append(record)
    for slug in sorted(entries):
        if sum(labels[slug].values()) >= settings.min_entries:  # every record, not only the newest limit
            label = _most_common(labels[slug])
            yield Feed(f"feeds/{slug}", "topic", label, f"Stories on {label}, newest first", tuple(entries[slug]))


def _feed_name(slug: str, settings: Feeds, taken: set[str]) -> str | None:
    """The name of a topic's feed: None when include/exclude_topics leave it out, else
    topic_feed_name's."""
    if (settings.include_topics and slug not in settings.include_topics) or slug in settings.exclude_topics:
        return None
    return topic_feed_name(slug, taken)


def _provider_feeds(ordered: list[Summary], limit: int, min_entries: int) -> Iterator[Feed]:
    entries: dict[str, list[Summary]] = defaultdict(list)
    names: dict[str, dict[str, int]] = defaultdict(dict)
    for record in ordered:
        domain = record.provider.domain
        spellings = names[domain]
        spellings[record.provider.name] = spellings.get(record.provider.name, 0) + 1
        if len(entries[domain]) < limit:
            entries[domain].append(record)
    for domain in sorted(entries):
        if sum(names[domain].values()) >= min_entries:  # every record, not only the newest limit
            name = _most_common(names[domain])
            yield Feed(f"feeds/providers/{domain}", "provider", name, f"Stories from {name} ({domain}), newest first",
                       tuple(entries[domain]))


def newest_first(records: Iterable[Summary]) -> list[Summary]:
    """Sorted by publication date, newest first; equal dates by id, ascending."""
    by_id = sorted(records, key=lambda record: record.url)
    return sorted(by_id, key=lambda record: record.published_at, reverse=True)


def _freshness(record: Summary) -> tuple[dt.datetime, dt.datetime, str]:
    return record.updated, record.published_at, record.path


def _most_common(counts: dict[str, int]) -> str:
    """The most used spelling; ties go to the first in sorted order."""
    return min(counts.items(), key=lambda item: (-item[1], item[0]))[0]
