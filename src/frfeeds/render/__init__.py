"""Renderers: one module per output format, all pure (Feed + Settings -> bytes)."""

from frfeeds.render.content import entry_html
from frfeeds.render.jsonfeed import render_json
from frfeeds.render.opml import render_opml
from frfeeds.render.pages import render_feed_page, render_index
from frfeeds.render.syndication import render_atom_rss

__all__ = ["entry_html", "render_atom_rss", "render_feed_page", "render_index", "render_json", "render_opml"]
