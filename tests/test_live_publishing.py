"""Issue 16, the parts that need no server: implausible dates, feed titles that name
the site, RSS descriptions that stay summaries, scheduled stories in a build, the hub
links in every format. (The real hub and gunicorn: test_websub.py.)"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
import pytest

from feedchecks import check_feeds_uris_and_text
from helpers import build, check_tree_valid, record_text, tree, write_record


def test_a_date_before_1991_is_reported_as_a_likely_typo(tmp_path, capsys):
    records = tmp_path / "records"
    old = write_record(records, "old.md", record_text(url="https://example.com/old", date="1900-01-01T00:00:00Z"))
    touched = write_record(records, "touched.md", record_text(url="https://example.com/touched",
                                                               extra="updatedDateTime: 1985-05-05"))
    write_record(records, "fine.md", record_text(url="https://example.com/fine"))
    out = tmp_path / "out"
    assert build(out, "--records", str(records)) == 0
    said = capsys.readouterr()
    err = said.err
    # a bad publication date rejects the record, as any bad required value does: its
    # place in every feed depends on it
    assert f"{old}: publishedDateTime: 1900-01-01T00:00:00Z is before 1991, likely a typo\n" in err
    # a bad update date is left out: the publication date stands for it
    assert f"{touched}: updatedDateTime: 1985-05-05T00:00:00Z is before 1991, likely a typo; left out\n" in err
    assert "rejected 1," in said.out and "values dropped 1," in said.out
    urls = [item["url"] for item in json.loads(tree(out)["feeds/all.json"])["items"]]
    assert urls == ["https://example.com/fine", "https://example.com/touched"]
    assert b"1985" not in tree(out)["feeds/all.atom"]
    # the same from the parse cache (the verdict is stored), and --strict fails on it
    assert build(out, "--records", str(records), "--strict") == 1
    assert f"{old}: publishedDateTime: 1900-01-01T00:00:00Z is before 1991" in capsys.readouterr().err


def test_1991_itself_is_plausible(tmp_path, capsys):
    records = tmp_path / "records"
    write_record(records, "r.md", record_text(date="1991-01-01T00:00:00Z"))
    assert build(tmp_path / "out", "--records", str(records), "--strict") == 0


CONTENT = "http://purl.org/rss/1.0/modules/content/"
VIDEO = """featuredContent: '<p>Watch:</p><iframe src="https://www.youtube.com/embed/abc123XYZ_-" width="560" height="315"></iframe>'
type: video"""


def test_rss_description_of_a_video_without_excerpt_is_no_player(tmp_path, atom_schema, json_feed_validator):
    records = tmp_path / "records"
    write_record(records, "video.md", record_text(title="Robots & laundry", extra=VIDEO))
    out = tmp_path / "out"
    assert build(out, "--records", str(records)) == 0
    rss = feedparser.parse(tree(out)["feeds/all.rss"])
    assert not rss.bozo
    item = rss.entries[0]
    assert item.summary == "Robots &amp; laundry"  # the title as text (RSS description is HTML)
    assert "youtube.com/embed/abc123XYZ_-" in item.content[0].value  # content:encoded (feedparser drops iframes)
    element = ET.fromstring(tree(out)["feeds/all.rss"]).find("channel/item")
    assert element.findtext("description") == "Robots &amp; laundry"  # HTML of the text, as excerpts are
    assert '<iframe src="https://www.youtube.com/embed/abc123XYZ_-"' in element.findtext(f"{{{CONTENT}}}encoded")
    check_tree_valid(out, atom_schema, json_feed_validator)
    assert check_feeds_uris_and_text(tree(out)) > 0  # the suite's W3C rules: plain-text descriptions


def test_feed_titles_name_the_site_when_it_has_a_title(tmp_path, monkeypatch):
    records = tmp_path / "records"
    write_record(records, "r.md", record_text())
    plain, named, chosen = tmp_path / "plain", tmp_path / "named", tmp_path / "chosen"
    assert build(plain, "--records", str(records)) == 0
    monkeypatch.setenv("FRFEEDS_SITE_TITLE", "Example News")
    assert build(named, "--records", str(records)) == 0
    monkeypatch.setenv("FRFEEDS_SITE_FEED_TITLE", "{feed}")  # set: as it says, even with a site title
    assert build(chosen, "--records", str(records)) == 0
    for out, title in ((plain, "AI"), (named, "AI · Example News"), (chosen, "AI")):
        files = tree(out)
        assert feedparser.parse(files["feeds/ai.atom"]).feed.title == title
        assert feedparser.parse(files["feeds/ai.rss"]).feed.title == title
        assert json.loads(files["feeds/ai.json"])["title"] == title
    assert json.loads(tree(named)["feeds/all.json"])["title"] == "All news · Example News"
