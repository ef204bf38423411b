"""removed, design caps and language (the codec carrying every field: test_codec.py)."""

from __future__ import annotations

import json
import os
import re
import time

import feedparser
import pytest
from helpers import SEEDS, build, record_text, run_cli, tree, write_record

from frfeeds.read.cache import ParseCache
from frfeeds.read.loader import load_records
from frfeeds.records import MAX_IMAGES, MAX_RELATED, MAX_TOPICS


def items(out):
    return json.loads(tree(out)["feeds/all.json"])["items"]


def test_removed_is_left_out_always_and_counted(tmp_path, capsys):
    records = tmp_path / "records"
    write_record(records, "a.md", record_text(url="https://example.com/a"))
    write_record(records, "b.md", record_text(url="https://example.com/b", extra="removed: true"))
    write_record(records, "c.md", record_text(url="https://example.com/c", extra="removed: true\npublished: false"))
    write_record(records, "d.md", record_text(url="https://example.com/d", extra="published: false"))
    write_record(records, "e.md", record_text(url="https://example.com/e", extra="removed: false"))
    out = tmp_path / "out"
    for flags, expected, counts in (
        ((), ["a", "e"], "left out 1 unpublished (published: false) and 2 removed (removed: true)"),
        (("--include-unpublished",), ["a", "d", "e"],
         "left out 0 unpublished (published: false) and 2 removed (removed: true)"),
    ):
        assert build(out, "--records", str(records), *flags) == 0
        assert [item["id"] for item in items(out)] == [f"https://example.com/{name}" for name in expected]
        assert counts in capsys.readouterr().out
    joined = b"".join(tree(out).values())
    assert b"example.com/b" not in joined and b"example.com/c" not in joined


def test_newer_removed_copy_withdraws_a_story(tmp_path):
    records = tmp_path / "records"
    url = "https://example.com/withdrawn"
    write_record(records, "v1.md", record_text(url=url))
    write_record(records, "v2.md", record_text(url=url, extra="updatedDateTime: 2021-06-01T00:00:00Z\nremoved: true"))
    write_record(records, "other.md", record_text(url="https://example.com/other"))
    out = tmp_path / "out"
    assert build(out, "--records", str(records), "--include-unpublished") == 0
    assert [item["id"] for item in items(out)] == ["https://example.com/other"]


def test_bad_removed_value_is_reported(tmp_path, capsys):
    records = tmp_path / "records"
    path = write_record(records, "a.md", record_text(extra='removed: "maybe"'))
    assert build(tmp_path / "out", "--records", str(records)) == 0
    assert f"{path}: removed: must be true or false, not 'maybe'" in capsys.readouterr().err


def long_lists(related: int, images: int, topics: int) -> str:
    lines = ["related:"]
    for index in range(related):
        lines += [f"  - title: Related {index}", f"    webUrl: https://example.org/r{index}"]
    lines.append("images:")
    lines += [f"  - url: https://img.example.org/{index}.jpg" for index in range(images)]
    return "\n".join(lines), tuple(f"Topic {index}" for index in range(topics))


def test_design_caps_are_counted_once_not_reported(tmp_path, capsys):
    records = tmp_path / "records"
    extra, topics = long_lists(91, 25, 60)
    write_record(records, "long.md", record_text(url="https://example.com/long", extra=extra, topics=topics))
    extra, topics = long_lists(51, 3, 1)
    write_record(records, "longer.md", record_text(url="https://example.com/longer", extra=extra, topics=topics))
    out = tmp_path / "out"
    assert build(out, "--records", str(records), "--strict") == 0  # a cap is not a problem
    captured = capsys.readouterr()
    assert captured.err == ""
    assert MAX_RELATED == MAX_TOPICS  # as the summary line says
    assert (f"values dropped 0, long lists cut 4 (related and topics to {MAX_RELATED} items, "
            f"images to {MAX_IMAGES})") in captured.out
    item = {i["id"]: i for i in items(out)}["https://example.com/long"]
    assert item["content_html"].count("<li>") == 50 and len(item["tags"]) == 50
    # the parse cache carries them apart from the problems it reports
    for path in records.iterdir():
        os.utime(path, (time.time() - 3600,) * 2)  # old enough to be cached
    cache = ParseCache(tmp_path / "cache.sqlite3")
    first, second = load_records(records, cache), load_records(records, cache)
    assert (first.parsed, second.parsed) == (2, 0)
    for loaded in (first, second):
        assert loaded.dropped == () and sorted(str(p) for p in loaded.capped) == [
            f"{records / 'long.md'}: images: has 25 items; only the first 20 kept",
            f"{records / 'long.md'}: related: has 91 items; only the first 50 kept",
            f"{records / 'long.md'}: topics: has 60 items; only the first 50 kept",
            f"{records / 'longer.md'}: related: has 51 items; only the first 50 kept",
        ]


def test_language_is_declared_everywhere(tmp_path):
    out = tmp_path / "out"
    assert build(out, "--records", str(SEEDS)) == 0
    files = tree(out)
    assert feedparser.parse(files["feeds/all.atom"]).feed.language == "en"
    assert re.search(rb'<feed [^>]*xml:lang="en"', files["feeds/all.atom"])
    assert b"<language>en</language>" in files["feeds/all.rss"]
    assert json.loads(files["feeds/all.json"])["language"] == "en"
    assert b'<html lang="en">' in files["index.html"]


def test_language_option_and_environment(tmp_path):
    out = tmp_path / "out"
    result = run_cli("build", str(out), "--records", str(SEEDS), env={"FRFEEDS_LANGUAGE": "fr-CA"})
    assert result.returncode == 0, result.stderr
    files = tree(out)
    assert re.search(rb'<feed [^>]*xml:lang="fr-CA"', files["feeds/ai.atom"])
    assert b"<language>fr-CA</language>" in files["feeds/ai.rss"]
    assert json.loads(files["feeds/ai.json"])["language"] == "fr-CA" and b'<html lang="fr-CA">' in files["index.html"]
    # the option wins over the environment, and a rebuild with another language rewrites the tree
    result = run_cli("build", str(out), "--records", str(SEEDS), "--language", "de", env={"FRFEEDS_LANGUAGE": "fr-CA"})
    assert result.returncode == 0, result.stderr
    assert json.loads(tree(out)["feeds/ai.json"])["language"] == "de"


@pytest.mark.parametrize("source, value", [("--language", "english please"), ("--language", "e"),
                                           ("FRFEEDS_LANGUAGE", "en_US"), ("FRFEEDS_LANGUAGE", "<script>")])
def test_bad_language_is_a_usage_error_naming_its_source(tmp_path, source, value):
    args, env = (["--language", value], {}) if source.startswith("--") else ([], {source: value})
    result = run_cli("build", str(tmp_path / "out"), "--records", str(SEEDS), *args, env=env)
    assert result.returncode == 2
    assert result.stderr.startswith(f"frfeeds: error: {source} must be a language tag")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
