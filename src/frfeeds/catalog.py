"""Decide which records go in which feed: pure functions over record Summaries, no I/O.

select() merges duplicates and leaves out unpublished and removed stories; build_catalog() groups
what remains into one feed for everything, one per topic and one per provider, each
holding its newest entries.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from frfeeds.records import Summary

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


@dataclass(frozen=True, slots=True)
class Feed:
    """One feed, whatever its format."""

    #: Path in the feed tree without the format's extension: ``feeds/ai``.
    path: str
    #: ``all``, ``topic`` or ``provider``.
    kind: str
    title: str
    description: str
    #: Newest first (by publication date, ties by id), at most the configured limit.
    entries: tuple[Summary, ...]

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


def select(records: Iterable[Summary], include_unpublished: bool = False) -> Selection:
    """One record per webUrl (the one updated last), without ``removed: true`` ones and,
    unless include_unpublished, without ``published: false`` ones.

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
    kept = [r for r in unique if not r.is_removed]
    chosen = tuple(r for r in kept if include_unpublished or r.is_published)
    return Selection(chosen, len(kept) - len(chosen), duplicates, len(unique) - len(kept))


def build_catalog(records: Iterable[Summary], limit: int) -> tuple[Feed, ...]:
    """Every feed: all, then topics, then providers, each sorted by slug."""
    ordered = newest_first(records)
    topic_entries: dict[str, list[Summary]] = defaultdict(list)
    topic_labels: dict[str, dict[str, int]] = defaultdict(dict)
    provider_entries: dict[str, list[Summary]] = defaultdict(list)
    provider_names: dict[str, dict[str, int]] = defaultdict(dict)
    for record in ordered:
        for topic in record.topics:
            slug = topic.slug
            labels = topic_labels[slug]
            labels[topic.label] = labels.get(topic.label, 0) + 1
            if len(topic_entries[slug]) < limit:
                topic_entries[slug].append(record)
        domain = record.provider.domain
        names = provider_names[domain]
        names[record.provider.name] = names.get(record.provider.name, 0) + 1
        if len(provider_entries[domain]) < limit:
            provider_entries[domain].append(record)

    feeds = [Feed("feeds/all", "all", "All news", "Every story, newest first", tuple(ordered[:limit]))]
    for slug in sorted(topic_entries):
        label = _most_common(topic_labels[slug])
        feeds.append(Feed(f"feeds/{slug}", "topic", label, f"Stories on {label}, newest first", tuple(topic_entries[slug])))
    for domain in sorted(provider_entries):
        name = _most_common(provider_names[domain])
        feeds.append(Feed(f"feeds/providers/{domain}", "provider", name, f"Stories from {name} ({domain}), newest first", tuple(provider_entries[domain])))
    return tuple(feeds)


def newest_first(records: Iterable[Summary]) -> list[Summary]:
    """Sorted by publication date, newest first; equal dates by id, ascending."""
    by_id = sorted(records, key=lambda record: record.url)
    return sorted(by_id, key=lambda record: record.published_at, reverse=True)


def _freshness(record: Summary) -> tuple[dt.datetime, dt.datetime, str]:
    return record.updated, record.published_at, record.path


def _most_common(counts: dict[str, int]) -> str:
    """The most used spelling; ties go to the first in sorted order."""
    return min(counts.items(), key=lambda item: (-item[1], item[0]))[0]
