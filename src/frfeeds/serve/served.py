"""The feed tree as served over HTTP: each file rendered on its first request, with what
HTTP says about it. No Flask here.

Rendered files are kept in a memory-bounded LRU keyed by path and input digest, so a
reload re-renders only feeds whose inputs changed, and a 100,000-record tree is served
without holding all of it in every worker.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from frfeeds.archive import is_sealed
from frfeeds.catalog import EPOCH, Feed
from frfeeds.plan import PAGES, Plan, entry_paths, feed_digest, feed_paths, render_feeds, render_page
from frfeeds.query import Request
from frfeeds.render.outputs import media_type
from frfeeds.selection_index import NoSuchPage, SelectionIndex
from frfeeds.serve.snapshot import Snapshot

MEMO_BYTES = 256 << 20
#: What the memo counts for an item besides its bytes: the Served, its key, the dict slots.
ITEM_OVERHEAD = 512
#: Served queries whose digest a tree remembers (``path?query`` -> digest, about 300
#: bytes each): a repeated query skips the selection and goes straight to the memo.
RESOLVED_QUERIES = 10_000


@dataclass(frozen=True)
class Served:
    data: bytes
    #: Strong ETag value (without quotes): a digest of the bytes.
    etag: str
    #: The newest entry date of what the file holds.
    modified: dt.datetime
    media_type: str
    #: A sealed archive document (RFC 5005: full, a newer one after it): no new story
    #: changes it, so it may be cached for long.
    sealed: bool = False
    _gzip: list[bytes] = field(default_factory=list, compare=False, repr=False)
    #: What the fast path made of the file (serve/fast.py: its headers), by Cache-Control value.
    answers: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    def gzipped(self) -> bytes:
        """The bytes gzipped with no timestamp: the same in every worker, every time."""
        if not self._gzip:
            self._gzip.append(bytes(gzip.compress(self.data, compresslevel=6, mtime=0)))
        return self._gzip[0]


class Unavailable(Exception):
    """A file of the tree could not be rendered, and no earlier version of it is held."""


class RenderMemo:
    """Rendered files by (path, input digest), least recently used dropped past a byte budget."""

    def __init__(self, budget: int = MEMO_BYTES) -> None:
        self.budget = budget
        self._items: OrderedDict[tuple[str, str], Served] = OrderedDict()
        #: Path -> the digest it was last rendered with.
        self._latest: dict[str, str] = {}
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> Served | None:
        with self._lock:
            served = self._items.get(key)
            if served is not None:
                self._items.move_to_end(key)
            return served

    def put(self, key: tuple[str, str], served: Served) -> None:
        with self._lock:
            if key in self._items:
                return
            self._items[key] = served
            self._latest[key[0]] = key[1]
            self._size += len(served.data) + ITEM_OVERHEAD
            while self._size > self.budget and len(self._items) > 1:
                (path, digest), dropped = self._items.popitem(last=False)
                self._size -= len(dropped.data) + ITEM_OVERHEAD
                if self._latest.get(path) == digest:
                    del self._latest[path]

    def __len__(self) -> int:
        return len(self._items)

    @property
    def size(self) -> int:
        """The bytes counted against the budget."""
        return self._size

    def latest(self, path: str) -> Served | None:
        """The version of a path rendered last, whatever its inputs."""
        with self._lock:
            digest = self._latest.get(path)
            return None if digest is None else self._items.get((path, digest))


class ServedTree:
    """The files of one plan, by tree path.

    ``held`` holds the details of every published record (a Snapshot): a request,
    a served query's too, renders from memory only. ``index`` answers served queries
    (``query``): their documents are rendered like files and kept in the same memo,
    keyed by the path with its canonical query string. Should rendering fail all the same, the path's
    last rendered version is served, or Unavailable raised. ``records``, ``parsed``,
    ``rejected`` and ``transient`` say what the load found (for /healthz and the reloader).
    """

    def __init__(self, plan: Plan, held: Snapshot, memo: RenderMemo, log: logging.Logger | None = None, *,
                 records: int = 0, parsed: int = 0, rejected: int = 0, transient: bool = False,
                 limit: int = 50) -> None:
        self.plan = plan
        self.held = held
        self.records, self.parsed, self.rejected, self.transient = records, parsed, rejected, transient
        self._memo = memo
        self._log = log or logging.getLogger("frfeeds")
        self._feeds = {path: feed for feed in plan.documents for path in feed_paths(feed)}
        self._newest = max((feed.updated for feed in plan.feeds), default=EPOCH)
        self.index = SelectionIndex.of(plan.selection.records, plan.feeds, limit)
        self._resolved: OrderedDict[str, str] = OrderedDict()
        self._resolved_lock = threading.Lock()

    @property
    def paths(self) -> int:
        return len(self._feeds) + len(PAGES)

    def is_feed_file(self, path: str) -> bool:
        """Whether path is a file of one of the plan's feeds (``feeds/ai.atom``)."""
        return path in self._feeds

    def has_file(self, path: str) -> bool:
        return path in self._feeds or path in PAGES

    def get(self, path: str) -> Served | None:
        """The file at a tree path, or None when the tree has no such file."""
        try:
            return self._get(path)
        except Exception as exc:  # a request is answered whatever went wrong
            served = self._memo.latest(path)
            state = "serving its last version" if served else "nothing to serve"
            self._log.error("cannot render %s (%s: %s): %s", path, type(exc).__name__, exc, state)
            if served is None:
                raise Unavailable(path) from exc
            return served

    def _get(self, path: str) -> Served | None:
        if path in PAGES:
            key = (path, self.plan.pages_digest)
            served = self._memo.get(key)
            if served is None:
                newest = self.held.encoded(entry.path for entry in self.plan.newest)
                served = _served(path, render_page(self.plan, path, newest), self._newest)
                self._memo.put(key, served)
            return served
        feed = self._feeds.get(path)
        if feed is None:
            return None
        digest = self.plan.digests[feed.path]
        served = self._memo.get((path, digest))
        return served if served is not None else self._render(feed, digest, path)

    def query(self, path: str, request: Request) -> Served:
        """One page of a served query on the feed file at path (``feeds/all.atom``).

        Raises QueryError for a selection that cannot be served (a 400), NoSuchPage for
        a path that is no feed's file or a page past the end (a 404), Unavailable when
        rendering failed. The document's four files are rendered together and kept
        in the memo under ``path?query`` and the document's digest.
        """
        feed = self._feeds.get(path)
        if feed is None or not self.index.has_feed(feed.path):
            raise NoSuchPage("queries are served on a feed's own documents only")
        canonical = request.canonical()
        key = f"{path}?{canonical}" if canonical else path
        with self._resolved_lock:
            known = self._resolved.get(key)
        if known is not None:
            served = self._memo.get((key, known))
            if served is not None:
                return served
        variant = self.index.variant(feed.path, request).feed
        digest = feed_digest(self.plan.stamp, variant)
        with self._resolved_lock:
            self._resolved[key] = digest
            self._resolved.move_to_end(key)
            while len(self._resolved) > RESOLVED_QUERIES:
                self._resolved.popitem(last=False)
        suffix = "?" + variant.url_query if variant.url_query else ""
        served = self._memo.get((path + suffix, digest))
        if served is not None:
            return served
        try:
            return self._render(variant, digest, path, suffix)
        except Exception as exc:
            self._log.error("cannot render %s%s (%s: %s)", path, suffix, type(exc).__name__, exc)
            raise Unavailable(path) from exc

    def _render(self, feed: Feed, digest: str, path: str, suffix: str = "") -> Served:
        """Render a feed document's files from the held details, keep each in the memo
        under its path (plus a served query's ``?query`` suffix) and the document's
        digest, and give the one at path."""
        work = [([feed], self.held.encoded(entry_paths([feed])))]
        served = None
        for sibling, data in next(render_feeds(self.plan.render, work)).items():
            rendered = _served(sibling, data, feed.updated, is_sealed(feed))
            self._memo.put((sibling + suffix, digest), rendered)
            if sibling == path:
                served = rendered
        assert served is not None, f"{path} is no file of {feed.path}"
        return served


def _served(path: str, data: bytes, modified: dt.datetime, sealed: bool = False) -> Served:
    return Served(data, hashlib.sha256(data).hexdigest()[:32], modified, media_type(path), sealed)
