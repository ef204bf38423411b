"""The record model, and turning one parsed YAML mapping into a Record. No I/O here.

A value that makes the whole record unusable (no title, no link, no date) raises
RecordError; a bad optional value (an image with a relative URL, a javascript: AMP
link) is dropped and reported, and the record is kept. A list longer than its design
cap (MAX_RELATED, ...) is cut and noted apart: that is a limit, not an editor's mistake.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from frfeeds.clean import clean_host, clean_html, clean_news_date, clean_text, clean_url, kind_of, slugify, url_host
from frfeeds.errors import RecordError
from frfeeds.pickling import picklable

T = TypeVar("T")

MAX_IMAGES = 20
MAX_RELATED = 50
MAX_TOPICS = 50
#: Feed names a topic may not take: they name other parts of the feed tree.
RESERVED_SLUGS = frozenset({"all", "providers"})


@dataclass(frozen=True, slots=True)
class Image:
    #: Absolute http(s) URL of the picture.
    url: str
    width: int | None = None
    height: int | None = None
    title: str | None = None


@picklable
@dataclass(frozen=True, slots=True)
class Provider:
    #: Display name (``provider.name``, else the domain).
    name: str
    #: Lowercase host without ``www.``: the provider feed's slug.
    domain: str
    #: ``provider.images[0].url`` of a record's own provider (never a related story's):
    #: an absolute http(s) URI, or a site-relative path (``/img/x.png``) kept as written
    #: (percent-encoded) and resolved against ``site.url`` when feeds are rendered, so
    #: that what the parse cache holds never depends on the settings.
    logo: str | None = None


@picklable
@dataclass(frozen=True, slots=True)
class Topic:
    #: Feed name: ``computer-vision`` (``all-topic`` for a topic called "All").
    slug: str
    #: The words as the record wrote them: ``Computer Vision``.
    label: str


@dataclass(frozen=True, slots=True)
class Related:
    """Another story on the same subject, listed under a record."""

    title: str
    url: str
    excerpt: str | None = None
    published_at: dt.datetime | None = None
    provider: Provider | None = None


@dataclass(frozen=True, slots=True)
class Record:
    """One news story, validated and cleaned: safe to put in any feed."""

    #: Path of the file inside the records folder, with ``/`` separators.
    path: str
    title: str
    #: ``webUrl``, else ``originalUrl`` (videos): the story's address and its id in every feed.
    url: str
    published_at: dt.datetime
    provider: Provider
    updated_at: dt.datetime | None = None
    excerpt: str | None = None
    original_url: str | None = None
    amp_url: str | None = None
    cdn_amp_url: str | None = None
    type: str | None = None
    category: str | None = None
    quality: int | None = None
    heat: int | None = None
    #: ``published`` (default true): false keeps the story out of feeds.
    is_published: bool = True
    #: ``removed: true``: the story is withdrawn, whatever the settings.
    is_removed: bool = False
    topics: tuple[Topic, ...] = ()
    images: tuple[Image, ...] = ()
    related: tuple[Related, ...] = ()
    #: ``featuredContent`` sanitised (clean_html): safe HTML, e.g. a video player.
    featured_html: str | None = None
    #: The ``src`` of each iframe kept in featured_html, linked in plain text under it.
    embeds: tuple[str, ...] = ()

    @property
    def updated(self) -> dt.datetime:
        """``updatedDateTime``, or else the publication date."""
        return self.updated_at or self.published_at


@picklable
@dataclass(frozen=True, slots=True)
class Summary:
    """What deciding which feeds a record goes in takes: no text, no images.

    A build holds one per record; full Records are decoded only for the entries of
    feeds that must be rendered. Its fields are Record's of the same names (the codec
    checks: same name, same type), plus ``digest``: a field added here is carried in
    the summary, any other Record field in the details.
    """

    path: str
    url: str
    published_at: dt.datetime
    updated_at: dt.datetime | None
    provider: Provider
    type: str | None
    quality: int | None
    is_published: bool
    is_removed: bool
    topics: tuple[Topic, ...]
    #: Digest of everything the record publishes: feeds holding it change when it does.
    digest: str

    @property
    def updated(self) -> dt.datetime:
        """``updatedDateTime``, or else the publication date."""
        return self.updated_at or self.published_at


def record_from_mapping(
    data: Any, path: str, display_path: str
) -> tuple[Record, list[RecordError], list[RecordError]]:
    """Validate a parsed front matter mapping.

    Returns the record, the problems of values that were dropped, and the lists cut
    at their cap; raises RecordError when the record cannot be used at all.
    """
    if data.__class__ is not dict and not isinstance(data, Mapping):
        raise RecordError(display_path, "-", f"front matter must be a mapping of fields, not {kind_of(data)}")
    fields = _Fields(data, display_path)
    original_url = fields.optional("originalUrl", clean_url)
    url = _link(fields, original_url)
    featured_html, embeds = _featured(fields)
    record = Record(
        path=path,
        title=fields.required("title", _non_empty_text),
        url=url,
        published_at=fields.required("publishedDateTime", clean_news_date),
        provider=_provider(fields, url, logo=True),
        updated_at=fields.optional("updatedDateTime", clean_news_date),
        excerpt=fields.optional("excerpt", _non_empty_text),
        original_url=original_url,
        amp_url=fields.optional("ampWebUrl", clean_url),
        cdn_amp_url=fields.optional("cdnAmpWebUrl", clean_url),
        type=fields.optional("type", _non_empty_text),
        category=fields.optional("category", _non_empty_text),
        quality=fields.optional("quality", _integer),
        heat=fields.optional("heat", _integer),
        is_published=fields.required("published", _boolean, default=True),
        is_removed=fields.required("removed", _boolean, default=False),
        topics=_topics(fields),
        images=tuple(fields.each("images", _image, MAX_IMAGES)),
        related=tuple(fields.each("related", _related, MAX_RELATED)),
        featured_html=featured_html,
        embeds=embeds,
    )
    return record, fields.dropped, fields.capped


def _link(fields: _Fields, original_url: str | None) -> str:
    """``webUrl``; a record without one (a video, a link-only story) links to its
    absolute ``originalUrl``."""
    web_url = fields.data.get("webUrl")
    if web_url is not None and web_url != "":
        return fields.required("webUrl", clean_url)
    if original_url is not None:
        return original_url
    if fields.data.get("originalUrl") not in (None, ""):
        return fields.required("originalUrl", clean_url)  # raises, saying what is wrong with it
    state = "is missing" if web_url is None else "is empty"
    raise fields.error("webUrl", f"{state}, and there is no originalUrl to link to instead")


def _featured(fields: _Fields) -> tuple[str | None, tuple[str, ...]]:
    value = fields.data.get("featuredContent")
    if value is None or value == "":
        return None, ()
    try:
        html, embeds, refused = clean_html(value)
    except ValueError as exc:
        fields.dropped.append(fields.error("featuredContent", f"{exc}; left out"))
        return None, ()
    for source in refused:
        fields.dropped.append(fields.error(
            "featuredContent", f"iframe from {source} left out (only https players of {_VIDEO_HOST_NAMES} are embedded)"
        ))
    return html, embeds


_VIDEO_HOST_NAMES = "YouTube and Vimeo"


class _Fields:
    """Reads fields of one mapping, remembering which values were dropped and why."""

    def __init__(self, data: Mapping[str, Any], display_path: str, prefix: str = "",
                 dropped: list[RecordError] | None = None, capped: list[RecordError] | None = None):
        self.data = data
        self.display_path = display_path
        self.prefix = prefix
        self.dropped: list[RecordError] = [] if dropped is None else dropped
        #: Lists cut at their design cap: counted in the build summary, not reported one by one.
        self.capped: list[RecordError] = [] if capped is None else capped

    def error(self, key: str, reason: str) -> RecordError:
        return RecordError(self.display_path, self.prefix + key, reason)

    def required(self, key: str, convert: Callable[[Any], T], default: T | None = None) -> T:
        value = self.data.get(key)
        if value is None:
            if default is not None:
                return default
            raise self.error(key, "is missing")
        try:
            return convert(value)
        except ValueError as exc:
            raise self.error(key, str(exc)) from None

    def optional(self, key: str, convert: Callable[[Any], T]) -> T | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        try:
            return convert(value)
        except ValueError as exc:
            self.dropped.append(self.error(key, f"{exc}; left out"))
            return None

    def nested(self, key: str) -> _Fields | None:
        value = self.data.get(key)
        if value is None:
            return None
        if value.__class__ is not dict and not isinstance(value, Mapping):
            self.dropped.append(self.error(key, f"must be a mapping, not {kind_of(value)}; left out"))
            return None
        return _Fields(value, self.display_path, f"{self.prefix}{key}.", self.dropped, self.capped)

    def each(self, key: str, convert: Callable[[_Fields], T], limit: int) -> list[T]:
        """Convert every mapping of a list; a bad item is dropped, the rest kept."""
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.dropped.append(self.error(key, f"must be a list, not {kind_of(value)}; left out"))
            return []
        items = []
        for index, item in enumerate(value[:limit]):
            where = f"{self.prefix}{key}[{index}]"
            if item.__class__ is not dict and not isinstance(item, Mapping):
                self.dropped.append(RecordError(self.display_path, where,
                                                f"must be a mapping, not {kind_of(item)}; left out"))
                continue
            try:
                items.append(convert(_Fields(item, self.display_path, where + ".", self.dropped, self.capped)))
            except RecordError as exc:
                self.dropped.append(RecordError(exc.path, exc.field, f"{exc.reason}; item left out"))
        if len(value) > limit:
            self.capped.append(self.error(key, f"has {len(value)} items; only the first {limit} kept"))
        return items


#: Providers made without a problem, by their ``domain`` and ``name`` values (with their
#: types: 1 and true are told apart) and, when there is no domain, the story's URL: a few
#: providers recur in every record.
_PROVIDERS: dict[tuple[object, ...], Provider] = {}
_PROVIDERS_SIZE = 10_000


def _provider(fields: _Fields, url: str, logo: bool = False) -> Provider:
    """``provider {name, domain}``; with ``logo``, the first usable ``images[].url`` too."""
    value = fields.data.get("provider")
    if not isinstance(value, Mapping) or (logo and "images" in value):
        return _read_provider(fields, url, logo)
    domain, name = value.get("domain"), value.get("name")
    key = (domain.__class__, domain, name.__class__, name, url if domain is None or domain == "" else None)
    try:
        found = _PROVIDERS.get(key)
    except TypeError:  # a list or a mapping where a name belongs
        return _read_provider(fields, url, logo)
    if found is None:
        problems = len(fields.dropped)
        found = _read_provider(fields, url, logo)
        if len(fields.dropped) == problems and len(_PROVIDERS) < _PROVIDERS_SIZE:
            _PROVIDERS[key] = found
    return found


def _read_provider(fields: _Fields, url: str, logo: bool) -> Provider:
    provider = fields.nested("provider")
    domain = name = image = None
    if provider is not None:
        domain = provider.optional("domain", clean_host)
        name = provider.optional("name", _non_empty_text)
        if logo:
            image = next(iter(provider.each("images", _logo, MAX_IMAGES)), None)
    if domain is None:
        domain = url_host(url)
    return Provider(name=name or domain, domain=domain, logo=image)


#: Stands in for the site while a site-relative logo path is cleaned as a URL.
_SITE = "http://site.invalid"


def _logo(fields: _Fields) -> str:
    return fields.required("url", _logo_url)


def _logo_url(value: Any) -> str:
    """An absolute http(s) URI, or a site-relative path (``/img/x.png``) cleaned as the
    path of one: the site it is relative to is known only to the settings."""
    if isinstance(value, str) and value.strip().startswith("/") and not value.strip().startswith("//"):
        return clean_url(_SITE + value.strip()).removeprefix(_SITE)
    try:
        return clean_url(value)
    except ValueError as exc:
        if str(exc).startswith("must be an absolute"):
            raise ValueError(f"{exc} or a site-relative path such as '/img/logo.png'") from None
        raise


def _topics(fields: _Fields) -> tuple[Topic, ...]:
    value = fields.data.get("topics")
    if value is None:
        return ()
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        value = [value]  # "topics: AI" meant a list of one
    if not isinstance(value, list):
        fields.dropped.append(fields.error("topics", f"must be a list, not {kind_of(value)}; left out"))
        return ()
    topics: dict[str, Topic] = {}
    for index, item in enumerate(value[:MAX_TOPICS]):
        where = f"topics[{index}]"
        try:
            label = _non_empty_text(item)
            slug = slugify(label)
            if not slug:
                raise ValueError(f"{label!r} has no letters or digits to name a feed")
            if slug in RESERVED_SLUGS:
                slug += "-topic"
        except ValueError as exc:
            fields.dropped.append(fields.error(where, f"{exc}; left out"))
            continue
        topics.setdefault(slug, Topic(slug, label))
    if len(value) > MAX_TOPICS:
        fields.capped.append(fields.error("topics", f"has {len(value)} items; only the first {MAX_TOPICS} kept"))
    return tuple(topics.values())


def _image(fields: _Fields) -> Image:
    return Image(
        url=fields.required("url", clean_url),
        width=fields.optional("width", _positive_integer),
        height=fields.optional("height", _positive_integer),
        title=fields.optional("title", _non_empty_text),
    )


def _related(fields: _Fields) -> Related:
    url = _link(fields, fields.optional("originalUrl", clean_url))
    return Related(
        title=fields.required("title", _non_empty_text),
        url=url,
        excerpt=fields.optional("excerpt", _non_empty_text),
        published_at=fields.optional("publishedDateTime", clean_news_date),
        provider=_provider(fields, url),
    )


def _non_empty_text(value: Any) -> str:
    text = clean_text(value)
    if not text:
        raise ValueError("is empty")
    return text


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            return int(value.strip())
        raise ValueError(f"must be a whole number, not {kind_of(value)}")
    return value


def _positive_integer(value: Any) -> int:
    number = _integer(value)
    if not 0 < number < 1_000_000:
        raise ValueError(f"must be a positive size in pixels, not {number}")
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(f"must be true or false, not {value!r}"[:80])

