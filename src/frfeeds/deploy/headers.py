"""What HTTP must say about each file of the tree, wherever it is served from: the one
table ``frfeeds deploy`` sets on every object, and that ``deploy/nginx/static.conf.template``
and the README's table for static hosts follow (the tests check both against it).

Three kinds of file, by path:

- **archives** (``feeds/<slug>/archive/<n>.<ext>``, RFC 5005 archive documents): a full
  block never changes (only an edit of an old story rewrites one), so they are cached
  for a week;
- **pages and lists** (``.html``: index.html and each feed's page; ``feeds.opml``): read
  by people, who expect a publish to show soon: a minute;
- **feed heads** (every other feed document, ``feeds/ai.atom``): polled by readers every
  few minutes; five minutes lets a CDN or proxy absorb the polls.

Every file is text, UTF-8: its Content-Type says so (``; charset=utf-8``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from frfeeds.archive import ARCHIVE_FOLDER

# the output registry's media types: a new kind of file gets its Content-Type here too
from frfeeds.render.outputs import MEDIA_TYPES

CHARSET = "utf-8"
#: An archive document of a feed: ``feeds/ai/archive/3.atom``, ``feeds/providers/cbsnews.com/archive/3.rss``.
ARCHIVE = re.compile(rf"feeds/.+/{re.escape(ARCHIVE_FOLDER)}/[^/]+")
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
ARCHIVE_KIND = Kind("archive", "public, max-age=604800", "feeds/<slug>/archive/<n>.{atom,rss,json,html}")
KINDS = (HEAD, PAGE, ARCHIVE_KIND)


@dataclass(frozen=True)
class Headers:
    content_type: str
    cache_control: str


def extension(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def kind_of(path: str) -> Kind:
    """The kind of a tree path (``feeds/ai.atom``: relative, ``/``-separated)."""
    if ARCHIVE.fullmatch(path):
        return ARCHIVE_KIND
    if extension(path) in PAGE_EXTENSIONS:
        return PAGE
    return HEAD


def content_type(path: str) -> str:
    """The Content-Type of a tree path, with its charset; octet-stream for what the tree never holds."""
    media_type = MEDIA_TYPES.get(extension(path))
    return f"{media_type}; charset={CHARSET}" if media_type else "application/octet-stream"


def headers_for(path: str) -> Headers:
    return Headers(content_type(path), kind_of(path).cache_control)


def upload_rank(path: str) -> int:
    """When a path goes up, so that nothing links what is not there yet: archives, feed
    pages and anything else first (0), then the feed heads that link them (1), then
    index.html and feeds.opml, which link every feed (2)."""
    if path in ROOT_PAGES:
        return 2
    kind = kind_of(path)
    return 1 if kind is HEAD and path.startswith("feeds/") and extension(path) in MEDIA_TYPES else 0
