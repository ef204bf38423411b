"""A selection of records: ``Query.from_mapping({...}, where).matches(summary, now)``.

A query names any of topics, providers, types, topics and providers to leave out, a
minimum quality and a maximum age. Within a field the values are alternatives (topics
AI or Azure); across fields all must hold (AI *and* video *and* quality 60 or more,
*and* none of the excluded topics, *and* not from an excluded provider). An empty
query selects every record. Custom feeds are made of queries, and a served query URL can reuse the
canonical form, ``canonical()``, which equal queries share.

Nothing here reads the clock: ``since`` is measured back from the ``now`` the caller
passes (a build passes the newest publication date it holds), so the same records
always select the same entries.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from frfeeds.records import Summary

# frfeeds.clean (slugs, hosts) is imported where used: its regexes and nh3, which a
# build that reads no record (nothing changed) must not pay for to check its settings.

#: The fields of a query, in canonical order.
FIELDS = ("topics", "providers", "types", "exclude_topics", "exclude_providers", "min_quality", "since")
#: The fields whose value is a list.
LIST_FIELDS = ("topics", "providers", "types", "exclude_topics", "exclude_providers")
#: Each field's example value (TOML) and what it selects: the starter file shows them.
EXAMPLES = {
    "topics": ('["AI"]', "topic labels or slugs"),
    "providers": ('["youtube.com"]', "provider domains"),
    "types": ('["video"]', "record types: article, video, ..."),
    "exclude_topics": ('["Sports"]', "leave out records with any of these topics"),
    "exclude_providers": ('["example.com"]', "leave out records from these providers"),
    "min_quality": ("60", "records whose quality is at least this"),
    "since": ('"30 days"', "published at most this long before the newest record"),
}
#: Age units, largest first: the canonical form uses the largest one that divides the age.
UNITS = {"w": 7 * 86_400, "d": 86_400, "h": 3_600, "m": 60}
_UNIT_WORDS = {"week": "w", "day": "d", "hour": "h", "minute": "m"}
_AGE = re.compile(r"\s*(\d{1,6})\s*([a-z]+?)s?\s*", re.IGNORECASE)
MAX_QUALITY = 1_000_000
#: A served query's caps: characters of its query string, values of one list field, page number.
MAX_QUERY_CHARS = 1_000
MAX_VALUES = 20
MAX_PAGE = 100_000
#: The parameter of a served query's page (not a field: it picks a page of the selection).
PAGE_PARAMETER = "page"


class QueryError(ValueError):
    """A query that cannot be used: ``where.field: reason``."""


@dataclass(frozen=True, slots=True)
class Query:
    """Which records a feed holds. Tuples are sorted and free of repeats, so equal
    queries are equal values with equal reprs (a build digests them)."""

    #: Topic slugs (as ``Topic.slug``).
    topics: tuple[str, ...] = ()
    #: Provider domains (as ``Provider.domain``: lowercase, no ``www.``).
    providers: tuple[str, ...] = ()
    #: Record types, as slugs (``article``, ``video``).
    types: tuple[str, ...] = ()
    #: Topic slugs: records with any of them are left out.
    exclude_topics: tuple[str, ...] = ()
    #: Provider domains: records from any of them are left out.
    exclude_providers: tuple[str, ...] = ()
    #: Records whose ``quality`` is at least this; records without one are left out.
    min_quality: int | None = None
    #: Records published at most this long before ``now``.
    since: dt.timedelta | None = None

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], where: str = "") -> Query:
        """A query from a mapping of its fields, as a config file's table gives it.

        topics, providers and types take a list of text (or one text); min_quality a
        whole number; since an age such as ``"30 days"``. Raises QueryError naming the
        field (``where.field: reason``), unknown fields with a suggestion.
        """
        if not isinstance(mapping, Mapping):
            raise QueryError(f"{where or 'query'}: must be a table of {', '.join(FIELDS)}, not {_kind(mapping)}")
        for key in mapping:
            if key not in FIELDS:
                raise QueryError(f"{_at(where, str(key))}: {unknown_key(str(key), FIELDS)}")
        values: dict[str, Any] = {}
        for name, parse in _PARSERS.items():
            if name in mapping:
                try:
                    values[name] = parse(mapping[name])
                except ValueError as exc:
                    raise QueryError(f"{_at(where, name)}: {exc}") from None
        return cls(**values)

    def matches(self, summary: Summary, now: dt.datetime) -> bool:
        """Whether the record is selected: every field given holds (any of its values)."""
        if self.topics and not any(topic.slug in self.topics for topic in summary.topics):
            return False
        if self.providers and summary.provider.domain not in self.providers:
            return False
        if self.types and (summary.type is None or type_slug(summary.type) not in self.types):
            return False
        if self.exclude_topics and any(topic.slug in self.exclude_topics for topic in summary.topics):
            return False
        if self.exclude_providers and summary.provider.domain in self.exclude_providers:
            return False
        if self.min_quality is not None and (summary.quality is None or summary.quality < self.min_quality):
            return False
        return self.since is None or summary.published_at >= now - self.since

    def canonical(self) -> str:
        """The query as a query string, fields in alphabetical order, each list's values
        sorted: the same for equal queries, "" for none."""
        parts = []
        for name in sorted(FIELDS):
            value = getattr(self, name)
            if name == "since" and value is not None:
                parts.append(f"since={format_age(value)}")
            elif name == "min_quality" and value is not None:
                parts.append(f"min_quality={value}")
            elif isinstance(value, tuple) and value:
                parts.append(f"{name}={','.join(quote(item, safe='') for item in value)}")
        return "&".join(parts)

    def describe(self) -> str:
        """The selection in words, for a served query's title: ``topics ai or robotics;
        types video; quality 60 or more``."""
        words = {"topics": "topics", "providers": "from", "types": "types", "exclude_topics": "not topics",
                 "exclude_providers": "not from"}
        parts = [f"{words[name]} {' or '.join(getattr(self, name))}" for name in LIST_FIELDS if getattr(self, name)]
        if self.min_quality is not None:
            parts.append(f"quality {self.min_quality} or more")
        if self.since is not None:
            parts.append(f"the last {format_age(self.since)}")
        return "; ".join(parts)

    def __bool__(self) -> bool:
        """False for the empty query, which selects everything."""
        return any(getattr(self, name) not in ((), None) for name in FIELDS)


@dataclass(frozen=True, slots=True)
class Request:
    """A served query: the selection and which page of it (1 is the newest)."""

    query: Query = Query()
    page: int = 1

    def canonical(self) -> str:
        """The one query string of this selection and page: fields in alphabetical order
        (``page`` among them), values sorted, labels as slugs, ages in their largest
        unit, page 1 left out; "" for the whole feed's first page."""
        parts = self.query.canonical().split("&") if self.query else []
        if self.page != 1:
            parts.append(f"{PAGE_PARAMETER}={self.page}")
        return "&".join(sorted(parts, key=lambda part: part.partition("=")[0]))

    def with_page(self, page: int) -> str:
        """The canonical query string of another page of the same selection."""
        return Request(self.query, page).canonical()


def parse_request(text: str) -> Request:
    """A served query from a URL's raw query string, however it is spelt.

    A list field may be given several times (a form's ``<select multiple>``) and hold
    comma-separated values; empty values are ignored (a form's empty input). Raises
    QueryError with a one-line reason: a too-long query string, an unknown parameter
    (naming the nearest), a scalar given twice, more than MAX_VALUES values in a field,
    a value out of range. Whether topics and providers exist is for the caller to say.
    """
    from urllib.parse import parse_qsl

    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"the query string is {len(text)} characters long; at most {MAX_QUERY_CHARS} are served")
    try:
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=MAX_QUERY_CHARS)
    except (ValueError, UnicodeDecodeError) as exc:
        raise QueryError(f"the query string cannot be read: {exc}") from None
    known = (*FIELDS, PAGE_PARAMETER)
    lists: dict[str, list[str]] = {}
    scalars: dict[str, str] = {}
    for key, value in pairs:
        if key not in known:
            raise QueryError(f"{key}: {unknown_key(key, known).replace('key', 'parameter')}")
        if key in LIST_FIELDS:
            items = [item.strip() for item in value.split(",")]
            lists.setdefault(key, []).extend(item for item in items if item)
        elif key in scalars:
            raise QueryError(f"{key}: given twice")
        else:
            scalars[key] = value.strip()
    mapping: dict[str, Any] = {}
    for key, items in lists.items():
        if len(set(items)) > MAX_VALUES:
            raise QueryError(f"{key}: {len(set(items))} values; at most {MAX_VALUES} are served")
        if items:
            mapping[key] = items
    page = 1
    for key, value in scalars.items():
        if not value:
            continue
        if key == PAGE_PARAMETER:
            if not re.fullmatch(r"\d{1,6}", value) or not 1 <= int(value) <= MAX_PAGE:
                raise QueryError(f"page: must be a whole number from 1 to {MAX_PAGE}, not {value[:20]!r}")
            page = int(value)
        elif key == "min_quality":
            if not re.fullmatch(r"[-+]?\d{1,7}", value):
                raise QueryError(f"min_quality: must be a whole number, not {value[:20]!r}")
            mapping[key] = int(value)
        else:
            mapping[key] = value
    return Request(Query.from_mapping(mapping), page)


def parse_age(value: object) -> dt.timedelta:
    """``"30 days"``, ``"12 hours"``, ``"2 weeks"``, ``"90 minutes"``, ``"30d"`` -> timedelta."""
    text = value if isinstance(value, str) else None
    match = _AGE.fullmatch(text) if text is not None else None
    unit = match and _UNIT_WORDS.get(match[2].lower(), match[2].lower())
    if not match or unit not in UNITS or int(match[1]) == 0:
        shown = repr(value) if isinstance(value, str) else _kind(value)
        raise ValueError(f"must be an age such as '30 days', '12 hours' or '2 weeks', not {shown}")
    return dt.timedelta(seconds=int(match[1]) * UNITS[unit])


def format_age(age: dt.timedelta) -> str:
    """The age in the largest unit that divides it: 14 days -> ``2w``, 36 hours -> ``36h``."""
    seconds = int(age.total_seconds())
    unit = next((unit for unit, size in UNITS.items() if seconds % size == 0), "m")
    return f"{seconds // UNITS[unit]}{unit}"


def topic_slug(label: object) -> str:
    """A topic label or slug as ``Topic.slug`` names it (``All`` -> ``all-topic``)."""
    from frfeeds.clean import slugify
    from frfeeds.records import RESERVED_SLUGS

    if not isinstance(label, str):
        raise ValueError(f"must be text, not {_kind(label)}")
    slug = slugify(label)
    if not slug:
        raise ValueError("has no letters or digits to name a topic")
    return slug + "-topic" if slug in RESERVED_SLUGS else slug


def unknown_key(key: str, known: Iterable[str]) -> str:
    """``unknown key; did you mean title?`` (difflib's nearest known key), or the list."""
    known = list(known)
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f"unknown key; did you mean {close[0]}?"
    return f"unknown key; known keys are {', '.join(known)}"


def _texts(value: object, convert: Callable[[str], str]) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise ValueError(f"must be a list of text, not {_kind(value)}")
    if not items:
        raise ValueError("must be a list of text, not an empty list")
    found = set()
    for item in items:
        try:
            found.add(convert(item))
        except ValueError as exc:
            raise ValueError(f"{item!r} {exc}" if isinstance(item, str) else str(exc)) from None
    return tuple(sorted(found))


def _type(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be text, not {_kind(value)}")
    slug = type_slug(value)
    if not slug:
        raise ValueError("has no letters or digits")
    return slug


def _host(value: object) -> str:
    from frfeeds.clean import clean_host

    return clean_host(value)


def _quality(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"must be a whole number, not {repr(value) if isinstance(value, str) else _kind(value)}")
    if abs(value) > MAX_QUALITY:
        raise ValueError(f"must be between -{MAX_QUALITY} and {MAX_QUALITY}, not {value}")
    return value


_PARSERS = {
    "topics": lambda value: _texts(value, topic_slug),
    "providers": lambda value: _texts(value, _host),
    "types": lambda value: _texts(value, _type),
    "exclude_topics": lambda value: _texts(value, topic_slug),
    "exclude_providers": lambda value: _texts(value, _host),
    "min_quality": _quality,
    "since": parse_age,
}


@functools.lru_cache(maxsize=256)
def type_slug(value: str) -> str:
    """A record's type as a slug, as Atom's category term spells it: a handful of
    distinct values across a corpus, so slugified once each."""
    from frfeeds.clean import slugify

    return slugify(value)



def _kind(value: object) -> str:
    from frfeeds.clean import kind_of

    return kind_of(value)


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key
