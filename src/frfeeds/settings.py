"""Settings: one table (``TABLE``) of every setting, read from four places.

Each row names a setting's config-file key, its environment variable and
``create_app`` key (``FRFEEDS_LIMIT`` / ``LIMIT``), its command-line option where it
has one, its converter and whether it changes the output. Everything that reads
settings reads this table: the command's options, the app's keys, the environment,
the config file, the starter file ``frfeeds init`` writes, and the digest a build
keys its output on. Precedence: option (or ``create_app`` key) > environment >
config file > default. Every error names where the bad value came from:
``--limit``, ``FRFEEDS_LIMIT``, ``frfeeds.toml: site.language``, ``create_app LIMIT``.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from frfeeds.errors import UsageError

if TYPE_CHECKING:
    from frfeeds.query import Query

MAX_LIMIT = 10_000
MAX_RELOAD_INTERVAL = 86_400
#: A BCP 47 language tag's shape: a 2-8 letter language, then 1-8 character subtags
#: (``en``, ``fr-CA``, ``zh-Hant-TW``, ``sr-Latn``).
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*")
#: The built-in kinds of feed ``feeds.kinds`` chooses from, in catalog order.
KINDS = ("all", "topics", "providers")
#: The config file looked for in the current folder.
CONFIG_FILE = "frfeeds.toml"
CONFIG_VARIABLE = "FRFEEDS_CONFIG"
#: Characters XML 1.0 forbids (and DEL and the C1 controls, which no title needs).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base, "frfeeds")


@dataclass(frozen=True, slots=True)
class Site:
    """Who publishes the feeds: shown in every feed, the index page and the OPML."""

    title: str = "News feeds"
    description: str = ""
    #: The publisher's home page (absolute http(s)); None: the feeds' own pages.
    url: str | None = None
    #: Language of the feeds' text (a BCP 47 tag): Atom xml:lang, RSS language, JSON language.
    language: str = "en"
    #: A square image (absolute http(s) URL).
    icon: str | None = None
    logo: str | None = None
    author: str | None = None
    rights: str | None = None
    #: Each feed's title: ``{feed}`` is its own name, ``{site}`` the site's title.
    feed_title: str = "{feed}"


@dataclass(frozen=True, slots=True)
class CustomFeed:
    """A feed of the publisher's own: the records a query selects."""

    slug: str
    title: str
    query: Query
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Feeds:
    """Which feeds the catalog makes."""

    #: Which built-in feeds: a subset of KINDS, in KINDS order.
    kinds: tuple[str, ...] = KINDS
    #: Topic and provider feeds with fewer entries are not made.
    min_entries: int = 1
    #: Topic slugs: only these topics get feeds (empty: all of them) ...
    include_topics: tuple[str, ...] = ()
    #: ... except these.
    exclude_topics: tuple[str, ...] = ()
    custom: tuple[CustomFeed, ...] = ()


@dataclass(frozen=True, slots=True)
class Deploy:
    """Where and how ``frfeeds deploy`` puts a tree (credentials stay with boto3: its
    variables, profile or role, never this file)."""

    #: ``s3://bucket/prefix``, checked by frfeeds.deploy.target.
    target: str | None = None
    #: The S3 API's URL (MinIO, R2, ...); None: boto3's own (AWS_ENDPOINT_URL_S3, else AWS).
    endpoint: str | None = None
    region: str | None = None
    #: Deletes allowed whatever the bucket's size; more only within max_delete_percent.
    max_deletes: int = 20
    max_delete_percent: int = 10


@dataclass(frozen=True, slots=True)
class Settings:
    #: The records folder, read recursively.
    records: Path = Path("seeds")
    #: Where the feed tree is served from; every absolute URL in a feed starts with it.
    base_url: str = "http://localhost:8000"
    #: Entries per feed (the newest ones).
    limit: int = 50
    #: Emit the records' AMP links.
    amp: bool = True
    #: Publish ``published: false`` records too.
    include_unpublished: bool = False
    site: Site = Site()
    feeds: Feeds = Feeds()
    #: Seconds between the app's checks of the records folder.
    reload_interval: float = 60.0
    #: The parse cache folder (which keeps the build state too); None for none.
    cache: Path | None = field(default_factory=default_cache_dir)
    deploy: Deploy = Deploy()


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

    @property
    def variable(self) -> str | None:
        return f"FRFEEDS_{self.name}" if self.environment else None

    @property
    def dest(self) -> str:
        return self.key.replace(".", "_")

    def default(self) -> Any:
        return get(Settings(), self.key)


def get(settings: Any, key: str) -> Any:
    """A setting's value by its dotted key: ``get(settings, "site.title")``."""
    value = settings
    for part in key.split("."):
        value = getattr(value, part)
    return value


# --- converters: (value, source) -> value, or ValueError(reason) -----------------------

_T = TypeVar("_T")


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
    from frfeeds.clean import clean_url  # on first use: it brings ftfy along

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


def _min_entries(value: Any, source: Source) -> int:
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
        raise ValueError(f"must be a template such as '{{site}} · {{feed}}' (braces as {{{{ and }}}}), not {value!r}") from None
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
            output=False, example='"seeds"'),
    Setting("base_url", "BASE_URL", _base_url, "URL the tree is served from; every feed id and self link starts with it",
            option="--base-url"),
    Setting("limit", "LIMIT", _limit, "entries per feed, newest first", option="--limit"),
    Setting("amp", "AMP", _bool, "emit the records' AMP links", option="--no-amp", flag=False,
            flag_doc="leave the records' AMP links out"),
    Setting("include_unpublished", "INCLUDE_UNPUBLISHED", _bool,
            "publish 'published: false' records too (never 'removed: true' ones)",
            option="--include-unpublished", flag=True),
    Setting("reload_interval", "RELOAD_INTERVAL", _seconds, "seconds between the app's checks of the records folder",
            output=False),
    Setting("cache", "CACHE", _cache, "parse cache folder, which keeps each tree's build state too ('off': none)",
            option="--cache", output=False, example='"~/.cache/frfeeds"'),
    Setting("site.title", "SITE_TITLE", _title, "the site's name: the index page, the OPML, {site} in feed titles"),
    Setting("site.description", "SITE_DESCRIPTION", _text, "a sentence on the site"),
    Setting("site.url", "SITE_URL", _url, "the publisher's home page (absolute http(s))",
            example='"https://news.example.org/"'),
    Setting("site.language", "LANGUAGE", _language, "language tag the feeds declare (BCP 47: en, fr-CA)",
            option="--language"),
    Setting("site.icon", "SITE_ICON", _url, "a square image for the feeds (absolute http(s) URL)",
            example='"https://news.example.org/icon.png"'),
    Setting("site.logo", "SITE_LOGO", _url, "a wide image for the feeds (absolute http(s) URL)",
            example='"https://news.example.org/logo.png"'),
    Setting("site.author", "SITE_AUTHOR", _title, "who publishes the feeds", example='"Example News"'),
    Setting("site.rights", "SITE_RIGHTS", _title, "copyright line", example='"© Example News"'),
    Setting("site.feed_title", "SITE_FEED_TITLE", _feed_title, "each feed's title: {feed} its name, {site} the site's"),
    Setting("feeds.kinds", "FEEDS_KINDS", _kinds, "built-in feeds to make: some of all, topics, providers"),
    Setting("feeds.min_entries", "FEEDS_MIN_ENTRIES", _min_entries,
            "no topic or provider feed with fewer entries than this"),
    Setting("feeds.include_topics", "FEEDS_INCLUDE_TOPICS", _topics,
            "only these topics get feeds (labels or slugs; empty: every topic)"),
    Setting("feeds.exclude_topics", "FEEDS_EXCLUDE_TOPICS", _topics, "these topics get no feed (labels or slugs)"),
    Setting("feeds.custom", "FEEDS_CUSTOM", _custom, "feeds of your own: [[feeds.custom]] tables (see below)",
            environment=False),
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


# --- loading --------------------------------------------------------------------------


def load_settings(
    environ: Mapping[str, str],
    given: Mapping[str, Any] | None = None,
    *,
    app: bool = False,
    config: Path | str | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> Settings:
    """Settings from defaults, the config file, the environment, then ``given`` values
    (key -> value; None is not given): command-line options, or ``create_app`` keys if app.

    The config file is ``config`` if given, else FRFEEDS_CONFIG, else ./frfeeds.toml if
    there is one. ``defaults`` replace the table's defaults (``frfeeds serve``'s port).
    Raises UsageError naming the source of the bad value.
    """
    values: dict[str, tuple[Any, Source]] = {}
    for key, value in (defaults or {}).items():
        values[key] = (value, Source(f"default {key}"))
    path = config_path(environ, config)
    if path is not None:
        for key, value in read_config(path).items():
            values[key] = (value, Source(key, path, typed=True))
    for row in TABLE:
        if row.variable and environ.get(row.variable, "") != "":
            values[row.key] = (environ[row.variable], Source(row.variable))
    for key, value in (given or {}).items():
        if value is not None:
            row = ROWS[key]
            values[key] = (value, Source(f"create_app {row.name}" if app else row.option or row.key))
    return assemble({key: _convert(key, value, source) for key, (value, source) in values.items()})


def _convert(key: str, value: Any, source: Source) -> Any:
    try:
        return ROWS[key].convert(value, source)
    except _Nested as exc:  # feeds.custom[2].title
        raise Source(source.label + exc.key, source.file, source.typed).error(str(exc)) from None
    except ValueError as exc:
        raise source.error(str(exc)) from None


def assemble(values: Mapping[str, Any]) -> Settings:
    """Settings from converted values by dotted key; the rest are defaults."""
    sections: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
    top: dict[str, Any] = {}
    for key, value in values.items():
        section, _, name = key.rpartition(".")
        (sections[section] if section else top)[name] = value
    return Settings(**top, **{name: SECTIONS[name](**items) for name, items in sections.items()})


def config_path(environ: Mapping[str, str], config: Path | str | None = None) -> Path | None:
    """The config file to read: the one named (option, then FRFEEDS_CONFIG), which must
    exist, else ./frfeeds.toml when there is one, else None."""
    named = config if config not in (None, "") else environ.get(CONFIG_VARIABLE) or None
    if named is not None:
        return Path(named)
    return Path(CONFIG_FILE) if os.path.lexists(CONFIG_FILE) else None


def read_config(path: Path) -> dict[str, Any]:
    """A config file's settings by dotted key, not yet converted. Raises UsageError
    (``path: key: reason``) for a file that cannot be read or parsed, and for unknown keys."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib

    try:
        with open(path, "rb") as file:
            document = tomllib.loads(file.read().decode("utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: is not valid TOML: {exc}") from None
    return _flatten(document, path)


def _flatten(document: Mapping[str, Any], path: Path) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in document.items():
        if name in SECTIONS:
            if not isinstance(value, dict):
                raise UsageError(f"{path}: {name}: must be a table ([{name}]), not {_shown(value)}")
            items = {f"{name}.{key}": item for key, item in value.items()}
        else:
            items = {name: value}
        for key, item in items.items():
            if key not in ROWS:
                from frfeeds.query import unknown_key

                raise UsageError(f"{path}: {key}: {unknown_key(key, _known_keys(key))}")
            found[key] = item
    return found


def _known_keys(key: str) -> list[str]:
    """The keys an unknown one may have meant: its section's first, then the others."""
    section = key.partition(".")[0] if "." in key else ""
    keys = list(ROWS) + list(SECTIONS)
    return sorted(keys, key=lambda known: not known.startswith(section + ".")) if section else keys


# --- what a build depends on ----------------------------------------------------------


def build_digest(settings: Settings) -> str:
    """Digest of everything a build's output depends on besides its records: every
    setting the table marks as output, and the package's code. A changed renderer, a
    new setting or a new template re-renders what it touches, with no list to keep."""
    output = tuple((row.key, get(settings, row.key)) for row in TABLE if row.output)
    return hashlib.blake2b(repr((code_fingerprint(), output)).encode(), digest_size=16).hexdigest()


@functools.cache
def code_fingerprint() -> str:
    """A digest of the bytes of every .py, .html and .j2 file of the running package
    (and of Python's version): about 2 ms, once per process."""
    package = Path(__file__).parent
    digest = hashlib.blake2b(sys.version.encode(), digest_size=16)
    found = []
    for folder, folders, files in os.walk(package):
        folders[:] = [name for name in folders if name != "__pycache__"]
        found += [os.path.join(folder, name) for name in files if name.endswith((".py", ".html", ".j2"))]
    for path in sorted(found):
        with open(path, "rb") as file:
            data = file.read()
        digest.update(f"{os.path.relpath(path, package)}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


# --- the starter file -----------------------------------------------------------------


def starter_file() -> str:
    """The commented frfeeds.toml ``frfeeds init`` writes: every key with its default
    (or an example), commented out, and an example custom feed."""
    lines = [
        "# frfeeds configuration. Every key is optional; each line shows the default (or",
        "# an example) commented out. Precedence: command-line option > FRFEEDS_* environment",
        "# variable > this file > default. Relative paths are relative to this file's folder.",
        "",
    ]
    section = ""
    for row in TABLE:
        name, _, key = row.key.rpartition(".")
        if name != section:
            section = name
            lines += ["", f"[{name}]"]
        if row.key == "feeds.custom":
            continue
        where = ", ".join(filter(None, (row.variable, row.option)))
        lines.append(f"# {row.doc} ({where})")
        lines.append(f"# {key} = {row.example or _toml(row.default())}")
    lines += [
        "",
        "# Feeds of your own: the records a selection matches, in every format. Within",
        "# a field any value matches (topics AI or Azure); across fields all must (AI and video).",
        "# [[feeds.custom]]",
        '# slug = "ai-videos"                # lowercase letters, digits and -',
        '# title = "AI videos"',
        '# description = "Videos on AI, newest first"',
        '# topics = ["AI"]                    # topic labels or slugs',
        '# providers = ["youtube.com"]        # provider domains',
        '# types = ["video"]                  # record types: article, video, ...',
        "# min_quality = 60                   # records whose quality is at least this",
        '# since = "30 days"                  # published at most this long before the newest record',
        "",
    ]
    return "\n".join(lines)


def _toml(value: Any) -> str:
    """A default as TOML: text, numbers, booleans and lists of text are JSON-compatible."""
    import json

    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return json.dumps(list(value) if isinstance(value, tuple) else value, ensure_ascii=False)


def setting_fields() -> set[str]:
    """Every dotted attribute of Settings: what the table must cover, no more, no less."""
    names = set()
    for item in fields(Settings):
        if item.name in SECTIONS:
            names |= {f"{item.name}.{sub.name}" for sub in fields(SECTIONS[item.name])}
        else:
            names.add(item.name)
    return names
