"""The codec carries every field of the model, and its format follows the model."""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import sys

import pytest

from frfeeds.read import cache, codec
from frfeeds.read.codec import Decoder, decode_records, encode
from frfeeds.records import Image, Provider, Record, Related, Summary, Topic

WHEN = dt.datetime(2021, 5, 17, 4, 8, 0, 123456, tzinfo=dt.timezone.utc)


def full_record(variant: int = 0) -> Record:
    """A record with every field of every model class set, to a value that differs per variant."""
    n, when = str(variant), WHEN + dt.timedelta(days=variant, microseconds=variant)
    return Record(
        path=f"a/b{n}.md", title=f"Title {n}", url=f"https://example.com/a{n}", published_at=when,
        provider=Provider(f"CBS News {n}", f"cbsnews{n}.com", f"/logos/cbs{n}.png"),
        updated_at=when + dt.timedelta(days=1),
        excerpt=f"Excerpt {n}", original_url=f"https://example.org/o{n}", amp_url=f"https://example.com/amp{n}",
        cdn_amp_url=f"https://cdn.example.com/amp{n}", type=f"video{n}", category=f"news{n}", quality=137 + variant,
        heat=-3 - variant, is_published=bool(variant), is_removed=not variant,
        topics=(Topic(f"ai{n}", f"AI {n}"), Topic("computer-vision", "Computer Vision")),
        images=(Image(f"https://img.example.com/1{n}.jpg", 1200 + variant, 630 + variant, f"Lead {n}"),
                Image("https://img.example.com/2.jpg")),
        related=(Related(f"R{n}", f"https://example.net/r{n}", f"Rx{n}", when, Provider(f"Other{n}", f"example{n}.net", f"https://example{n}.net/logo.png")),
                 Related("S", "https://example.net/s")),
        featured_html=f'<iframe src="https://www.youtube.com/embed/x{n}"></iframe>',
        embeds=(f"https://www.youtube.com/embed/x{n}",),
    )


def never_set(value: object) -> list[str]:
    """``Class.field`` of each field of a model class reached from value that holds its
    default (or None, or ()) in every instance: the codec would not be checked on it."""
    set_somewhere: dict[type, set[str]] = {}

    def walk(item: object) -> None:
        if isinstance(item, tuple):
            for element in item:
                walk(element)
        elif dataclasses.is_dataclass(item):
            names = set_somewhere.setdefault(type(item), set())
            for field in dataclasses.fields(item):
                current = getattr(item, field.name)
                if current not in (None, (), field.default):
                    names.add(field.name)
                walk(current)

    walk(value)
    return [f"{cls.__name__}.{field.name}" for cls, names in set_somewhere.items()
            for field in dataclasses.fields(cls) if field.name not in names]


def test_the_test_record_sets_every_field_of_every_model_class():
    assert never_set(full_record()) == [], "give every field a value here, so that the codec is checked on it"
    assert never_set(full_record(1)) == ["Record.is_published", "Record.is_removed"]  # booleans at their defaults
    assert never_set(dataclasses.replace(full_record(), heat=None)) == ["Record.heat"]  # the check can fail


@pytest.mark.parametrize("variant", [0, 1])
def test_round_trip_of_a_record_with_every_field(variant):
    record = full_record(variant)
    summary_bytes, details = encode(record)
    assert Decoder().record(summary_bytes, details, record.path) == record
    assert decode_records({record.path: (summary_bytes, details)}) == {record.path: record}
    summary = Decoder().summary(record.path, summary_bytes)
    for field in dataclasses.fields(Summary):
        if field.name != codec.DIGEST:
            assert getattr(summary, field.name) == getattr(record, field.name), field.name
    assert summary.updated == record.updated == record.updated_at


def test_updated_falls_back_to_published_on_both():
    record = dataclasses.replace(full_record(), updated_at=None)
    summary = Decoder().summary(record.path, encode(record)[0])
    assert summary.updated_at is None and summary.updated == record.updated == record.published_at


def test_summary_holds_what_selection_takes():
    names = {field.name for field in dataclasses.fields(Summary)}
    assert {"url", "published_at", "updated_at", "provider", "topics", "type", "quality", "is_published",
            "is_removed", "path", "digest"} <= names
    assert names - {field.name for field in dataclasses.fields(Record)} == {"digest"}


def test_the_digest_changes_with_every_field_but_the_path():
    record, other = full_record(0), full_record(1)
    digest = Decoder().summary(record.path, encode(record)[0]).digest
    for field in dataclasses.fields(Record):
        changed = dataclasses.replace(record, **{field.name: getattr(other, field.name)})
        assert changed != record
        new = Decoder().summary(record.path, encode(changed)[0]).digest
        assert (new == digest) == (field.name == codec.KEY), field.name


def test_equal_providers_and_topics_are_one_object_per_decoder():
    one, two = full_record(0), dataclasses.replace(full_record(0), path="c.md", url="https://example.com/c")
    decoder = Decoder()
    first = decoder.record(*encode(one), one.path)
    second = decoder.record(*encode(two), two.path)
    summary = decoder.summary(two.path, encode(two)[0])
    assert first.provider is second.provider is summary.provider
    assert first.topics is second.topics is summary.topics
    assert first.topics[1] is decoder.record(*encode(full_record(1)), "d.md").topics[1]  # one topic, in two lists
    assert first.related[0].provider is second.related[0].provider
    assert first.type is second.type is summary.type and first.category is second.category  # few distinct values
    assert Decoder().record(*encode(one), one.path).provider is not first.provider  # tables are per Decoder


def extended(**fields: tuple[type, object]) -> type:
    """Record with more fields (each optional), as if they had been added to the model."""
    return dataclasses.make_dataclass(
        "Record", [(name, tp, dataclasses.field(default=default)) for name, (tp, default) in fields.items()],
        bases=(Record,), frozen=True, slots=True,
    )


def test_a_field_added_to_the_model_is_carried_and_changes_the_format():
    model = extended(added_field=(str | None, None))
    layout = codec.layout(model)
    assert layout.format != codec.FORMAT
    record = model(**{f.name: getattr(full_record(), f.name) for f in dataclasses.fields(Record)}, added_field="added")
    summary_bytes, details = layout.encode(record)
    summary, decode = layout.decoders()
    assert decode(summary_bytes, details, record.path) == record
    assert summary(record.path, summary_bytes).url == record.url
    assert codec.layout().format == codec.FORMAT  # the same model gives the same stamp


@dataclasses.dataclass(frozen=True, slots=True)
class Provider2(Provider):
    country: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Record2(Record):
    provider: Provider2


@dataclasses.dataclass(frozen=True, slots=True)
class Summary2(Summary):
    provider: Provider2


def test_the_format_follows_nested_models_and_types():
    assert codec.layout(Record2, Summary2).format != codec.FORMAT
    assert codec.layout(extended(heat=(str | None, None))).format != codec.FORMAT  # same name, another type
    assert "Related(title: str, url: str, excerpt: str | None, published_at: datetime.datetime | None, provider: " \
           "Provider(name: str, domain: str, logo: str | None) | None)" in codec.describe(Record)


@dataclasses.dataclass(frozen=True, slots=True)
class Wider(Summary):
    added_field: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Mistyped(Summary):
    quality: str | None


def test_a_model_the_codec_cannot_carry_is_refused_at_import_naming_the_field():
    with pytest.raises(TypeError, match=r"^Record\.extra: the codec cannot carry dict "):
        codec.layout(extended(extra=(dict, None)))
    with pytest.raises(TypeError, match=r"^Record\.category: a shared field holds plain values"):
        codec.layout(extended(category=(tuple[str, ...], ())))
    with pytest.raises(TypeError, match=r"^Wider\.added_field: not a field of Record"):
        codec.layout(Record, Wider)
    with pytest.raises(TypeError, match=r"^Mistyped\.quality: .* the types must be the same"):
        codec.layout(Record, Mistyped)


def imported(module: str) -> list[str]:
    """The frfeeds modules a fresh process imports with ``module``."""
    probe = f"import sys, {module}; print(*sorted(m for m in sys.modules if m.startswith('frfeeds')))"
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()


def test_the_cache_stamp_holds_the_codec_format_and_the_codec_needs_no_cache():
    assert f"codec={codec.FORMAT} " in cache.stamp() and f"format={cache.FORMAT} " in cache.stamp()
    assert "frfeeds.read.codec" in imported("frfeeds.read.codec")
    assert "frfeeds.read.cache" not in imported("frfeeds.read.codec")
    # a rebuild in which nothing changed opens no cache: it imports neither the codec nor the model
    assert not {"frfeeds.read.codec", "frfeeds.records"} & set(imported("frfeeds.build"))
