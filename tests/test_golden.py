"""Golden files: the seeds' tree and an edge records' tree, byte for byte.

A change in any byte of any file fails here with the paths and a diff. When the change
is meant, run ``pytest --regen-golden tests/test_golden.py`` and commit the diff of
tests/golden/ with the code that made it.
"""

from __future__ import annotations

import json
import os

import pytest
from golden import BASE_URL, check_golden, files_of, golden_differences
from helpers import DATA, SEEDS, build, tree


@pytest.fixture
def fixed_settings(monkeypatch):
    """Only the options given count: no FRFEEDS_* setting of the caller's environment."""
    for variable in [name for name in os.environ if name.startswith("FRFEEDS_")]:
        if variable not in ("FRFEEDS_SHARED", "FRFEEDS_REQUIRE_SHARED"):
            monkeypatch.delenv(variable)


def build_golden_tree(records, out) -> None:
    assert build(out, "--records", str(records), "--base-url", BASE_URL, "--no-cache", "-q") == 0


def test_seeds_tree_is_the_golden_one(tmp_path, fixed_settings, regen_golden):
    out = tmp_path / "out"
    build_golden_tree(SEEDS, out)
    assert {"index.html", "feeds.opml", ".frfeeds-tree", "feeds/all.atom"} <= set(files_of(out))
    check_golden(out, "seeds", regen_golden)


def test_edge_records_tree_is_the_golden_one(tmp_path, fixed_settings, regen_golden, capsys):
    out = tmp_path / "out"
    build_golden_tree(DATA / "edge", out)
    # what the edge records are there for, so that a regenerated set still shows it
    files = tree(out)
    joined = b"".join(files.values())
    assert b"example.com/news/withdrawn" not in joined and b"Withdrawn" not in joined  # removed
    assert b"example.com/news/draft" not in joined and b"drafts.example.org" not in joined  # unpublished
    assert b"Old copy" not in joined and b"New copy" in joined  # duplicates: the one updated last
    items = {item["title"]: item for item in json.loads(files["feeds/all.json"])["items"]}
    assert items["Robots learn to sort laundry"]["url"] == "https://www.youtube.com/watch?v=abc123XYZ_-"
    assert "https://www.youtube.com/embed/abc123XYZ_-" in items["Robots learn to sort laundry"]["content_html"]
    assert "xn--r8jz45g.jp" in items["Pokémon Go arrives in Kyōto"]["url"]
    assert "What’s next for AT&T? Big changes & a < b" in items
    assert items["Chips get smaller again"]["content_html"].count("<li>") == 2
    assert "feeds/providers/xn--r8jz45g.jp.atom" in files and json.loads(files["feeds/ai.json"])["title"] == "AI"
    err = capsys.readouterr().err
    assert "related.md: related[2].webUrl: must be an absolute http(s) URL" in err
    assert "video.md: featuredContent: iframe from evil.example.net left out" in err
    assert "related.md: provider.images: site-relative logo '/assets/logos/news.example.org-50x50.png' left out" in err
    icon = "<icon>https://xn--r8jz45g.jp/%E3%83%AD%E3%82%B4%2050.png</icon>"
    assert icon in files["feeds/providers/xn--r8jz45g.jp.atom"].decode()
    assert b"<icon>" not in files["feeds/providers/news.example.org.atom"]
    check_golden(out, "edge", regen_golden)


def test_a_difference_names_every_path_and_shows_where():
    golden = {"a.json": b'{"title":"One","items":[]}', "b.atom": b"<x/>\n", "gone.rss": b"<rss/>"}
    built = {"a.json": b'{"title":"Two","items":[]}', "b.atom": b"<x/>\n", "new.html": b"<p/>"}
    problems = golden_differences(built, golden)
    assert problems[:3] == ["missing from the build: gone.rss", "not in the golden files: new.html", "changed: a.json"]
    text = "\n".join(problems)
    assert "a.json: first difference at byte 10" in text
    assert '- "title": "One",' in text and '+ "title": "Two",' in text  # JSON pretty-printed for the diff
    assert golden_differences(golden, golden) == []

