"""records.record_from_mapping on mappings built here: required fields, each optional
field's conversion, dropped values reported as ``path: field: reason``, defaults."""

from __future__ import annotations

import datetime as dt

import pytest

from frfeeds.errors import RecordError
from frfeeds.records import MAX_IMAGES, Image, Provider, Record, Related, Topic, record_from_mapping

UTC = dt.timezone.utc
SHOWN = "records/a.md"  # the path reports name, as the user would open the file


def minimal(**fields) -> dict:
    """The fields a record needs, and any others given (None removes one)."""
    data = {"title": "A story", "webUrl": "https://example.com/a", "publishedDateTime": "2021-05-17T04:08:00Z"}
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def convert(data) -> tuple[Record, list[str], list[str]]:
    """The record, and the dropped and capped reports as the user reads them."""
    record, dropped, capped = record_from_mapping(data, "a.md", SHOWN)
    return record, [str(problem) for problem in dropped], [str(problem) for problem in capped]


def rejection(data) -> RecordError:
    with pytest.raises(RecordError) as caught:
        record_from_mapping(data, "a.md", SHOWN)
    return caught.value


def test_minimal_record_takes_every_default():
    record, dropped, capped = convert(minimal())
    assert record == Record(
        path="a.md", title="A story", url="https://example.com/a",
        published_at=dt.datetime(2021, 5, 17, 4, 8, tzinfo=UTC), provider=Provider("example.com", "example.com"),
    )
    assert (record.updated_at, record.excerpt, record.type, record.quality, record.featured_html) == (None,) * 5
    assert (record.is_published, record.is_removed, record.topics, record.images, record.related) == (
        True, False, (), (), ())
    assert record.updated == record.published_at
    assert dropped == capped == []


@pytest.mark.parametrize("data, field, reason", [
    (["a", "list"], "-", "front matter must be a mapping of fields, not a list"),
    ("text", "-", "front matter must be a mapping of fields, not text"),
    (minimal(title=None), "title", "is missing"),
    (minimal(title="  <b></b> "), "title", "is empty"),
    (minimal(title=["x"]), "title", "must be text, not a list"),
    (minimal(publishedDateTime=None), "publishedDateTime", "is missing"),
    (minimal(publishedDateTime="May 2021"), "publishedDateTime",
     "is not a whole date (year, month and day): 'May 2021'"),
    (minimal(publishedDateTime="soon"), "publishedDateTime", "is not a date: 'soon'"),
    (minimal(webUrl=None), "webUrl", "is missing, and there is no originalUrl to link to instead"),
    (minimal(webUrl=""), "webUrl", "is empty, and there is no originalUrl to link to instead"),
    (minimal(webUrl="/relative/a"), "webUrl", "must be an absolute http(s) URL, not '/relative/a'"),
    (minimal(webUrl=None, originalUrl="ftp://example.com/a"), "originalUrl",
     "must be an absolute http(s) URL, not 'ftp://example.com/a'"),
    (minimal(published="maybe"), "published", "must be true or false, not 'maybe'"),
    (minimal(removed=1), "removed", "must be true or false, not 1"),
])
def test_an_unusable_record_is_rejected_naming_file_field_and_reason(data, field, reason):
    error = rejection(data)
    assert (error.path, error.field) == (SHOWN, field)
    if reason is not None:
        assert error.reason == reason
    assert str(error) == f"{SHOWN}: {field}: {error.reason}"


def test_without_web_url_the_original_url_is_the_link():
    record, dropped, _ = convert(minimal(webUrl=None, originalUrl="https://www.YouTube.com/watch?v=x"))
    assert record.url == record.original_url == "https://www.YouTube.com/watch?v=x"
    assert record.provider == Provider("youtube.com", "youtube.com") and dropped == []


def test_each_optional_field_is_converted():
    record, dropped, _ = convert(minimal(
        updatedDateTime="2021-05-18 10:00+02:00", excerpt="The country’s <i>best</i> &amp; worst",
        originalUrl="https://例え.jp/ニュース", ampWebUrl="https://example.com/amp/a b",
        cdnAmpWebUrl="https://cdn.example.com/c/s/a", type=" video ", category="news", quality="42", heat=-3,
        published="False", removed="true",
    ))
    assert record.updated_at == dt.datetime(2021, 5, 18, 8, 0, tzinfo=UTC)  # to UTC
    assert record.excerpt == "The country’s best & worst"  # plain text, mojibake repaired
    assert record.original_url == "https://xn--r8jz45g.jp/%E3%83%8B%E3%83%A5%E3%83%BC%E3%82%B9"
    assert record.amp_url == "https://example.com/amp/a%20b"
    assert record.cdn_amp_url == "https://cdn.example.com/c/s/a"
    assert (record.type, record.category, record.quality, record.heat) == ("video", "news", 42, -3)
    assert (record.is_published, record.is_removed) == (False, True)
    assert dropped == []


def test_dates_without_a_zone_are_utc_and_yaml_dates_are_taken():
    record, _, _ = convert(minimal(publishedDateTime=dt.date(2021, 5, 17), updatedDateTime=dt.datetime(2021, 5, 18, 9)))
    assert record.published_at == dt.datetime(2021, 5, 17, tzinfo=UTC)
    assert record.updated_at == dt.datetime(2021, 5, 18, 9, tzinfo=UTC)


def test_a_bad_optional_value_is_dropped_and_reported_the_record_kept():
    record, dropped, capped = convert(minimal(
        ampWebUrl="javascript:alert(1)", updatedDateTime="never", quality=True, heat="hot", excerpt="<br>",
        cdnAmpWebUrl=["https://cdn.example.com/a"],
    ))
    assert (record.amp_url, record.updated_at, record.quality, record.heat, record.excerpt,
            record.cdn_amp_url) == (None,) * 6
    assert sorted(dropped) == sorted([
        f"{SHOWN}: ampWebUrl: must be an absolute http(s) URL, not 'javascript:alert(1)'; left out",
        f"{SHOWN}: updatedDateTime: is not a date: 'never'; left out",
        f"{SHOWN}: quality: must be a whole number, not true/false; left out",
        f"{SHOWN}: heat: must be a whole number, not text; left out",
        f"{SHOWN}: excerpt: is empty; left out",
        f"{SHOWN}: cdnAmpWebUrl: must be a URL, not a list; left out",
    ])
    assert capped == []


def test_empty_optional_values_are_absent_not_dropped():
    record, dropped, _ = convert(minimal(excerpt="", ampWebUrl="", updatedDateTime=None, images=None, topics=None))
    assert (record.excerpt, record.amp_url, record.topics, record.images) == (None, None, (), ())
    assert dropped == []


def test_provider_from_its_fields_else_from_the_link_host():
    record, dropped, _ = convert(minimal(provider={"name": "<b>CBS</b> News", "domain": "https://WWW.CBSNews.com/x"}))
    assert record.provider == Provider("CBS News", "cbsnews.com") and dropped == []
    record, _, _ = convert(minimal(webUrl="https://www.News.Example.org/x", provider={"name": "News"}))
    assert record.provider == Provider("News", "news.example.org")
    record, dropped, _ = convert(minimal(provider={"name": "", "domain": "not a host"}))
    assert record.provider == Provider("example.com", "example.com")
    assert dropped == [f"{SHOWN}: provider.domain: is not a valid host name; left out"]
    record, dropped, _ = convert(minimal(provider="CBS"))
    assert record.provider == Provider("example.com", "example.com")
    assert dropped == [f"{SHOWN}: provider: must be a mapping, not text; left out"]


def test_topics_slugged_merged_reserved_and_bad_ones_dropped():
    record, dropped, _ = convert(minimal(topics=["Computer Vision", "A.I.", "ai", "All", "Künstliche KI", "!!", 7,
                                                 None]))
    assert record.topics == (Topic("computer-vision", "Computer Vision"), Topic("ai", "A.I."),
                             Topic("all-topic", "All"), Topic("kunstliche-ki", "Künstliche KI"), Topic("7", "7"))
    assert dropped == [f"{SHOWN}: topics[5]: '!!' has no letters or digits to name a feed; left out",
                       f"{SHOWN}: topics[7]: must be text, not empty; left out"]
    record, dropped, _ = convert(minimal(topics="AI"))  # one topic written without a list
    assert record.topics == (Topic("ai", "AI"),) and dropped == []
    record, dropped, _ = convert(minimal(topics={"AI": 1}))
    assert record.topics == () and dropped == [f"{SHOWN}: topics: must be a list, not a mapping; left out"]


def test_images_each_converted_bad_items_left_out_with_their_index():
    record, dropped, capped = convert(minimal(images=[
        {"url": "https://img.example.com/1.jpg", "width": 1200, "height": "630", "title": "Lead"},
        {"url": "/relative.jpg"},
        {"url": "https://img.example.com/3.jpg", "width": -5, "height": True},
        "https://img.example.com/4.jpg",
    ]))
    assert record.images == (Image("https://img.example.com/1.jpg", 1200, 630, "Lead"), Image("https://img.example.com/3.jpg"))
    assert dropped == [
        f"{SHOWN}: images[1].url: must be an absolute http(s) URL, not '/relative.jpg'; item left out",
        f"{SHOWN}: images[2].width: must be a positive size in pixels, not -5; left out",
        f"{SHOWN}: images[2].height: must be a whole number, not true/false; left out",
        f"{SHOWN}: images[3]: must be a mapping, not text; left out",
    ]
    assert capped == []


@pytest.mark.parametrize("count", [MAX_IMAGES, MAX_IMAGES + 1, MAX_IMAGES + 5])
def test_a_list_over_its_cap_is_cut_and_noted_apart(count):
    many = [{"url": f"https://img.example.com/{n}.jpg"} for n in range(count)]
    record, dropped, capped = convert(minimal(images=many))
    assert len(record.images) == MAX_IMAGES and record.images[-1].url.endswith(f"/{MAX_IMAGES - 1}.jpg")
    assert dropped == []
    expected = [f"{SHOWN}: images: has {count} items; only the first {MAX_IMAGES} kept"]
    assert capped == (expected if count > MAX_IMAGES else [])


def test_related_items_linked_dated_and_attributed():
    record, dropped, _ = convert(minimal(related=[
        {"title": "Full", "webUrl": "https://explainer.example.com/t", "excerpt": "Why",
         "publishedDateTime": "2021-05-16",
         "provider": {"name": "Explainer", "domain": "explainer.example.com"}},
        {"title": "Wire", "originalUrl": "https://wire.example.net/r"},
        {"title": "Not a link", "webUrl": "javascript:x()"},
        {"webUrl": "https://example.com/untitled"},
        {"title": "Bad date", "webUrl": "https://example.com/d", "publishedDateTime": "soon"},
    ]))
    assert record.related == (
        Related("Full", "https://explainer.example.com/t", "Why", dt.datetime(2021, 5, 16, tzinfo=UTC),
                Provider("Explainer", "explainer.example.com")),
        Related("Wire", "https://wire.example.net/r", provider=Provider("wire.example.net", "wire.example.net")),
        Related("Bad date", "https://example.com/d", provider=Provider("example.com", "example.com")),
    )
    assert dropped == [
        f"{SHOWN}: related[2].webUrl: must be an absolute http(s) URL, not 'javascript:x()'; item left out",
        f"{SHOWN}: related[3].title: is missing; item left out",
        f"{SHOWN}: related[4].publishedDateTime: is not a date: 'soon'; left out",
    ]


def test_featured_content_sanitised_players_kept_others_reported():
    html = ('<p onclick="x()">Watch</p><script>alert(1)</script>'
            '<iframe src="https://www.youtube.com/embed/abc"></iframe><iframe src="https://evil.example.net/p"></iframe>')
    record, dropped, _ = convert(minimal(featuredContent=html))
    assert "script" not in record.featured_html and "onclick" not in record.featured_html
    assert "evil.example.net" not in record.featured_html
    assert record.embeds == ("https://www.youtube.com/embed/abc",)
    assert dropped == [f"{SHOWN}: featuredContent: iframe from evil.example.net left out "
                       "(only https players of YouTube and Vimeo are embedded)"]
    record, dropped, _ = convert(minimal(featuredContent=""))
    assert (record.featured_html, record.embeds, dropped) == (None, (), [])


def test_unknown_keys_and_secured_are_ignored():
    assert convert(minimal(secured="s3cr3t", somethingNew={"a": 1}))[0] == convert(minimal())[0]
