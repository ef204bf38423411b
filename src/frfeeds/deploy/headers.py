"""What HTTP must say about each file of the tree, wherever it is served from: the one
table ``frfeeds deploy`` sets on every object, and that ``deploy/nginx/static.conf.template``
and the README's table for static hosts follow (the tests check both against it).

Three kinds of file, by path:

- **sealed archives** (``feeds/<slug>/archive/<n>.<ext>`` with a block ``n + 1`` beside
  it, RFC 5005 archive documents): a full block never changes (only an edit of an old
  story rewrites one), so they are cached for a week. The newest block is not full: a
  story leaving the head goes into it, so it is cached as a head; were it kept for a
  week, a reader walking the archives would miss the stories that left the head
  meanwhile. Which block is the newest only the whole tree tells (``sealed_archives``):
  ``frfeeds deploy`` knows, a path alone (nginx's config) does not;
- **pages and lists** (``.html``: index.html and each feed's page; ``feeds.opml``): read
  by people, who expect a publish to show soon: a minute;
- **feed heads** (every other feed document, ``feeds/ai.atom``): polled by readers every
  few minutes; five minutes lets a CDN or proxy absorb the polls.

Every file is text, UTF-8: its Content-Type says so (``; charset=utf-8``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from frfeeds.archive import ARCHIVE_FOLDER

# the output registry's media types: a new kind of file gets its Content-Type here too
from frfeeds.render.outputs import MEDIA_TYPES

CHARSET = "utf-8"
#: An archive document of a feed: ``feeds/ai/archive/3.atom``, ``feeds/providers/cbsnews.com/archive/3.rss``.
ARCHIVE = re.compile(rf"(feeds/.+/{re.escape(ARCHIVE_FOLDER)})/([^/]+)")
#: Its block number and extension.
_NUMBERED = re.compile(r"(\d+)\.([^/.]+)")
#: The pages and lists' extensions.
PAGE_EXTENSIONS = ("html", "opml")
#: The files a reader or a person starts from, uploaded after everything they link to.
ROOT_PAGES = ("index.html", "feeds.opml")


@dataclass(frozen=True)
class Kind:
    """A kind of file and its caching."""

    name: str
    cache_control: str
    #: Which paths, as the README's table says it.
    paths: str


HEAD = Kind("feed head", "public, max-age=300", "feeds/**/*.{atom,rss,json}, archives aside")
PAGE = Kind("page or list", "public, max-age=60", "index.html, feeds/**/*.html, feeds.opml")
ARCHIVE_KIND = Kind("sealed archive", "public, max-age=604800",
                    "feeds/<slug>/archive/<n>.{atom,rss,json} with a block n + 1 beside it")
KINDS = (HEAD, PAGE, ARCHIVE_KIND)


@dataclass(frozen=True)
class Headers:
    content_type: str
    cache_control: str


def extension(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def kind_of(path: str, sealed: bool = False) -> Kind:
    """The kind of a tree path (``feeds/ai.atom``: relative, ``/``-separated); sealed:
    the path is among its tree's sealed_archives."""
    if sealed and ARCHIVE.fullmatch(path):
        return ARCHIVE_KIND
    if extension(path) in PAGE_EXTENSIONS:
        return PAGE
    return HEAD


def content_type(path: str) -> str:
    """The Content-Type of a tree path, with its charset; octet-stream for what the tree never holds."""
    media_type = MEDIA_TYPES.get(extension(path))
    return f"{media_type}; charset={CHARSET}" if media_type else "application/octet-stream"


def headers_for(path: str, sealed: bool = False) -> Headers:
    return Headers(content_type(path), kind_of(path, sealed).cache_control)


def sealed_archives(paths: Iterable[str]) -> frozenset[str]:
    """The archive documents of a tree with a newer block beside them (block n + 1 in the
    same format): full, and changed by no new story."""
    present = set(paths)
    sealed = set()
    for path in present:
        archive = ARCHIVE.fullmatch(path)
        numbered = _NUMBERED.fullmatch(archive[2]) if archive else None
        if archive and numbered and f"{archive[1]}/{int(numbered[1]) + 1}.{numbered[2]}" in present:
            sealed.add(path)
    return frozenset(sealed)


def upload_rank(path: str) -> int:
    """When a path goes up, so that nothing links what is not there yet: archives, feed
    pages and anything else first (0), then the feed heads that link them (1), then
    index.html and feeds.opml, which link every feed (2)."""
    if path in ROOT_PAGES:
        return 2
    if ARCHIVE.fullmatch(path):
        return 0
    kind = kind_of(path)
    return 1 if kind is HEAD and path.startswith("feeds/") and extension(path) in MEDIA_TYPES else 0
