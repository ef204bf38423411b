"""The output registry: every kind of file the feed tree holds, in two tables.

``FEED_OUTPUTS``: the files every feed has (``feeds/ai.atom``, ``.rss``, ``.json``, its
page ``feeds/ai.html``). ``SITE_PAGES``: the files made from the list of feeds
(``index.html``, ``feeds.opml``). Each row says its extension or path, its media type,
its label and its renderer; everything else derives from these tables: the formats a
page offers, the files a feed has, the media types the app serves, which renderer
makes which file. Adding an output is adding a row (README: "Adding an output").

A renderer is named ``"module:function"`` and imported on first use, so that reading
the tables costs nothing (a build with nothing to render imports no renderer) and this
module imports none of the renderers that read it. A row whose renderer cannot be
found fails the first render loudly (``RegistryError``); an unknown page is an error,
never another page's bytes.

A feed output is made in two parts, so that an entry sitting in many feeds (the all
feed, its topics', its provider's, their archives) is rendered once per format, not once
per feed:

- its entries renderer, ``(records, contents, inputs) -> {row name: [bytes, ...]}``:
  the fragment of each record (its Atom ``<entry>``, RSS ``<item>``, JSON Feed item,
  page ``<article>``) as it sits in any document of the row, from the full records,
  their entry HTML and the RenderSettings;
- its renderer, ``(feed, inputs) -> {path: Frame}``: the document around the
  entries (``Frame``), from the feed alone; the file is the frame's prefix, the feed's
  entries' fragments joined by its separator, and its suffix (``Frame.join``).

One call may make several rows' parts (Atom and RSS come from one feedgen object):
rows that name the same renderer are rendered by one call, which must return exactly
their rows. A site page's renderer is ``(feeds, newest, inputs) -> bytes``, with every
feed of the plan and the newest stories as full records.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class RegistryError(LookupError):
    """A registry row that cannot be rendered (no such renderer), or no such row."""


@dataclass(frozen=True, slots=True)
class Output:
    """One kind of file."""

    #: ``format``: a subscribable format of every feed; ``page``: every feed's HTML page;
    #: ``site``: one file made from the list of feeds.
    kind: str
    #: The format's name (``atom``), or the site page's path in the tree (``index.html``).
    name: str
    #: File extension (without the dot).
    extension: str
    #: Media type, served with ``; charset=utf-8``.
    media_type: str
    #: What people call it: ``Atom``, ``JSON Feed``.
    label: str
    #: ``"module:function"``, imported on first use: a site page's bytes, or a feed
    #: output's frames.
    renderer: str
    #: ``"module:function"`` of a feed output: its entries' fragments.
    entries: str = ""

    def file(self, feed_path: str) -> str:
        """The file this output makes of a feed: ``feeds/ai`` -> ``feeds/ai.atom``."""
        return f"{feed_path}.{self.extension}"


FEED_OUTPUTS: tuple[Output, ...] = (
    Output("format", "atom", "atom", "application/atom+xml", "Atom", "frfeeds.render.syndication:render_atom_rss",
           "frfeeds.render.syndication:atom_rss_entries"),
    Output("format", "rss", "rss", "application/rss+xml", "RSS", "frfeeds.render.syndication:render_atom_rss",
           "frfeeds.render.syndication:atom_rss_entries"),
    Output("format", "json", "json", "application/feed+json", "JSON Feed", "frfeeds.render.jsonfeed:render_json",
           "frfeeds.render.jsonfeed:json_items"),
    Output("page", "page", "html", "text/html", "Page", "frfeeds.render.pages:render_feed_page",
           "frfeeds.render.pages:page_entries"),
)
SITE_PAGES: tuple[Output, ...] = (
    Output("site", "index.html", "html", "text/html", "Index", "frfeeds.render.pages:render_index"),
    Output("site", "feeds.opml", "opml", "text/x-opml", "OPML", "frfeeds.render.opml:render_opml"),
)

#: The formats a reader subscribes to, in the order pages and indexes list them.
FORMATS: tuple[Output, ...] = tuple(output for output in FEED_OUTPUTS if output.kind == "format")
FORMAT_BY_NAME = {output.name: output for output in FORMATS}
#: Their extensions, dot included: what a subscribable file's path ends with.
FORMAT_EXTENSIONS = tuple(f".{output.extension}" for output in FORMATS)
#: Every feed's page (``feeds/ai.html``).
PAGE = next(output for output in FEED_OUTPUTS if output.kind == "page")
#: The files of an archive document (RFC 5005, ``feeds/ai/archive/3``): the formats
#: only; the feed's page (of its head) links them.
ARCHIVE_OUTPUTS: tuple[Output, ...] = FORMATS
#: Extension -> media type, for every file the tree holds.
MEDIA_TYPES = {output.extension: output.media_type for output in FEED_OUTPUTS + SITE_PAGES}
if len(MEDIA_TYPES) != len({(output.extension, output.media_type) for output in FEED_OUTPUTS + SITE_PAGES}):
    raise RegistryError("two outputs of the registry share an extension but not a media type")


def feed_file(feed_path: str, fmt: str) -> str:
    """``feeds/ai`` + ``atom`` -> ``feeds/ai.atom``."""
    return FORMAT_BY_NAME[fmt].file(feed_path)


def document_outputs(archive: bool) -> tuple[Output, ...]:
    """The outputs of a feed document: FEED_OUTPUTS for a feed, ARCHIVE_OUTPUTS for an archive."""
    return ARCHIVE_OUTPUTS if archive else FEED_OUTPUTS


def feed_files(feed_path: str, archive: bool = False) -> list[str]:
    """Every file of a feed document, in FEED_OUTPUTS order."""
    return [output.file(feed_path) for output in document_outputs(archive)]


def site_page(path: str) -> Output:
    """The SITE_PAGES row of a path; RegistryError for a path that is no site page."""
    for output in SITE_PAGES:
        if output.name == path:
            return output
    raise RegistryError(f"{path!r} is no site page: the registry has {', '.join(p.name for p in SITE_PAGES)}")


def media_type(path: str) -> str:
    """The media type of a tree path by its extension; RegistryError for one the tree never holds."""
    extension = path.rpartition(".")[2]
    try:
        return MEDIA_TYPES[extension]
    except KeyError:
        raise RegistryError(f"{path!r}: no output of the registry has the extension {extension!r}") from None


@dataclass(frozen=True, slots=True)
class Frame:
    """A feed output's file but its entries: ``prefix``, the entries' fragments joined
    by ``separator``, ``suffix``."""

    prefix: bytes
    suffix: bytes
    separator: bytes = b""

    def join(self, fragments: list[bytes]) -> bytes:
        return self.prefix + self.separator.join(fragments) + self.suffix


def feed_renderers(outputs: tuple[Output, ...] = FEED_OUTPUTS) -> list[tuple[Callable[..., dict[str, Frame]],
                                                                           tuple[Output, ...]]]:
    """Each distinct frame renderer of outputs (FEED_OUTPUTS by default) once, with the
    rows it makes, in table order."""
    return [(renderer(name), rows) for name, rows in _grouped(outputs, "renderer")]


def entry_renderers() -> list[tuple[Callable[..., dict[str, list[bytes]]], tuple[Output, ...]]]:
    """Each distinct entries renderer of FEED_OUTPUTS once, with the rows it makes, in table order."""
    return [(renderer(name), rows) for name, rows in _grouped(FEED_OUTPUTS, "entries")]


def _grouped(outputs: tuple[Output, ...], attribute: str) -> list[tuple[str, tuple[Output, ...]]]:
    grouped: dict[str, list[Output]] = {}
    for output in outputs:
        grouped.setdefault(getattr(output, attribute), []).append(output)
    return [(name, tuple(rows)) for name, rows in grouped.items()]


def load_renderers() -> None:
    """Import every renderer of the registry now (the app does, when it is made): a
    RegistryError at once for a row without one, and no module read on a first request."""
    for output in FEED_OUTPUTS + SITE_PAGES:
        renderer(output.renderer)
    for output in FEED_OUTPUTS:
        renderer(output.entries)


@functools.cache
def renderer(name: str) -> Callable[..., Any]:
    """The function a row names (``"module:function"``), imported now; RegistryError if none."""
    module_name, _, function = name.partition(":")
    try:
        found = getattr(importlib.import_module(module_name), function) if module_name and function else None
    except (ImportError, AttributeError):
        found = None
    if not callable(found):
        raise RegistryError(f"the output registry names the renderer {name!r}, which does not exist")
    made: Callable[..., Any] = found
    return made
