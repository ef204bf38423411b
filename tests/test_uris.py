"""URLs become URIs on the way out (RFC 3987 section 3.1), the same in every format and
every place: ids, links, guids, JSON id/url, images, related, AMP, originalUrl."""

from __future__ import annotations

import json

import feedparser
import pytest
from feedchecks import check_feeds_uris_and_text
from helpers import build, check_tree_valid, record_text, tree, write_record
from hypothesis import given, settings
from hypothesis import strategies as st
from rfc3986_validator import validate_rfc3986

from frfeeds.clean import clean_url

# (as a record writes it, as every feed must emit it)
CASES = {
    "pokemon": ("https://example.com/pokémon/naïve café", "https://example.com/pok%C3%A9mon/na%C3%AFve%20caf%C3%A9"),
    "space": ("https://apnews.com/Business Wire/f12e6f", "https://apnews.com/Business%20Wire/f12e6f"),
    "unicode-host": ("https://例え.jp/ニュース?q=ü", "https://xn--r8jz45g.jp/%E3%83%8B%E3%83%A5%E3%83%BC%E3%82%B9?q=%C3%BC"),
    "mojibake": ("https://www.msn.com/best-settings-â€“-how-to/ar-AA1", "https://www.msn.com/best-settings-%E2%80%93-how-to/ar-AA1"),
    "kept-escapes": ("https://example.com/a%20b/%E2%80%93?x=[1]&y={2}|%zz",
                     "https://example.com/a%20b/%E2%80%93?x=%5B1%5D&y=%7B2%7D%7C%25zz"),
}


@pytest.mark.parametrize("raw, uri", CASES.values(), ids=CASES.keys())
def test_clean_url_gives_the_uri(raw, uri):
    assert clean_url(raw) == uri
    assert validate_rfc3986(uri)
    assert clean_url(uri) == uri  # a URI stays as it is


@pytest.mark.parametrize("raw", ["javascript:alert(1)", "https://exa\x00mple.com/", "https://ex ample.com/", "https://例え..jp/",
                                 "ftp://例え.jp/", "//例え.jp/", "https://[zz::1]/", "https://x.com:65536/",
                                 "https:/x.com",
                                 "https://example.com\\@evil.com/"])  # a browser would open example.com
def test_what_cannot_be_an_http_uri_is_refused(raw):
    with pytest.raises(ValueError):
        clean_url(raw)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=40).map(lambda tail: "https://example.com/" + tail)
       | st.text(max_size=10).map(lambda host: f"http://{host}.example/x"))
def test_every_url_clean_url_accepts_is_a_valid_uri(url):
    try:
        uri = clean_url(url)
    except ValueError:
        return
    assert validate_rfc3986(uri) and uri.isascii(), (url, uri)


@pytest.fixture(scope="module")
def iri_tree(tmp_path_factory):
    """One record per case: the case's URL as webUrl, and in every other URL field."""
    root = tmp_path_factory.mktemp("iris")
    records = root / "records"
    for name, (raw, _) in CASES.items():
        extra = "\n".join([
            f"originalUrl: {json.dumps(raw + '/original')}",
            f"ampWebUrl: {json.dumps(raw + '/amp')}",
            f"cdnAmpWebUrl: {json.dumps(raw + '/cdn')}",
            "images:", f"  - url: {json.dumps(raw + '.jpg')}", "    width: 10", "    height: 10",
            "related:", f"  - title: Related {name}", f"    webUrl: {json.dumps(raw + '/related')}",
            f"excerpt: {json.dumps('What&#8217;s next for AT&T &amp; <b>friends</b>: a < b')}",
        ])
        title = f"We&#8217;re <b>{name}</b> &amp; AT&T"
        write_record(records, f"{name}.md", record_text(title=title, url=raw, extra=extra))
    out = root / "out"
    assert build(out, "--records", str(records), "--strict") == 0
    return tree(out)


def test_every_place_emits_the_uri(iri_tree):
    item_by_id = {item["id"]: item for item in json.loads(iri_tree["feeds/all.json"])["items"]}
    atom = feedparser.parse(iri_tree["feeds/all.atom"])
    rss = feedparser.parse(iri_tree["feeds/all.rss"])
    assert not atom.bozo and not rss.bozo
    atom_by_id = {entry.id: entry for entry in atom.entries}
    rss_by_id = {entry.id: entry for entry in rss.entries}
    for name, (raw, uri) in CASES.items():
        item = item_by_id[uri]
        assert item["url"] == uri and item["external_url"] == uri + "/original"
        assert item["image"] == uri + ".jpg"
        assert item["_amp"] == {"url": uri + "/amp", "cdn_url": uri + "/cdn"}
        assert f'href="{uri}/related"'.replace("&", "&amp;") in item["content_html"]
        links = {(link.rel, link.href) for link in atom_by_id[uri].links}
        assert {("alternate", uri), ("via", uri + "/original"), ("amphtml", uri + "/amp"),
                ("related", uri + "/related")} <= links
        assert atom_by_id[uri].media_thumbnail[0]["url"] == uri + ".jpg"
        assert rss_by_id[uri].link == uri
        for data in iri_tree.values():  # the raw form never goes out
            if not raw.isascii() or " " in raw:
                assert raw.encode() not in data, name


def test_entities_and_tags_in_text_come_out_as_text(iri_tree):
    item = json.loads(iri_tree["feeds/all.json"])["items"][0]
    assert item["title"].startswith("We’re ") and item["title"].endswith(" & AT&T")
    assert item["summary"] == "What’s next for AT&T & friends: a < b"
    rss = iri_tree["feeds/all.rss"].decode()
    # the RSS description is HTML: its text escaped for HTML, then for XML
    assert "<description>What’s next for AT&amp;amp;T &amp;amp; friends: a &amp;lt; b</description>" in rss
    atom = iri_tree["feeds/all.atom"].decode()
    assert "<summary>What’s next for AT&amp;T &amp; friends: a &lt; b</summary>" in atom
    for data in iri_tree.values():
        assert b"&#8217;" not in data and b"&amp;#8217;" not in data and b"<b>" not in data


def test_iri_tree_is_valid_everywhere(iri_tree, tmp_path, atom_schema, json_feed_validator):
    out = tmp_path / "copy"
    for path, data in iri_tree.items():
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        (out / path).write_bytes(data)
    check_tree_valid(out, atom_schema, json_feed_validator)
    assert check_feeds_uris_and_text(iri_tree) > 50
