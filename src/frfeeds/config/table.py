"""The table of every setting (``TABLE``): where each is read from and how it is checked.

Each row names a setting's config-file key, its environment variable and
``create_app`` key (``FRFEEDS_LIMIT`` / ``LIMIT``), its command-line option where it
has one (with its metavar and the default ``--help`` shows), its converter and whether
it changes the output. Everything that reads settings reads this table: the command's
options, the app's keys, the environment, the config file (``loading``), the starter
file ``frfeeds init`` writes (``starter``) and the digest a build keys its output on
(``fingerprint``). Every error names where the bad value came from: ``--limit``,
``FRFEEDS_LIMIT``, ``frfeeds.toml: site.language``, ``create_app LIMIT``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from frfeeds.errors import UsageError
from frfeeds.settings import (
    KINDS,
    MAX_LIMIT,
    MAX_RELOAD_INTERVAL,
    CustomFeed,
    Deploy,
    Feeds,
    Settings,
    Site,
    default_cache_dir,
)

TYPE_CHECKING = False  # as typing's, which a no-change build does not import (mypy takes it as True)
if TYPE_CHECKING:
    from typing import Any, TypeVar

    _T = TypeVar("_T")

#: A BCP 47 language tag's shape: a 2-8 letter language, then 1-8 character subtags
#: (``en``, ``fr-CA``, ``zh-Hant-TW``, ``sr-Latn``).
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*")
#: Characters XML 1.0 forbids (and DEL and the C1 controls, which no title needs).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


@dataclass(frozen=True)
class Source:
    """Where a value came from, as its error message names it."""

    #: ``--limit``, ``FRFEEDS_LIMIT``, ``create_app LIMIT``, or the key inside ``file``.
    label: str
    #: The config file the value was read from: a relative path in it is relative to
    #: the file's folder.
    file: Path | None = None
    #: True for a config file's values: TOML has types, so no text is read as a number.
    typed: bool = False

    def error(self, reason: str) -> UsageError:
        if self.file is not None:
            return UsageError(f"{self.file}: {self.label}: {reason}")
        return UsageError(f"{self.label} {reason}")


if TYPE_CHECKING:
    Converter = Callable[[Any, Source], Any]


@dataclass(frozen=True)
class Setting:
    """One row of the table."""

    #: The config file key, dotted for a section's keys; also the attribute path in Settings.
    key: str
    #: ``create_app`` key; the environment variable is ``FRFEEDS_`` + name.
    name: str
    convert: Converter
    #: One line for ``--help``, the starter file and the README.
    doc: str
    #: Command-line option of ``frfeeds build``, if any.
    option: str | None = None
    #: For an option that takes no value: the value it sets, and what it does.
    flag: Any = None
    flag_doc: str | None = None
    #: False for a setting the environment cannot hold (a list of tables).
    environment: bool = True
    #: False for settings that change how, not what, is built (the cache, the reload interval).
    output: bool = True
    #: TOML for the starter file when the default has none (None values), or is a path.
    example: str | None = None
    #: The option's value in ``--help`` (``--limit N``).
    metavar: str | None = None
    #: The default as ``--help`` shows it, when its value would not read well there.
    shown: str | None = None

    @property
    def variable(self) -> str | None:
        return f"FRFEEDS_{self.name}" if self.environment else None

    @property
    def dest(self) -> str:
        return self.key.replace(".", "_")

    def default(self) -> Any:
        return get(Settings(), self.key)

    def shown_default(self) -> str:
        """The default in words for ``--help``."""
        if self.shown is not None:
            return self.shown
        value = self.default()
        return str(value).lower() if isinstance(value, bool) else str(value)


def get(settings: Any, key: str) -> Any:
    """A setting's value by its dotted key: ``get(settings, "site.title")``."""
    value = settings
    for part in key.split("."):
        value = getattr(value, part)
    return value


# --- converters: (value, source) -> value, or ValueError(reason) -----------------------

def _text_or_typed(value: Any, source: Source, kind: type[_T], what: str) -> _T | None:
    """A typed value as it is (from a file it must have the right type); text as text."""
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    if source.typed or not isinstance(value, str):
        raise ValueError(f"must be {what}, not {_shown(value)}")
    return None  # text: the caller parses it


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    from frfeeds.clean import kind_of  # a wrong value is rare: no cleaning code otherwise

    return kind_of(value)


def _path(value: Any, source: Source) -> Path:
    if isinstance(value, Path) and not source.typed:
        return value
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"must be a folder, not {_shown(value)}")
    path = Path(value)
    if source.file is not None:  # relative to the file, wherever the command runs
        path = source.file.parent / path.expanduser()
    return path


def _cache(value: Any, source: Source) -> Path | None:
    if isinstance(value, str) and value.strip().lower() in ("off", "none", "0", "false"):
        return None
    if value == "" and not source.typed:
        return default_cache_dir()
    return _path(value, source)


def _url(value: Any, source: Source, strip_slash: bool = False) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be an absolute http(s) URL, not {_shown(value)}")
    from frfeeds.clean import clean_url  # on first use: a no-change build needs no cleaning code

    try:
        url = clean_url(value)
    except ValueError as exc:  # some reasons quote the value already
        raise ValueError(str(exc) if str(exc).startswith("must be") else f"{exc}: {value!r}") from None
    return url.rstrip("/") if strip_slash else url


def _base_url(value: Any, source: Source) -> str:
    return _url(value, source, strip_slash=True)


def _whole(value: Any, source: Source, low: int, high: int) -> int:
    number = _text_or_typed(value, source, int, "a whole number")
    if number is None:
        try:
            number = int(value)
        except ValueError:
            raise ValueError(f"must be a whole number, not {value!r}") from None
    if not low <= number <= high:
        raise ValueError(f"must be between {low} and {high}, not {number}")
    return number


def _limit(value: Any, source: Source) -> int:
    return _whole(value, source, 1, MAX_LIMIT)


def _memo_mib(value: Any, source: Source) -> int:
    return _whole(value, source, 1, 1 << 20)


def _min_entries(value: Any, source: Source) -> int:
    return _whole(value, source, 1, MAX_LIMIT)


def _archive_size(value: Any, source: Source) -> int:
    return _whole(value, source, 1, MAX_LIMIT)


def _bool(value: Any, source: Source) -> bool:
    if isinstance(value, bool):
        return value
    if not source.typed and isinstance(value, str):
        text = value.strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
    raise ValueError(f"must be true or false, not {_shown(value)}")


def _seconds(value: Any, source: Source) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and not source.typed:
        try:
            seconds = float(value)
        except ValueError:
            raise ValueError(f"must be a number of seconds, not {value!r}") from None
    else:
        raise ValueError(f"must be a number of seconds, not {_shown(value)}")
    if not 0 < seconds <= MAX_RELOAD_INTERVAL:
        raise ValueError(f"must be between 0 and {MAX_RELOAD_INTERVAL} seconds, not {value!r}")
    return seconds


def _language(value: Any, source: Source) -> str:
    if not isinstance(value, str) or not LANGUAGE_TAG.fullmatch(value.strip()):
        raise ValueError(f"must be a language tag such as en or fr-CA, not {_shown(value)}")
    return value.strip()


def _text(value: Any, source: Source) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be text, not {_shown(value)}")
    text = " ".join(value.split())
    if _CONTROL.search(text):
        raise ValueError(f"must not hold control characters: {value!r}")
    return text


def _title(value: Any, source: Source) -> str:
    text = _text(value, source)
    if not text:
        raise ValueError("must not be empty")
    return text


def _feed_title(value: Any, source: Source) -> str:
    """A template of ``{site}`` and ``{feed}`` only, so formatting it can never fail."""
    import string

    text = _title(value, source)
    try:
        names = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(text)
                 if name is not None]
    except ValueError:
        raise ValueError(f"must be a template such as '{{site}} · {{feed}}' (braces as {{{{ and }}}}), "
                         f"not {value!r}") from None
    for name, spec, conversion in names:
        if name not in ("site", "feed") or spec or conversion:
            raise ValueError(f"may name only {{site}} and {{feed}}, not {{{name}}}: {value!r}")
    return text


def _list(value: Any, source: Source) -> list[Any]:
    """A TOML array, or comma-separated text from the environment or an option."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str) and not source.typed:
        return [item.strip() for item in value.split(",") if item.strip()]
    raise ValueError(f"must be a list, not {_shown(value)}")


def _hubs(value: Any, source: Source) -> tuple[str, ...]:
    """WebSub hub URLs: a TOML array, or comma-separated text; each once, in order."""
    hubs: dict[str, None] = {}
    for item in _list(value, source):
        hubs[_url(item, source)] = None
    return tuple(hubs)


def _now(value: Any, source: Source) -> dt.datetime:
    """An instant, ISO 8601 (``2026-12-06T10:00:00Z``; no zone: UTC), or a TOML datetime."""
    if isinstance(value, dt.datetime):
        when = value
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            when = dt.datetime.fromisoformat(text[:-1] + "+00:00" if text[-1] in "Zz" else text)
        except ValueError:
            raise ValueError(f"must be a date and time such as 2026-12-06T10:00:00Z, not {value!r}") from None
    else:
        raise ValueError(f"must be a date and time such as 2026-12-06T10:00:00Z, not {_shown(value)}")
    if when.tzinfo is None or when.utcoffset() is None:
        return when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(dt.timezone.utc)


def _kinds(value: Any, source: Source) -> tuple[str, ...]:
    items = _list(value, source)
    for item in items:
        if item not in KINDS:
            raise ValueError(f"must be some of {', '.join(KINDS)}, not {_shown(item)}")
    return tuple(kind for kind in KINDS if kind in items)


def _topics(value: Any, source: Source) -> tuple[str, ...]:
    from frfeeds.query import topic_slug

    slugs = set()
    for item in _list(value, source):
        try:
            slugs.add(topic_slug(item))
        except ValueError as exc:
            raise ValueError(f"{item!r} {exc}" if isinstance(item, str) else str(exc)) from None
    return tuple(sorted(slugs))


#: The keys of a ``[[feeds.custom]]`` table besides its query's fields.
CUSTOM_KEYS = ("slug", "title", "description")


def _custom(value: Any, source: Source) -> tuple[CustomFeed, ...]:
    """``[[feeds.custom]]`` tables: each a slug, a title, a description and a query."""
    from frfeeds.query import FIELDS, Query, QueryError, unknown_key

    if not isinstance(value, (list, tuple)) or not all(isinstance(item, Mapping) for item in value):
        raise ValueError(f"must be a list of tables ([[feeds.custom]]), not {_shown(value)}")
    feeds: list[CustomFeed] = []
    for number, table in enumerate(value, 1):
        where = f"[{number}]"  # inside the setting: _convert puts its name in front
        for key in table:
            if key not in CUSTOM_KEYS + FIELDS:
                raise _Nested(f"{where}.{key}", unknown_key(str(key), CUSTOM_KEYS + FIELDS))
        slug, title, description = _custom_names(table, where)
        if any(other.slug == slug for other in feeds):
            raise _Nested(f"{where}.slug", f"{slug!r} names another custom feed too")
        selection = {key: item for key, item in table.items() if key in FIELDS}
        if not selection:
            raise _Nested(where, f"selects every record: give at least one of {', '.join(FIELDS)}")
        try:
            query = Query.from_mapping(selection, where)
        except QueryError as exc:
            nested, _, reason = str(exc).partition(": ")
            raise _Nested(nested, reason) from None
        feeds.append(CustomFeed(slug, title, query, description))
    return tuple(feeds)


def _custom_names(table: Mapping[str, Any], where: str) -> tuple[str, str, str | None]:
    """A custom feed's slug, title and description (None when not given or empty)."""
    from frfeeds.records import RESERVED_SLUGS

    def value(key: str, convert: Converter) -> Any:
        try:
            return convert(table[key], _TYPED)
        except KeyError:
            raise _Nested(f"{where}.{key}", "is missing") from None
        except ValueError as exc:
            raise _Nested(f"{where}.{key}", str(exc)) from None

    slug = value("slug", _slug)
    if slug in RESERVED_SLUGS:
        raise _Nested(f"{where}.slug", f"{slug!r} is taken by the feed tree ({', '.join(sorted(RESERVED_SLUGS))})")
    description = value("description", _text) if "description" in table else None
    return slug, value("title", _title), description or None


def _slug(value: Any, source: Source) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", value) or len(value) > 80:
        raise ValueError(f"must be a feed name of lowercase letters, digits and '-' (ai-videos), not {_shown(value)}")
    return value


class _Nested(ValueError):
    """An error inside a list of tables: the key it names replaces the setting's own."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(reason)
        self.key = key


#: The values of a [[feeds.custom]] table: typed, from a file or create_app alike.
_TYPED = Source("", typed=True)


def _deploy_target(value: Any, source: Source) -> str:
    from frfeeds.deploy.target import parse_target  # pure: no boto3

    return str(parse_target(value))


def _endpoint(value: Any, source: Source) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http(s) URL such as https://s3.example.com, not {_shown(value)}")
    return str(value).rstrip("/")


def _region(value: Any, source: Source) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", value):
        raise ValueError(f"must be a region name such as eu-west-1 or auto, not {_shown(value)}")
    return value


def _count(value: Any, source: Source) -> int:
    return _whole(value, source, 0, 10**9)


def _percent(value: Any, source: Source) -> int:
    return _whole(value, source, 0, 100)


# --- the table ------------------------------------------------------------------------

TABLE: tuple[Setting, ...] = (
    Setting("records", "RECORDS", _path, "records folder, read recursively", option="--records",
            output=False, example='"seeds"', metavar="DIR", shown="./seeds"),
    Setting("base_url", "BASE_URL", _base_url,
            "URL the tree is served from; every feed id and self link starts with it",
            option="--base-url", metavar="URL"),
    Setting("limit", "LIMIT", _limit, "entries per feed, newest first", option="--limit", metavar="N"),
    Setting("amp", "AMP", _bool, "emit the records' AMP links", option="--no-amp", flag=False,
            flag_doc="leave the records' AMP links out"),
    Setting("include_unpublished", "INCLUDE_UNPUBLISHED", _bool,
            "publish 'published: false' records too (never 'removed: true' ones)",
            option="--include-unpublished", flag=True),
    Setting("reload_interval", "RELOAD_INTERVAL", _seconds, "seconds between the app's checks of the records folder",
            output=False),
    Setting("memo_mib", "MEMO_MIB", _memo_mib, "MiB of rendered files and query variants each app worker keeps",
            output=False),
    Setting("cache", "CACHE", _cache, "parse cache folder, which keeps each tree's build state too ('off': none)",
            option="--cache", output=False, example='"~/.cache/frfeeds"', metavar="DIR",
            shown="~/.cache/frfeeds"),
    Setting("hub", "HUB", _hubs, "WebSub hubs (absolute http(s) URLs, comma-separated): every feed links them "
            "(rel=\"hub\") and is announced to them when its bytes change", option="--hub", metavar="URL[,URL]",
            example='["https://pubsubhubbub.appspot.com/"]', shown="none"),
    Setting("now", "NOW", _now, "the time that decides which scheduled stories (dated ahead) are published: "
            "set it and a build is reproducible at any wall time", option="--now", metavar="TIME",
            example='"2026-12-06T00:00:00Z"', shown="the time the build starts"),
    Setting("site.title", "SITE_TITLE", _title, "the site's name: the index page, the OPML, {site} in feed titles"),
    Setting("site.description", "SITE_DESCRIPTION", _text, "a sentence on the site"),
    Setting("site.url", "SITE_URL", _url, "the publisher's home page (absolute http(s))",
            example='"https://news.example.org/"'),
    Setting("site.language", "LANGUAGE", _language, "language tag the feeds declare (BCP 47: en, fr-CA)",
            option="--language", metavar="TAG"),
    Setting("site.icon", "SITE_ICON", _url, "a square image for the feeds (absolute http(s) URL)",
            example='"https://news.example.org/icon.png"'),
    Setting("site.logo", "SITE_LOGO", _url, "a wide image for the feeds (absolute http(s) URL)",
            example='"https://news.example.org/logo.png"'),
    Setting("site.author", "SITE_AUTHOR", _title, "who publishes the feeds", example='"Example News"'),
    Setting("site.rights", "SITE_RIGHTS", _title, "copyright line", example='"© Example News"'),
    Setting("site.feed_title", "SITE_FEED_TITLE", _feed_title,
            "each feed's title: {feed} its name, {site} the site's (default: '{feed} · {site}' when site.title "
            "is set, else '{feed}')", example='"{feed} · {site}"',
            shown="{feed} · {site}, or {feed} without site.title"),
    Setting("feeds.kinds", "FEEDS_KINDS", _kinds, "built-in feeds to make: some of all, topics, providers"),
    Setting("feeds.min_entries", "FEEDS_MIN_ENTRIES", _min_entries,
            "no topic or provider feed with fewer entries than this"),
    Setting("feeds.include_topics", "FEEDS_INCLUDE_TOPICS", _topics,
            "only these topics get feeds (labels or slugs; empty: every topic)"),
    Setting("feeds.exclude_topics", "FEEDS_EXCLUDE_TOPICS", _topics, "these topics get no feed (labels or slugs)"),
    Setting("feeds.custom", "FEEDS_CUSTOM", _custom, "feeds of your own: [[feeds.custom]] tables (see below)",
            environment=False),
    Setting("feeds.archives", "FEEDS_ARCHIVES", _bool,
            "archive documents (RFC 5005) of every feed's older stories: feeds/<feed>/archive/<n>.{atom,rss,json}"),
    Setting("feeds.archive_size", "FEEDS_ARCHIVE_SIZE", _archive_size,
            "stories per archive document, counted from the oldest: a full one never changes"),
    # frfeeds deploy: how, not what, is built
    Setting("deploy.target", "DEPLOY_TARGET", _deploy_target, "where frfeeds deploy puts the tree: s3://bucket/prefix",
            output=False, example='"s3://news-feeds/site"'),
    Setting("deploy.endpoint", "DEPLOY_ENDPOINT", _endpoint,
            "S3 API URL for MinIO, R2, ... (default: AWS_ENDPOINT_URL_S3, else AWS)", output=False,
            example='"https://s3.example.com"'),
    Setting("deploy.region", "DEPLOY_REGION", _region, "the bucket's region (default: AWS_DEFAULT_REGION)",
            output=False, example='"eu-west-1"'),
    Setting("deploy.max_deletes", "DEPLOY_MAX_DELETES", _count,
            "deletes frfeeds deploy makes without --force, whatever the bucket's size", output=False),
    Setting("deploy.max_delete_percent", "DEPLOY_MAX_DELETE_PERCENT", _percent,
            "... and past max_deletes, at most this percent of the objects under the prefix", output=False),
)
ROWS = {row.key: row for row in TABLE}
#: The config file's sections: [site], [feeds], [deploy].
SECTIONS = {"site": Site, "feeds": Feeds, "deploy": Deploy}


def setting_fields() -> set[str]:
    """Every dotted attribute of Settings: what the table must cover, no more, no less."""
    names = set()
    for item in fields(Settings):
        if item.name in SECTIONS:
            names |= {f"{item.name}.{sub.name}" for sub in fields(SECTIONS[item.name])}
        else:
            names.add(item.name)
    return names
