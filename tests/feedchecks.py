"""Checks of built feeds that the W3C Feed Validation Service makes and that the tests
can make too: every id, link, guid and URL a valid absolute URI (rfc3986-validator);
text constructs plain text, RSS descriptions HTML whose text is the excerpt."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

from rfc3986_validator import validate_rfc3986

from frfeeds.clean import HTML_ELEMENTS

NS = {"atom": "http://www.w3.org/2005/Atom", "media": "http://search.yahoo.com/mrss/"}
#: A tag of an HTML element, or an entity: what a text construct must not carry.
MARKUP = re.compile(r"</?(?:{})\b[^>]*>|&#?\w+;".format("|".join(sorted(HTML_ELEMENTS, key=len, reverse=True))), re.I)


class _Html(HTMLParser):
    """Text and URL attributes of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tags: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.urls += [value for name, value in attrs if name in ("href", "src") and value is not None]

    def handle_data(self, data):
        self.text.append(data)


def html_parts(fragment: str) -> _Html:
    parser = _Html()
    parser.feed(fragment)
    parser.close()
    return parser


def _atom(data: bytes) -> tuple[list[str], list[dict]]:
    root = ET.fromstring(data)
    uris = [root.findtext("atom:id", namespaces=NS)] + [link.get("href") for link in root.findall("atom:link", NS)]
    entries = []
    for entry in root.findall("atom:entry", NS):
        uris.append(entry.findtext("atom:id", namespaces=NS))
        uris += [link.get("href") for link in entry.findall("atom:link", NS)]
        uris += [element.get("url") for element in entry.iter() if element.tag.startswith(f"{{{NS['media']}}}")]
        uris += [category.get("scheme") for category in entry.findall("atom:category", NS)]
        uris.append(entry.findtext("atom:author/atom:uri", namespaces=NS))
        summary = entry.find("atom:summary", NS)
        assert summary is None or summary.get("type", "text") == "text"
        assert entry.find("atom:title", NS).get("type", "text") == "text"
        content = entry.findtext("atom:content", namespaces=NS)
        uris += html_parts(content).urls
        entries.append({"title": entry.findtext("atom:title", namespaces=NS),
                        "summary": summary.text if summary is not None else None})
    return uris, entries


def _rss(data: bytes) -> tuple[list[str], list[dict]]:
    channel = ET.fromstring(data).find("channel")
    uris = [channel.findtext("link")] + [link.get("href") for link in channel.findall("atom:link", NS)]
    items = []
    for item in channel.findall("item"):
        uris += [item.findtext("link"), item.findtext("guid")]
        assert item.find("guid").get("isPermaLink") == "true"
        uris += [link.get("href") for link in item.findall("atom:link", NS)]
        uris += [element.get("url") for element in item.iter() if element.tag.startswith(f"{{{NS['media']}}}")]
        uris += [category.get("domain") for category in item.findall("category")]
        content = item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded")
        uris += html_parts(content or "").urls
        description = item.findtext("description")
        # the entry's HTML (a video's player too) is in content:encoded only; description
        # stays a summary of plain text (the W3C validator warns on markup there): the
        # excerpt, or the title when there is none
        assert content is not None and description is not None, "an item without content:encoded or description"
        parsed = html_parts(description)
        assert parsed.tags == [], f"RSS description of plain text holds tags: {description!r}"
        summary = "".join(parsed.text)
        items.append({"title": item.findtext("title"), "summary": summary})
    return uris, items


def _json(data: bytes) -> tuple[list[str], list[dict]]:
    document = json.loads(data)
    uris = [document["feed_url"], document["home_page_url"]]
    items = []
    for item in document["items"]:
        uris += [item["id"], item["url"], item.get("external_url"), item.get("image")]
        uris += [author["url"] for author in item.get("authors", [])]
        uris += list(item.get("_amp", {}).values())
        uris += html_parts(item["content_html"]).urls
        items.append({"title": item["title"], "summary": item.get("summary")})
    return uris, items


def check_feeds_uris_and_text(files: dict[str, bytes]) -> int:
    """Check every feed of a tree; return how many URIs were checked."""
    checked = 0
    readers = {"atom": _atom, "rss": _rss, "json": _json}
    for base in sorted({path.rsplit(".", 1)[0] for path in files if path.startswith("feeds/")}):
        texts = {}
        for ext, read in readers.items():
            uris, texts[ext] = read(files[f"{base}.{ext}"])
            for uri in uris:
                if uri is None:
                    continue
                assert validate_rfc3986(uri) and uri.lower().startswith(("http://", "https://")), (base, ext, uri)
                checked += 1
        # the same title and excerpt, as plain text, in every format
        for atom, rss, jsonfeed in zip(texts["atom"], texts["rss"], texts["json"], strict=True):
            assert atom["title"] == rss["title"] == jsonfeed["title"], base
            assert atom["summary"] == jsonfeed["summary"], base
            assert rss["summary"] == (atom["summary"] if atom["summary"] is not None else atom["title"]), base
            for text in (atom["title"], atom["summary"]):
                assert text is None or not MARKUP.search(text), (base, text)
    return checked
