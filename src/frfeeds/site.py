"""The whole pipeline in memory: records folder -> feed tree as ``{path: bytes}``.

The CLI writes that tree to disk and the app serves it: the same bytes either way.
"""

from __future__ import annotations

from dataclasses import dataclass

from frfeeds.catalog import Feed, Selection, build_catalog, select
from frfeeds.config import Settings
from frfeeds.loader import Loaded, load_records
from frfeeds.render import render_atom_rss, render_index, render_json, render_opml


@dataclass(frozen=True)
class Site:
    loaded: Loaded
    selection: Selection
    feeds: tuple[Feed, ...]
    #: Path in the tree (``feeds/ai.atom``) -> bytes, sorted by path.
    files: dict[str, bytes]


def build_site(settings: Settings) -> Site:
    loaded = load_records(settings.records)
    selection = select(loaded.records, settings.include_unpublished)
    feeds = build_catalog(selection.records, settings.limit)
    return Site(loaded, selection, feeds, render_tree(feeds, settings))


def render_tree(feeds: tuple[Feed, ...], settings: Settings) -> dict[str, bytes]:
    files = {"index.html": render_index(feeds, settings), "feeds.opml": render_opml(feeds, settings)}
    for feed in feeds:
        files.update(render_atom_rss(feed, settings))
        files.update(render_json(feed, settings))
    return dict(sorted(files.items()))
