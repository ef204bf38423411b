"""Every field of the record model reaches each output format's entry, or is said here not to.

A field added to Record and given a value in test_codec's full record, but forgotten by
a renderer, fails here for that format: no silent loss, and no field shown in JSON but
forgotten in RSS. Each format is compared on its entry alone (Atom ``<entry>``, RSS
``<item>``, a JSON Feed item, the page's ``<article>``), as the entry mapping of
../shared/DESIGN.md lays it out. (The golden files then show where a field appears.)
"""

import dataclasses
import json
import re

import pytest
from test_codec import full_record

from frfeeds.catalog import Feed
from frfeeds.plan import render_batch
from frfeeds.read.codec import Decoder, encode
from frfeeds.records import Record
from frfeeds.settings import Settings

#: Fields that decide which feeds hold a record, not what its entry shows, with why.
NOT_RENDERED = {
    "path": "the record's file: its identity in the build, never published",
    "is_published": "left out of feeds (catalog.select), not shown",
    "is_removed": "left out of feeds (catalog.select), not shown",
    "quality": "selects records for custom feeds (query.Query), not shown",
    "heat": "kept in the model, not shown (real records often carry -1)",
    "category": "always 'news' in real records; kept, not shown",
}
#: Fields one format does not show, with why (the others show them).
_PAGE_LISTS = "the page lists stories (title, date, provider, type, lead image, excerpt); "
NOT_SHOWN = {
    "atom": {},
    "rss": {
        "updated_at": "an RSS 2.0 item has no updated date (DESIGN.md: '—'); lastBuildDate is the feed's",
    },
    "json": {},
    "page": {
        "updated_at": _PAGE_LISTS + "the date is the publication's",
        "original_url": _PAGE_LISTS + "it links the story's own page; the feeds' content names the original",
        "amp_url": _PAGE_LISTS + "AMP links are for feed readers",
        "cdn_amp_url": _PAGE_LISTS + "AMP links are for feed readers",
        "topics": _PAGE_LISTS + "a story's topics are the feeds the index lists",
        "related": _PAGE_LISTS + "related coverage is in the feeds' content",
        "featured_html": _PAGE_LISTS + "the player is in the feeds' content",
        "embeds": _PAGE_LISTS + "the player is in the feeds' content",
    },
}
FORMATS = {"atom": "atom", "rss": "rss", "json": "json", "page": "html"}
FIELDS = [field.name for field in dataclasses.fields(Record)]


def entries(record: Record) -> dict[str, object]:
    """The one entry of each format of a one-entry feed holding record, as the build renders it."""
    summary = Decoder().summary(record.path, encode(record)[0])
    feed = Feed("feeds/providers/example.com", "provider", "Example", "Stories", (summary,))
    settings = Settings(site=dataclasses.replace(Settings().site, url="https://news.example.org"))
    (files,) = render_batch(settings.render, [feed], {record.path: record})
    text = {name: files[f"{feed.path}.{extension}"].decode() for name, extension in FORMATS.items()}
    found = {name: re.findall(pattern, text[name], re.S)
             for name, pattern in (("atom", r"<entry>.*?</entry>"), ("rss", r"<item>.*?</item>"),
                                   ("page", r"<article>.*?</article>"))}
    found["json"] = json.loads(text["json"])["items"]
    assert all(len(found[name]) == 1 for name in FORMATS), {name: len(found[name]) for name in FORMATS}
    return {name: found[name][0] for name in FORMATS}


def test_every_field_said_not_shown_is_a_field():
    assert set(NOT_RENDERED) <= set(FIELDS)
    assert set(NOT_SHOWN) == set(FORMATS)
    for name, fields in NOT_SHOWN.items():
        assert set(fields) <= set(FIELDS) - set(NOT_RENDERED), name


@pytest.mark.parametrize("field", FIELDS)
def test_every_record_field_changes_each_formats_entry(field):
    base, other = full_record(0), full_record(1)
    before, after = entries(base), entries(dataclasses.replace(base, **{field: getattr(other, field)}))
    changed = {name for name in FORMATS if before[name] != after[name]}
    if field in NOT_RENDERED:
        assert not changed, f"Record.{field} is shown in {sorted(changed)}: take it off NOT_RENDERED"
        return
    expected = {name for name in FORMATS if field not in NOT_SHOWN[name]}
    assert changed >= expected, (
        f"Record.{field} does not reach the {sorted(expected - changed)} entry: render it there, "
        "or list it in NOT_SHOWN with why")
    assert changed <= expected, f"Record.{field} is shown in {sorted(changed - expected)}: take it off NOT_SHOWN"
