"""Every field of the record model reaches the output, or is said here not to.

A field added to Record and given a value in test_codec's full record, but forgotten by
the renderers, fails here: no silent loss. (The golden files then show where it appears.)
"""

import dataclasses

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


def rendered(record: Record, kind: str = "provider") -> bytes:
    """Every file of a one-entry feed holding record, as the build renders it."""
    summary = Decoder().summary(record.path, encode(record)[0])
    feed = Feed(f"feeds/providers/{record.provider.domain}", kind, record.provider.name, "Stories", (summary,))
    settings = Settings(site=dataclasses.replace(Settings().site, url="https://news.example.org"))
    (files,) = render_batch(settings.render, [feed], {record.path: record})
    return b"\n".join(files[path] for path in sorted(files))


@pytest.mark.parametrize("field", [field.name for field in dataclasses.fields(Record)])
def test_every_record_field_changes_the_rendered_entry(field):
    base, other = full_record(0), full_record(1)
    changed = dataclasses.replace(base, **{field: getattr(other, field)})
    if field in NOT_RENDERED:
        assert rendered(changed) == rendered(base), f"{field} is shown: take it off NOT_RENDERED"
    else:
        assert rendered(changed) != rendered(base), (
            f"Record.{field} reaches no feed, page or format: render it, or list it in NOT_RENDERED with why")
