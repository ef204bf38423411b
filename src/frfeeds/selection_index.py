"""Served queries answered from indexes: every published record by topic, provider and
type, built once per plan; a query's page is a few index lookups and a bounded scan.

Pure: no I/O, no HTTP. ``SelectionIndex.of(plan)`` indexes ``plan.selection.records``
(every published story, not only the newest ``limit`` the feeds hold), newest first as
the feeds order them; ``variant(feed_path, request)`` makes the Feed document of one
page of a query on one feed (``feeds/ai.atom?types=video&page=2`` narrows the topic
feed ai), with its RFC 5005 section 3 paging links and its canonical query string as
its id (``Feed.url_query``). Its files are rendered like any feed's.

Cost of a query: for the list fields given (topics, providers, types, of the feed and of
the query), the shortest union of index lists drives the scan; each candidate is checked
with ``Query.matches``; ``since`` cuts the scan at the first record too old. At most the
records of that shortest union are looked at, and at most ``limit`` entries rendered.
"""

from __future__ import annotations

import bisect
import datetime as dt
import difflib
import heapq
import itertools
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from frfeeds.catalog import EPOCH, DocumentLink, Feed, newest_first, topic_feed_name
from frfeeds.query import Query, QueryError, Request, _type_slug
from frfeeds.records import Summary

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
            if record.type is not None and _type_slug(record.type):
                types.setdefault(_type_slug(record.type), array("I")).append(position)
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
        return cls(ordered, stamps, topics, providers, types, bases, limit)

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
            raise NoSuchPage(feed_path)
        self.check(request.query)
        head, base = self.feeds[feed_path]
        start = (request.page - 1) * self.limit
        total, entries = self._select((base, request.query), start, self.limit)
        pages = max(1, -(-total // self.limit))
        if request.page > pages:
            raise NoSuchPage(f"{feed_path}: page {request.page} of {pages}")
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
        """How many records every query matches, and those at [start, start + count)."""
        now = self.now
        ages = [query.since for query in queries if query.since is not None]
        end = len(self.ordered)
        if ages:  # newest first: the records young enough are a prefix
            end = bisect.bisect_right(self.stamps, -(now - min(ages)).timestamp())
        total, entries = 0, []
        ordered = self.ordered
        for position in self._candidates(queries, end):
            record = ordered[position]
            if all(query.matches(record, now) for query in queries):
                if start <= total < start + count:
                    entries.append(record)
                total += 1
        return total, entries

    def _candidates(self, queries: Sequence[Query], end: int) -> Iterator[int]:
        """Positions (ascending, below end) of the records that may match: the shortest
        union of index lists among the queries' list fields, else every position."""
        best: list[array[int]] | None = None
        for query in queries:
            for field in ("topics", "providers", "types"):
                values = getattr(query, field)
                if values:
                    index: dict[str, array[int]] = getattr(self, field)
                    lists = [index[value] for value in values if value in index]
                    if best is None or sum(map(len, lists)) < sum(map(len, best)):
                        best = lists
        if best is None:
            return iter(range(end))
        if len(best) == 1:
            return itertools.takewhile(lambda position: position < end, best[0])
        merged = heapq.merge(*best)
        unique = (position for position, _ in itertools.groupby(merged))
        return itertools.takewhile(lambda position: position < end, unique)
