"""Served queries answered from indexes: every published record by topic, provider and
type, built once per plan; a query's page is a few index lookups and a bounded scan.

Pure: no I/O, no HTTP. ``SelectionIndex.of(plan)`` indexes ``plan.selection.records``
(every published story, not only the newest ``limit`` the feeds hold), newest first as
the feeds order them; ``variant(feed_path, request)`` makes the Feed document of one
page of a query on one feed (``feeds/ai.atom?types=video&page=2`` narrows the topic
feed ai), with its RFC 5005 section 3 paging links and its canonical query string as
its id (``Feed.url_query``). Its files are rendered like any feed's.

Cost of a query: for the list fields given (topics, providers, types, of the feed and of
the query), the shortest union of index lists is the candidates (else every record);
``since`` cuts them at the first record too old; the other fields filter positions with
sets and an array of qualities. Work is linear in the index lists the query names (at
most the published records, as integer operations), and at most ``limit`` entries are
rendered.
"""

from __future__ import annotations

import bisect
import datetime as dt
import difflib
import heapq
import itertools
import math
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from frfeeds.catalog import EPOCH, DocumentLink, Feed, newest_first
from frfeeds.query import Query, QueryError, Request, type_slug
from frfeeds.records import Summary
from frfeeds.settings import topic_feed_name

#: The index's list fields: a Query field -> the index holding its values.
_LISTS = {"topics": "topics", "providers": "providers", "types": "types",
          "exclude_topics": "topics", "exclude_providers": "providers"}
#: Paging links of a query's pages, in the order documents write them.
PAGING = ("first", "previous", "next", "last")


class NoSuchPage(LookupError):
    """A page past the end of a selection (or a query on a path that is no feed)."""


@dataclass(frozen=True, slots=True)
class Variant:
    """One page of a query on one feed: its document and where it stands."""

    feed: Feed
    page: int
    pages: int
    #: Records the selection matches, on every page.
    total: int


@dataclass(frozen=True)
class SelectionIndex:
    #: Every published record, newest first (by publication date, ties by id).
    ordered: tuple[Summary, ...]
    #: Minus each record's publication timestamp, in ``ordered``'s order (ascending):
    #: ``since`` is a bisection.
    stamps: array[float]
    #: Topic slug / provider domain / type slug -> positions in ``ordered``, ascending.
    topics: dict[str, array[int]]
    providers: dict[str, array[int]]
    types: dict[str, array[int]]
    #: Each record's quality, in ``ordered``'s order (-inf for none: below every floor).
    quality: array[float]
    #: Feed path (``feeds/ai``) -> the feed's head and the selection it stands for.
    feeds: dict[str, tuple[Feed, Query]]
    #: Page size: the feeds' limit.
    limit: int

    @classmethod
    def of(cls, records: Iterable[Summary], feeds: Sequence[Feed], limit: int) -> SelectionIndex:
        """The index of the published records and the feeds made of them."""
        ordered = tuple(newest_first(records))
        topics: dict[str, array[int]] = {}
        providers: dict[str, array[int]] = {}
        types: dict[str, array[int]] = {}
        for position, record in enumerate(ordered):
            for slug in dict.fromkeys(topic.slug for topic in record.topics):
                topics.setdefault(slug, array("I")).append(position)
            providers.setdefault(record.provider.domain, array("I")).append(position)
            if record.type is not None and type_slug(record.type):
                types.setdefault(type_slug(record.type), array("I")).append(position)
        stamps = array("d", (-record.published_at.timestamp() for record in ordered))
        custom = {feed.path.removeprefix("feeds/") for feed in feeds if feed.kind == "custom"}
        topic_slugs: dict[str, list[str]] = {}
        for slug in sorted(topics):
            topic_slugs.setdefault(topic_feed_name(slug, custom), []).append(slug)
        bases: dict[str, tuple[Feed, Query]] = {}
        for feed in feeds:
            if feed.archive or feed.url_query:
                continue
            if feed.kind == "all":
                base = Query()
            elif feed.kind == "custom" and feed.query is not None:
                base = feed.query
            elif feed.kind == "topic" and feed.path.removeprefix("feeds/") in topic_slugs:
                base = Query(topics=tuple(topic_slugs[feed.path.removeprefix("feeds/")]))
            elif feed.kind == "provider":
                base = Query(providers=(feed.path.removeprefix("feeds/providers/"),))
            else:
                continue
            bases[feed.path] = (feed, base)
        quality = array("d", (-math.inf if record.quality is None else record.quality for record in ordered))
        return cls(ordered, stamps, topics, providers, types, quality, bases, limit)

    @property
    def now(self) -> dt.datetime:
        """What ``since`` counts back from: the newest publication date, as custom feeds do."""
        return self.ordered[0].published_at if self.ordered else EPOCH

    def has_feed(self, feed_path: str) -> bool:
        return feed_path in self.feeds

    def check(self, query: Query) -> None:
        """QueryError for a topic, provider or type no published record has, naming the
        nearest known one when one is close."""
        for field, index_name in _LISTS.items():
            known: dict[str, array[int]] = getattr(self, index_name)
            for value in getattr(query, field):
                if value not in known:
                    close = difflib.get_close_matches(value, known.keys(), n=1, cutoff=0.75)
                    hint = f"; did you mean {close[0]}?" if close else ""
                    raise QueryError(f"{field}: no published story has the {index_name[:-1]} {value!r}{hint}")

    def variant(self, feed_path: str, request: Request) -> Variant:
        """The document of one page of a query on a feed. QueryError for unknown values
        (``check``), NoSuchPage for a page past the end (page 1 always exists, empty or
        not) or a path that is no feed's head."""
        if feed_path not in self.feeds:
            raise NoSuchPage("queries are served on a feed's own documents only")
        self.check(request.query)
        head, base = self.feeds[feed_path]
        start = (request.page - 1) * self.limit
        total, entries = self._select((base, request.query), start, self.limit)
        pages = max(1, -(-total // self.limit))
        if request.page > pages:
            raise NoSuchPage(f"page {request.page} is past the last page ({pages}) of this selection")
        links = []
        for rel, page in (("first", 1), ("previous", request.page - 1), ("next", request.page + 1), ("last", pages)):
            if 1 <= page <= pages and (rel in ("first", "last") or page != request.page):
                links.append(DocumentLink(rel, feed_path, request.with_page(page)))
        title, description = head.title, head.description
        if request.query:
            shown = request.query.describe()
            title = f"{head.title}: {shown}"
            description = f"{head.description}; {shown}"
        feed = Feed(feed_path, head.kind, title, description, tuple(entries), head.query, tuple(links),
                    url_query=request.canonical())
        return Variant(feed, request.page, pages, total)

    def _select(self, queries: Sequence[Query], start: int, count: int) -> tuple[int, list[Summary]]:
        """How many records every query matches, and those at [start, start + count).

        The same selection as ``all(query.matches(record, now) for query in queries)``,
        computed on positions: the shortest union of index lists (or every position)
        cut by since, then each other list field as a set of positions, the excluded
        topics and providers as sets, min_quality against an array."""
        now = self.now
        ages = [query.since for query in queries if query.since is not None]
        end = len(self.ordered)
        if ages:  # newest first: the records young enough are a prefix
            end = bisect.bisect_right(self.stamps, -(now - min(ages)).timestamp())
        conditions = [(getattr(self, field), values) for query in queries
                      for field in ("topics", "providers", "types") if (values := getattr(query, field))]
        conditions.sort(key=lambda condition: sum(len(condition[0].get(value, ())) for value in condition[1]))
        if conditions:
            index, values = conditions.pop(0)
            positions = _union(index, values, end)
        else:
            positions = list(range(end))
        for index, values in conditions:
            allowed = set(_union(index, values, end))
            positions = [position for position in positions if position in allowed]
        for query in queries:
            for field, index in (("exclude_topics", self.topics), ("exclude_providers", self.providers)):
                if getattr(query, field):
                    excluded = set(_union(index, getattr(query, field), end))
                    positions = [position for position in positions if position not in excluded]
        floors = [query.min_quality for query in queries if query.min_quality is not None]
        if floors:
            floor, quality = max(floors), self.quality
            positions = [position for position in positions if quality[position] >= floor]
        return len(positions), [self.ordered[position] for position in positions[start:start + count]]


def _union(index: dict[str, array[int]], values: Iterable[str], end: int) -> list[int]:
    """The positions below end of any of the values, ascending, each once."""
    lists = [index[value] for value in values if value in index]
    if len(lists) == 1:
        return list(itertools.takewhile(lambda position: position < end, lists[0]))
    merged = (position for position, _ in itertools.groupby(heapq.merge(*lists)))
    return list(itertools.takewhile(lambda position: position < end, merged))
