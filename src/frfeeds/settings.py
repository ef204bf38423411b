"""Settings, the model: what a build or the app is asked to make, as frozen values.

Where the values come from (the table of every setting, the config file, the
environment, options) is ``frfeeds.config``; the pure layers (catalog, render, plan)
import only this module. ``RenderSettings`` is the part a renderer may read: a feed's
digest covers exactly it, so a setting that changes output cannot be forgotten.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from frfeeds.query import Query

MAX_LIMIT = 10_000
MAX_RELOAD_INTERVAL = 86_400
#: The built-in kinds of feed ``feeds.kinds`` chooses from, in catalog order.
KINDS = ("all", "topics", "providers")


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

    @property
    def render(self) -> RenderSettings:
        """What the renderers read of these settings (the plan adds the topic names)."""
        return RenderSettings(self.base_url, self.amp, self.site)


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

    def topic_feed(self, slug: str) -> str:
        """The feed name (``feeds/<name>``) of a topic's slug."""
        if self.topic_names:
            for topic, name in self.topic_names:
                if topic == slug:
                    return name
        return slug
