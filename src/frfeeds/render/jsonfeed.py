"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1), written directly."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from frfeeds.catalog import Feed
from frfeeds.records import Record
from frfeeds.render.content import original_url
from frfeeds.render.hublinks import json_hubs
from frfeeds.render.links import document_url, rfc3339
from frfeeds.render.masthead import masthead
from frfeeds.render.outputs import Frame, feed_file
from frfeeds.settings import RenderSettings

VERSION = "https://jsonfeed.org/version/1.1"


def render_json(feed: Feed, settings: RenderSettings) -> dict[str, Frame]:
    """The feed's JSON file around its items: ``items`` is its last member."""
    path = feed_file(feed.path, "json")
    head, site = masthead(feed, settings), settings.site
    document: dict[str, Any] = {
        "version": VERSION,
        "title": head.title,
        "home_page_url": head.home,
        "feed_url": document_url(settings.base_url, feed.path, "json", feed.url_query),
        "description": feed.description,
    }
    # JSON Feed has one way on, next_url: the next page of a query, else the next
    # older archive (RFC 5005's prev-archive), walked from the head backwards
    on = next((link for rel in ("next", "prev-archive") for link in feed.links if link.rel == rel), None)
    if on is not None:
        document["next_url"] = document_url(settings.base_url, on.path, "json", on.query)
    if settings.hubs:  # WebSub
        document["hubs"] = json_hubs(settings.hubs)
    if head.icon:  # JSON Feed's icon is large and its favicon small: one square image is both
        document["icon"] = document["favicon"] = head.icon
    if site.author:
        document["authors"] = [{"name": site.author, **({"url": site.url} if site.url else {})}]
    document["language"] = site.language
    text = _dumps(document)
    return {path: Frame(f'{text[:-1]},"items":['.encode(), b"]}\n", b",")}


def json_items(records: Sequence[Record], contents: Sequence[str], settings: RenderSettings) -> dict[str, list[bytes]]:
    """Each record's JSON Feed item; ``contents`` holds each record's entry HTML."""
    return {"json": [_dumps(_item(record, html, settings)).encode() for record, html in zip(records, contents,
                                                                                             strict=True)]}


def _dumps(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))  # compact: the C encoder


def _item(record: Record, html: str, settings: RenderSettings) -> dict[str, Any]:
    item: dict[str, Any] = {"id": record.url, "url": record.url}
    original = original_url(record)
    if original:
        item["external_url"] = original
    item["title"] = record.title
    if record.excerpt:
        item["summary"] = record.excerpt
    item["content_html"] = html
    item["date_published"] = rfc3339(record.published_at)
    item["date_modified"] = rfc3339(record.updated)
    item["authors"] = [{"name": record.provider.name, "url": f"https://{record.provider.domain}"}]
    tags = [topic.label for topic in record.topics]
    if record.type and record.type.casefold() not in {tag.casefold() for tag in tags}:
        tags.append(record.type)
    if tags:
        item["tags"] = tags
    if record.images:
        item["image"] = record.images[0].url
    if settings.amp and (record.amp_url or record.cdn_amp_url):
        amp = {"url": record.amp_url, "cdn_url": record.cdn_amp_url}
        item["_amp"] = {key: value for key, value in amp.items() if value}
    if record.type:
        item["_frfeeds"] = {"type": record.type}
    return item
