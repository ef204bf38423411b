"""Archived feeds (RFC 5005 section 4): a feed with every story -> its head and its archive
documents. Pure: no I/O, no clock.

The head is the feed as it always was, its newest ``limit`` stories; the older ones go
to archive documents ``<feed>/archive/<n>``, blocks of ``size`` stories counted from the
oldest (number 1 holds the oldest ``size``), each written newest first. So:

- head and archives never overlap, and walking ``prev-archive`` from the head visits
  every story of the feed once, newest first;
- a new story makes the head's oldest story the newest archived one: only the head and
  the newest archive document change, never a full block below it, except that when
  the newest block was full, a new block starts and the one before it gains its
  ``next-archive`` link (once: it is then *sealed*);
- a sealed block (one with a newer block after it) changes only when its own stories
  do (an old story edited, removed or backdated into it, which shifts the blocks after
  it too) or the code or the output settings do.

Entries are shared references to the catalog's Summaries: the archives of 100,000
records cost a tuple slot per story and feed, not a copy of any record.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from frfeeds.catalog import DocumentLink, Feed

#: The folder of a feed's archive documents, beside its files: ``feeds/ai/archive/3.atom``.
ARCHIVE_FOLDER = "archive"
#: RFC 5005 link relations.
PREV, NEXT, CURRENT = "prev-archive", "next-archive", "current"


@dataclass(frozen=True, slots=True)
class Archived:
    """A feed's documents: its head, and its archive documents oldest first (number 1 first)."""

    head: Feed
    archives: tuple[Feed, ...]


def archive_path(feed_path: str, number: int) -> str:
    """``feeds/ai`` + 3 -> ``feeds/ai/archive/3``."""
    return f"{feed_path}/{ARCHIVE_FOLDER}/{number}"


def split(feed: Feed, limit: int, size: int) -> Archived:
    """The head (the newest ``limit`` entries, with a ``prev-archive`` link to the newest
    archive document when there are older ones) and the archive documents of a feed
    whose entries are all its stories, newest first."""
    if limit < 1 or size < 1:
        raise ValueError(f"limit and size must be at least 1, not {limit} and {size}")
    older = feed.entries[limit:]
    count = -(-len(older) // size)  # blocks, the newest maybe partial
    archives = []
    for number in range(1, count + 1):
        # block n holds the oldest-first positions (n-1)*size .. n*size-1 of the older stories
        entries = older[max(0, len(older) - number * size):len(older) - (number - 1) * size]
        links = [DocumentLink(CURRENT, feed.path)]
        if number > 1:
            links.append(DocumentLink(PREV, archive_path(feed.path, number - 1)))
        if number < count:
            links.append(DocumentLink(NEXT, archive_path(feed.path, number + 1)))
        archives.append(Feed(archive_path(feed.path, number), feed.kind, feed.title,
                             f"{feed.description}: archive {number}, older stories", entries, feed.query,
                             tuple(links), archive=True))
    head_links = feed.links + ((DocumentLink(PREV, archive_path(feed.path, count)),) if count else ())
    return Archived(replace(feed, entries=feed.entries[:limit], links=head_links), tuple(archives))


def split_all(feeds: Iterable[Feed], limit: int, size: int) -> tuple[tuple[Feed, ...], tuple[Feed, ...]]:
    """The heads of feeds holding all their stories, and all their archive documents
    (each feed's oldest first, in the feeds' order)."""
    heads: list[Feed] = []
    archives: list[Feed] = []
    for feed in feeds:
        archived = split(feed, limit, size)
        heads.append(archived.head)
        archives += archived.archives
    return tuple(heads), tuple(archives)


def is_sealed(feed: Feed) -> bool:
    """An archive document with a newer one after it: full, and changed by no new story."""
    return feed.archive and any(link.rel == NEXT for link in feed.links)


def newest_archive(feed: Feed) -> DocumentLink | None:
    """A head's link to its newest archive document, if it has archives."""
    return next((link for link in feed.links if link.rel == PREV), None) if not feed.archive else None


def head_path(feed: Feed) -> str:
    """The path of the feed a document belongs to: an archive's ``current``, else its own."""
    if feed.archive:
        return next((link.path for link in feed.links if link.rel == CURRENT), feed.path)
    return feed.path


def archive_number(path: str) -> int:
    """``feeds/ai/archive/3`` -> 3."""
    return int(path.rpartition("/")[2])
