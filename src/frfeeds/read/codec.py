"""Records to bytes and back, for the parse cache and for parse workers.

A record is split in two marshal'd tuples: the summary (what the catalog needs, read
for every record on every build) and the details (text, images, related stories, read
only for entries being rendered). marshal is the fastest serializer of plain tuples in
the standard library; its format is tied to the Python version, which the cache records.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import marshal

from frfeeds.read.cache import MARSHAL_VERSION
from frfeeds.records import Image, Provider, Record, Related, Summary, Topic

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_MICROSECOND = dt.timedelta(microseconds=1)


def encode(record: Record) -> tuple[bytes, bytes]:
    """(summary, details) bytes of a record."""
    details = marshal.dumps(
        (
            record.title, record.excerpt, record.original_url, record.amp_url, record.cdn_amp_url,
            record.type, record.category, record.quality, record.heat, record.featured_html, record.embeds,
            tuple((image.url, image.width, image.height, image.title) for image in record.images),
            tuple(
                (related.title, related.url, related.excerpt, _micros(related.published_at),
                 related.provider.name if related.provider else None,
                 related.provider.domain if related.provider else None)
                for related in record.related
            ),
        ),
        MARSHAL_VERSION,
    )
    core = (
        record.url, _micros(record.published_at), _micros(record.updated_at), record.is_published, record.is_removed,
        record.provider.name, record.provider.domain, tuple((topic.slug, topic.label) for topic in record.topics),
    )
    core_bytes = marshal.dumps(core, MARSHAL_VERSION)
    digest = hashlib.blake2b(core_bytes + details, digest_size=8).hexdigest()
    return marshal.dumps((digest, *core), MARSHAL_VERSION), details


class Decoder:
    """Decodes summaries and records, sharing equal Provider and Topic objects."""

    def __init__(self) -> None:
        self._providers: dict[tuple[str, str], Provider] = {}
        self._topics: dict[tuple[str, str], Topic] = {}
        self._topic_lists: dict[tuple, tuple[Topic, ...]] = {}

    def summary(self, path: str, data: bytes) -> Summary:
        digest, url, published, updated, is_published, is_removed, name, domain, topics = marshal.loads(data)
        published_at = _datetime(published)
        return Summary(
            path, url, published_at, _datetime(updated) if updated is not None else published_at,
            is_published, is_removed, self._provider(name, domain), self._topic_list(topics), digest,
        )

    def _topic_list(self, pairs: tuple) -> tuple[Topic, ...]:
        """Records share few topic lists: decode each distinct one once."""
        topics = self._topic_lists.get(pairs)
        if topics is None:
            topics = self._topic_lists[pairs] = tuple(self._topic(slug, label) for slug, label in pairs)
        return topics

    def record(self, summary_data: bytes, details_data: bytes, path: str) -> Record:
        _, url, published, updated, is_published, is_removed, name, domain, topics = marshal.loads(summary_data)
        (title, excerpt, original, amp, cdn, kind, category, quality, heat, featured, embeds,
         images, related) = marshal.loads(details_data)
        return Record(
            path=path, title=title, url=url, published_at=_datetime(published),
            provider=self._provider(name, domain),
            updated_at=_datetime(updated) if updated is not None else None,
            excerpt=excerpt, original_url=original, amp_url=amp, cdn_amp_url=cdn, type=kind, category=category,
            quality=quality, heat=heat, is_published=is_published, is_removed=is_removed,
            topics=self._topic_list(topics),
            images=tuple(Image(*image) for image in images),
            related=tuple(
                Related(title=r_title, url=r_url, excerpt=r_excerpt,
                        published_at=_datetime(r_when) if r_when is not None else None,
                        provider=self._provider(r_name, r_domain) if r_domain is not None else None)
                for r_title, r_url, r_excerpt, r_when, r_name, r_domain in related
            ),
            featured_html=featured, embeds=embeds,
        )

    def _provider(self, name: str, domain: str) -> Provider:
        return _intern(self._providers, (name, domain), Provider)

    def _topic(self, slug: str, label: str) -> Topic:
        return _intern(self._topics, (slug, label), Topic)


def _intern(table: dict, key: tuple, make):
    """One object per distinct key: records share providers and topics."""
    found = table.get(key)
    if found is None:
        found = table[key] = make(*key)
    return found


def _micros(when: dt.datetime | None) -> int | None:
    return None if when is None else (when - _EPOCH) // _MICROSECOND


def _datetime(micros: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=micros)


def decode_records(encoded: dict[str, tuple[bytes, bytes]]) -> dict[str, Record]:
    decoder = Decoder()
    return {path: decoder.record(summary, details, path) for path, (summary, details) in encoded.items()}
