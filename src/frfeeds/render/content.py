"""The HTML body of an entry, the same in every format: lead image, featured content
(a video player) with a plain link to it, excerpt, source, related."""

from __future__ import annotations

from html import escape
from urllib.parse import urlsplit

from frfeeds.records import Record, Related


def entry_html(record: Record) -> str:
    """HTML built only from validated record fields: text escaped, featured HTML
    sanitised when the record was read (clean.clean_html)."""
    parts = []
    if record.images:
        image = record.images[0]
        size = "".join(
            f' {name}="{value}"' for name, value in (("width", image.width), ("height", image.height)) if value
        )
        alt = escape(image.title or record.title)
        parts.append(f'<p><img src="{escape(image.url)}" alt="{alt}"{size} /></p>')
    if record.featured_html:
        parts.append(record.featured_html)
        # for readers that strip iframes (most do): the player as a plain link
        parts += [_watch_link(record, src) for src in record.embeds]
    if record.excerpt:
        parts.append(f"<p>{escape(record.excerpt)}</p>")
    parts.append(_source(record))
    if record.related:
        items = "".join(_related_item(related) for related in record.related)
        parts.append(f"<p>Related coverage:</p><ul>{items}</ul>")
    return "\n".join(parts)


def _watch_link(record: Record, src: str) -> str:
    """A plain link for a player: the story's own page when it is on the player's site
    (a YouTube record links its watch page, not the bare embed), else the player."""
    site = _site(src).removeprefix("m.").replace("youtube-nocookie.com", "youtube.com")
    href = record.url if _site(record.url).removeprefix("m.") in (site, site.replace("player.", "")) else src
    return f'<p><a href="{escape(href)}">Watch the video on {escape(site.removeprefix("player."))}</a></p>'


def original_url(record: Record) -> str | None:
    """``originalUrl`` when it names another page than the entry's link."""
    return record.original_url if record.original_url and record.original_url != record.url else None


def _source(record: Record) -> str:
    line = f'<p>Source: <a href="{escape(record.url)}">{escape(record.provider.name)}</a>'
    original = original_url(record)
    if original:
        line += f' (first published at <a href="{escape(original)}">{escape(_site(original))}</a>)'
    return line + "</p>"


def _site(url: str) -> str:
    host = urlsplit(url).hostname or url
    return host.removeprefix("www.")


def _related_item(related: Related) -> str:
    notes = [escape(related.provider.name)] if related.provider else []
    if related.published_at:
        notes.append(related.published_at.date().isoformat())
    suffix = f" ({', '.join(notes)})" if notes else ""
    return f'<li><a href="{escape(related.url)}">{escape(related.title)}</a>{suffix}</li>'
