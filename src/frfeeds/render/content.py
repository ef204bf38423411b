"""The HTML body of an entry, the same in every format: lead image, excerpt, source, related."""

from __future__ import annotations

from html import escape

from frfeeds.records import Record


def entry_html(record: Record) -> str:
    """Escaped HTML built only from validated record fields."""
    parts = []
    if record.images:
        image = record.images[0]
        size = "".join(
            f' {name}="{value}"' for name, value in (("width", image.width), ("height", image.height)) if value
        )
        alt = escape(image.title or record.title)
        parts.append(f'<p><img src="{escape(image.url)}" alt="{alt}"{size} /></p>')
    if record.excerpt:
        parts.append(f"<p>{escape(record.excerpt)}</p>")
    parts.append(f'<p>Source: <a href="{escape(record.url)}">{escape(record.provider.name)}</a></p>')
    if record.related:
        items = "".join(_related_item(related) for related in record.related)
        parts.append(f"<p>Related coverage:</p><ul>{items}</ul>")
    return "\n".join(parts)


def _related_item(related) -> str:
    notes = [escape(related.provider.name)] if related.provider else []
    if related.published_at:
        notes.append(related.published_at.date().isoformat())
    suffix = f" ({', '.join(notes)})" if notes else ""
    return f'<li><a href="{escape(related.url)}">{escape(related.title)}</a>{suffix}</li>'
