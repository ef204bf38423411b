"""Settings, the model: what a build or the app is asked to make, as frozen values.

Where the values come from (the table of every setting, the config file, the
environment, options) is ``frfeeds.config``; the pure layers (catalog, render, plan)
import only this module. ``RenderSettings`` is the part a renderer may read: a feed's
digest covers exactly it, so a setting that changes output cannot be forgotten.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

TYPE_CHECKING = False  # as typing's, which a no-change build does not import (mypy takes it as True)
if TYPE_CHECKING:
    from frfeeds.query import Query

MAX_LIMIT = 10_000
MAX_RELOAD_INTERVAL = 86_400
#: The built-in kinds of feed ``feeds.kinds`` chooses from, in catalog order.
KINDS = ("all", "topics", "providers")
#: The site's title when none is set: feed titles then name only the feed.
DEFAULT_SITE_TITLE = "News feeds"
#: The feed title when site.title is set and site.feed_title is not: "AI · Example News"
#: (Hugo's "AI on Example News", with a separator that reads in any language).
SITE_FEED_TITLE = "{feed} · {site}"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base, "frfeeds")


@dataclass(frozen=True, slots=True)
class Site:
    """Who publishes the feeds: shown in every feed, the index page and the OPML."""

    title: str = DEFAULT_SITE_TITLE
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
    #: None: ``{feed} · {site}`` when a title is set, else ``{feed}`` (title_template()).
    feed_title: str | None = None

    def title_template(self) -> str:
        """The feed_title template in force: a reader showing "All news" of three sites
        must tell them apart, so a set site title is named in every feed's title."""
        if self.feed_title is not None:
            return self.feed_title
        return "{feed}" if self.title == DEFAULT_SITE_TITLE else SITE_FEED_TITLE


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
    #: RFC 5005 archive documents of every feed's stories older than its newest ``limit``.
    archives: bool = True
    #: Stories per archive document, counted from the oldest: a full one never changes.
    archive_size: int = 100


@dataclass(frozen=True, slots=True)
class Deploy:
    """Where and how ``frfeeds deploy`` puts a tree (credentials stay with boto3: its
    variables, profile or role, never the config file)."""

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
    #: MiB of rendered files and served query variants each app process keeps.
    memo_mib: int = 256
    #: The parse cache folder (which keeps the build state too); None for none.
    cache: Path | None = field(default_factory=default_cache_dir)
    #: frfeeds deploy's target and limits: how, not what, is built.
    deploy: Deploy = Deploy()
    #: WebSub hubs (absolute http(s) URLs): every feed links them, and is announced to
    #: them when its bytes change.
    hub: tuple[str, ...] = ()
    #: The clock deciding which scheduled stories are published; None: the time the
    #: build (or the app's reload) starts. Set, a build is reproducible at any wall time.
    now: dt.datetime | None = None

    def clock(self) -> dt.datetime:
        """The time that decides which scheduled stories are published: ``now`` when set,
        else the time it is. Read once per build, check or reload (never by the pure
        layers, which are given it)."""
        return self.now or dt.datetime.now(dt.timezone.utc)

    @property
    def render(self) -> RenderSettings:
        """What the renderers read of these settings."""
        custom = {feed.slug for feed in self.feeds.custom}
        names = tuple((slug, topic_feed_name(slug, custom)) for slug in sorted(custom))
        return RenderSettings(self.base_url, self.amp, self.site, names, hubs=self.hub)


@dataclass(frozen=True, slots=True)
class RenderSettings:
    """Everything a renderer reads besides its feed and entries: a feed's digest covers
    this value whole, so an incremental build can never keep a file it would render
    differently. A new setting that changes output belongs here, and nowhere else."""

    #: Where the tree is served from; every absolute URL starts with it.
    base_url: str = "http://localhost:8000"
    #: Emit the records' AMP links.
    amp: bool = True
    site: Site = Site()
    #: Topic slug -> the name of its feed, for the slugs whose feed is not named after
    #: them (a custom feed took the name): entries' topic categories name their feeds.
    topic_names: tuple[tuple[str, str], ...] = ()
    #: WebSub hubs every feed links (rel="hub"; JSON Feed ``hubs``).
    hubs: tuple[str, ...] = ()

    def topic_feed(self, slug: str) -> str:
        """The feed name (``feeds/<name>``) of a topic's slug."""
        if self.topic_names:
            for topic, name in self.topic_names:
                if topic == slug:
                    return name
        return slug


def topic_feed_name(slug: str, custom_slugs: Collection[str]) -> str:
    """A topic's feed name: its slug, with ``-topic`` added while a custom feed has that
    name (entries' topic categories name the same feed)."""
    name = slug
    while name in custom_slugs:
        name += "-topic"
    return name
