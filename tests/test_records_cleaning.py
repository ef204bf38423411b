"""Text with HTML, '&', '<', control characters or mojibake comes out as correct, escaped,
XML-valid plain text (tags of HTML elements and entities decoded once, in cleaning);
bad optional values are dropped and reported, the record kept."""

import json

import feedparser
import pytest
from helpers import build, check_tree_valid, record_text, tree, write_record

from frfeeds.clean import clean_date, clean_host, clean_text, clean_url, slugify

NASTY_TITLE = 'Tom & Jerry <script>alert("x")</script> <Rust> ]]> \x01\x0b\x1f caf\u00c3\u00a9 \ufffe end'
NASTY_EXCERPT = "The countryâ€™s <b>biggest</b> &amp; best\x00 — 5 < 6 > 4"
# the script element and <b> are HTML (removed), "<Rust>" only looks like a tag (kept)
CLEAN_TITLE = "Tom & Jerry <Rust> ]]> café end"
CLEAN_EXCERPT = "The country’s biggest & best — 5 < 6 > 4"


@pytest.fixture
def nasty_tree(tmp_path):
    records = tmp_path / "records"
    extra = (f"excerpt: {json.dumps(NASTY_EXCERPT)}\n"
             f"provider:\n  name: {json.dumps('<i>Evil</i> & Co')}\n  domain: evil.example")
    text = record_text(title=NASTY_TITLE, url="https://example.com/a?x=1&y=2", extra="", topics=("AI & <ML>",))
    text = text.replace("provider:\n  name: Example\n  domain: example.com\n", "")
    text = text.replace("---\n", "", 1)
    write_record(records, "nasty.md", "---\n" + extra + "\n" + text)
    out = tmp_path / "out"
    assert build(out, "--records", str(records), "--strict") == 0
    return out


def test_nasty_text_is_escaped_and_valid(nasty_tree, atom_schema, json_feed_validator):
    check_tree_valid(nasty_tree, atom_schema, json_feed_validator)
    files = tree(nasty_tree)
    for path, data in files.items():
        if not path.endswith(".json"):  # JSON titles are plain text; markup is only in XML/HTML
            assert b"<script>" not in data, path
        assert b"\x01" not in data and b"\x0b" not in data and b"\\u0001" not in data, path


@pytest.mark.parametrize("ext", ["atom", "rss"])
def test_nasty_text_reads_back_exactly_in_xml_feeds(nasty_tree, ext):
    parsed = feedparser.parse(tree(nasty_tree)[f"feeds/all.{ext}"])
    entry = parsed.entries[0]
    assert entry.title == CLEAN_TITLE
    assert entry.link == "https://example.com/a?x=1&y=2"
    if ext == "atom":  # feedparser sanitizes RSS descriptions as HTML; Atom summary is text
        assert entry.summary == CLEAN_EXCERPT
    assert entry.author == "Evil & Co"


def test_nasty_text_reads_back_exactly_in_json_feed(nasty_tree):
    item = json.loads(tree(nasty_tree)["feeds/all.json"])["items"][0]
    assert item["title"] == CLEAN_TITLE
    assert item["summary"] == CLEAN_EXCERPT
    assert item["tags"] == ["AI & <ML>"]
    assert "<p>The country’s biggest &amp; best — 5 &lt; 6 &gt; 4</p>" in item["content_html"]
    assert "<b>" not in item["content_html"] and "&lt;Rust&gt;" not in item["content_html"]  # title not in content
    assert ">Evil &amp; Co</a>" in item["content_html"]


def test_topic_with_markup_gets_a_plain_slug(nasty_tree):
    assert "feeds/ai-and-ml.atom" in tree(nasty_tree)
    assert "feeds/providers/evil.example.atom" in tree(nasty_tree)


BAD_OPTIONAL = """
ampWebUrl: "javascript:alert(1)"
cdnAmpWebUrl: "//cdn.example.com/relative"
originalUrl: "data:text/html,hi"
updatedDateTime: "someday"
quality: "high"
images:
  - url: "/assets/relative.jpg"
    width: 10
  - url: "https://img.example.com/ok.jpg"
    width: "wide"
    height: 300
  - "not a mapping"
related:
  - title: "Bad related"
    webUrl: "ftp://example.com/file"
  - title: "Good related"
    webUrl: "https://other.example/good"
  - webUrl: "https://other.example/no-title"
"""


def test_bad_optional_values_are_dropped_and_reported(tmp_path, capsys):
    records = tmp_path / "records"
    path = write_record(records, "r.md", record_text(extra=BAD_OPTIONAL))
    out = tmp_path / "out"
    assert build(out, "--records", str(records)) == 0
    err = capsys.readouterr().err
    for field in (
        "ampWebUrl", "cdnAmpWebUrl", "originalUrl", "updatedDateTime", "quality",
        "images[0].url", "images[1].width", "images[2]", "related[0].webUrl", "related[2].title",
    ):
        assert f"{path}: {field}: " in err, field
    files = tree(out)
    joined = b"".join(files.values())
    for bad in (b"javascript:", b"data:text", b"relative", b"ftp://", b"No title"):
        assert bad not in joined
    item = json.loads(files["feeds/all.json"])["items"][0]
    assert item["image"] == "https://img.example.com/ok.jpg"
    assert "_amp" not in item
    assert 'href="https://other.example/good"' in item["content_html"]
    assert build(out, "--records", str(records), "--strict") == 1


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("2021-05-17T04:08:00Z", "2021-05-17T04:08:00+00:00"),
        ("2021-05-17T06:08:00+02:00", "2021-05-17T04:08:00+00:00"),
        ("2021-05-17 04:08", "2021-05-17T04:08:00+00:00"),  # no zone: UTC
        ("May 17, 2021 4:08 AM", "2021-05-17T04:08:00+00:00"),
        ("2021-05-17", "2021-05-17T00:00:00+00:00"),
    ],
)
def test_dates_become_utc(raw, expected):
    assert clean_date(raw).isoformat() == expected


@pytest.mark.parametrize("raw", ["17", "May", "tomorrow", "", "2021-13-45", 2021, None, [2021]])
def test_incomplete_or_bad_dates_are_refused(raw):
    with pytest.raises(ValueError):
        clean_date(raw)


@pytest.mark.parametrize(
    "topic, slug",
    [
        ("AI", "ai"), ("ai", "ai"), ("A.I.", "ai"), ("Computer Vision", "computer-vision"),
        ("Künstliche Intelligenz", "kunstliche-intelligenz"), ("C++", "c-plus-plus"),
        ("  Internet of Things!! ", "internet-of-things"), ("Ñandú's world", "nandus-world"),
        ("東京", "dongjing"), ("!!!", ""),
    ],
)
def test_slugs_are_lowercase_ascii_words(topic, slug):
    assert slugify(topic) == slug


@pytest.mark.parametrize(
    "raw, host",
    [("www.CBSNews.com", "cbsnews.com"), ("cbsnews.com.", "cbsnews.com"), ("https://www.bbc.co.uk/news", "bbc.co.uk"),
     ("bücher.de", "xn--bcher-kva.de")],
)
def test_provider_domains_are_normalised(raw, host):
    assert clean_host(raw) == host


@pytest.mark.parametrize("raw", ["../../etc", "a/b", "", "exa mple.com", "-bad-.com", 42])
def test_provider_domains_that_are_not_hosts_are_refused(raw):
    with pytest.raises(ValueError):
        clean_host(raw)


@pytest.mark.parametrize("raw", ["javascript:alert(1)", "mailto:a@b.c", "https://", "http://a b.com/", "//x.com/a", "https://x.com:99999/"])
def test_urls_must_be_absolute_http(raw):
    with pytest.raises(ValueError):
        clean_url(raw)


def test_text_keeps_what_is_already_right():
    assert clean_text("“Curly” quotes, ﬁ ligature, ＡＩ width") == "“Curly” quotes, ﬁ ligature, ＡＩ width"
    assert clean_text(1984) == "1984"
    with pytest.raises(ValueError):
        clean_text(True)
