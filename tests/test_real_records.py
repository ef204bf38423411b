"""The real corpus (../shared/corpus/records): every record is in the feeds or reported
with a reason a person agrees with; no video is lost; every feed is valid everywhere."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from feedchecks import check_feeds_uris_and_text
from helpers import check_tree_valid, run_cli, shared_path, tree

from frfeeds.read.loader import load_records

#: Builds the whole real corpus (module fixtures).
pytestmark = pytest.mark.slow

CAPS = {"related": 50, "images": 20, "topics": 50}


@pytest.fixture(scope="module")
def corpus():
    """path -> the record's front matter, read by PyYAML (not by frfeeds)."""
    records = shared_path("corpus", "records")
    data = {}
    for path in sorted(records.glob("*.md")):
        front = path.read_text(encoding="utf-8-sig").split("\n---", 1)[0].lstrip("-\n")
        data[path] = yaml.safe_load(front)
    assert len(data) == 981
    return records, data


@pytest.fixture(scope="module")
def built(corpus, tmp_path_factory):
    """The corpus built with every published-or-not story (--limit: all of them in all.*)."""
    records, _ = corpus
    out = tmp_path_factory.mktemp("real") / "out"
    result = run_cli("build", str(out), "--records", str(records), "--include-unpublished", "--limit", "10000",
                     env={"FRFEEDS_CACHE": "off"})
    assert result.returncode == 0, result.stderr
    return out, result


def unusable(data) -> bool:
    """What no feed can show: no title, no date, or nothing to link to."""
    def given(key):
        return data.get(key) not in (None, "")
    return not (isinstance(data, dict) and given("title") and given("publishedDateTime")
                and (given("webUrl") or given("originalUrl")))


def test_rejected_records_are_exactly_the_unusable_ones(corpus, built):
    records, data = corpus
    loaded = load_records(records)
    rejected = {problem.path for problem in loaded.rejected}
    assert rejected == {str(path) for path, front in data.items() if unusable(front)}
    assert len(rejected) == 0  # the 37 videos and the 3 URLs with spaces were the 40 rejected before
    summary = built[1].stdout.strip().splitlines()[-1]
    assert "rejected 0," in summary, summary


def test_no_video_is_lost(corpus, built):
    _, data = corpus
    out, _ = built
    items = json.loads(tree(out)["feeds/all.json"])["items"]
    videos = [item for item in items if item.get("_frfeeds", {}).get("type") == "video"]
    expected = [front for front in data.values() if front.get("type") == "video"]
    assert len(expected) == 37 and len(videos) == 37
    for item in videos:
        assert re.fullmatch(r"https://youtube\.com/watch\?v=[\w-]+", item["id"]) and item["url"] == item["id"]
        assert "video" in item["tags"]
        assert '<iframe ' in item["content_html"] and "Watch the video on youtube.com" in item["content_html"]


def test_every_story_but_removed_and_merged_ones_is_published(corpus, built):
    _, data = corpus
    out, result = built
    removed = [path for path, front in data.items() if front.get("removed") is True]
    assert len(removed) == 3
    items = json.loads(tree(out)["feeds/all.json"])["items"]
    assert len(items) == len(data) - len(removed) - 1  # one story is in the corpus twice
    summary = result.stdout.strip().splitlines()[-1]
    assert "left out 0 unpublished (published: false) and 3 removed (removed: true), merged 1 duplicates" in summary
    joined = b"".join(tree(out).values())
    for path in removed:  # no trace of them
        assert data[path]["webUrl"].encode() not in joined, path


def lookup(front, field: str):
    """The value a report's field names: ``related[3].webUrl`` -> front["related"][3]["webUrl"]."""
    value = front
    for key, index in re.findall(r"([^.\[\]]+)(?:\[(\d+)\])?", field):
        value = value.get(key)
        if index:
            value = value[int(index)]
    return value


def test_reports_are_problems_an_editor_can_fix(corpus, built):
    records, data = corpus
    _, result = built
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    summary = result.stdout.strip().splitlines()[-1]
    dropped = int(re.search(r"values dropped (\d+),", summary)[1])
    assert len(lines) == dropped
    for line in lines:
        path, field, reason = line.split(": ", 2)
        assert "only the first" not in reason  # design caps are counted, not reported
        front = data[records / path.rsplit("/", 1)[1]]
        assert lookup(front, field) in (None, ""), line  # every one names a value that really is empty
        assert reason in ("must be text, not empty; left out",
                          "is empty, and there is no originalUrl to link to instead; item left out"), line
    cut = sum(len(front.get(key) or []) > cap for front in data.values() for key, cap in CAPS.items())
    assert cut > 0 and f"long lists cut {cut} " in summary, summary


def test_every_feed_is_valid_everywhere(built, atom_schema, json_feed_validator):
    out, _ = built
    counts = check_tree_valid(out, atom_schema, json_feed_validator)  # jing, feedparser, strict JSON schema, OPML
    assert counts["atom"] == counts["rss"] == counts["json"] > 100
    assert check_feeds_uris_and_text(tree(out)) > 10_000


def test_corpus_urls_that_were_not_uris_become_uris(built):
    out, _ = built
    ids = {item["id"] for item in json.loads(tree(out)["feeds/all.json"])["items"]}
    # mojibake repaired, then percent-encoded; spaces encoded; curly quotes encoded
    assert ("https://www.msn.com/en-us/entertainment/gaming/"
            "best-diablo-4-settings-%E2%80%93-how-to-stop-diablo-4-killing-gpu/ar-AA192BEE") in ids
    assert "https://apnews.com/Business%20Wire/f12e6fa95a464ab0b5f0fb9b4b6db46c" in ids
    assert any("hcl-technologies-earns-%E2%80%98sap-on-microsoft-azure-advanced-specialization%E2%80%99" in i
               for i in ids)
