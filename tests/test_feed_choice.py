"""Which feeds a build makes (feeds.kinds, min_entries, include/exclude_topics, custom
feeds), from a config file or the environment, on records written here: fast."""

from __future__ import annotations

import json

import pytest
from helpers import build, record_text, tree, write_record

RECORDS = [  # (name, topics, provider domain, type)
    ("a", ("AI", "Robots"), "example.com", "video"),
    ("b", ("AI",), "example.com", "article"),
    ("c", ("AI", "Azure"), "news.example.org", "video"),
    ("d", ("Azure",), "news.example.org", "article"),
    ("e", ("Robots",), "other.net", "article"),
]


@pytest.fixture
def records(tmp_path):
    folder = tmp_path / "records"
    for day, (name, topics, domain, kind) in enumerate(RECORDS, 1):
        extra = f"type: {kind}\nquality: {day * 20}"
        text = record_text(title=f"Story {name}", url=f"https://{domain}/{name}", date=f"2021-05-{day:02}T04:08:00Z",
                           topics=topics, extra=extra).replace("domain: example.com", f"domain: {domain}")
        write_record(folder, f"{name}.md", text)
    return folder


def feeds_built(tmp_path, records, monkeypatch, config: str = "", **environ: str) -> dict[str, list[str]]:
    """Build with the config and FRFEEDS_* variables; feed path -> its entries' names."""
    for key, value in environ.items():
        monkeypatch.setenv(f"FRFEEDS_{key}", value)
    (tmp_path / "frfeeds.toml").write_text(config, encoding="utf-8")
    out = tmp_path / "out"
    assert build(out, "--records", str(records), "--config", str(tmp_path / "frfeeds.toml"), "-q") == 0
    files = tree(out)
    return {path.removesuffix(".json"): [item["id"].rsplit("/", 1)[1] for item in json.loads(data)["items"]]
            for path, data in files.items() if path.endswith(".json")}


EVERY = {
    "feeds/all": ["e", "d", "c", "b", "a"],
    "feeds/ai": ["c", "b", "a"], "feeds/azure": ["d", "c"], "feeds/robots": ["e", "a"],
    "feeds/providers/example.com": ["b", "a"], "feeds/providers/news.example.org": ["d", "c"],
    "feeds/providers/other.net": ["e"],
}


def test_without_feeds_settings_every_kind_of_feed_is_made(tmp_path, records, monkeypatch):
    assert feeds_built(tmp_path, records, monkeypatch) == EVERY


@pytest.mark.parametrize("kinds, made", [
    ("all", ["feeds/all"]),
    ("topics", ["feeds/ai", "feeds/azure", "feeds/robots"]),
    ("providers,all", ["feeds/all", "feeds/providers/example.com", "feeds/providers/news.example.org",
                       "feeds/providers/other.net"]),
])
def test_kinds_from_the_environment(tmp_path, records, monkeypatch, kinds, made):
    assert sorted(feeds_built(tmp_path, records, monkeypatch, FEEDS_KINDS=kinds)) == made


def test_min_entries_include_and_exclude_from_the_file(tmp_path, records, monkeypatch):
    built = feeds_built(tmp_path, records, monkeypatch, "[feeds]\nmin_entries = 3\n")
    assert built == {"feeds/all": EVERY["feeds/all"], "feeds/ai": ["c", "b", "a"]}  # the all feed is always made
    built = feeds_built(tmp_path, records, monkeypatch, '[feeds]\ninclude_topics = ["AI", "robots"]\n'
                        'exclude_topics = ["Robots"]\n')
    assert {path for path in built if not path.startswith("feeds/providers/")} == {"feeds/all", "feeds/ai"}
    assert built["feeds/providers/other.net"] == ["e"]  # its story stays in the other feeds


def test_custom_feeds_beside_the_built_in_ones_and_a_slug_they_share(tmp_path, records, monkeypatch):
    config = """
[feeds]
kinds = ["topics"]

[[feeds.custom]]
slug = "ai"
title = "AI videos"
topics = ["AI"]
types = ["video"]

[[feeds.custom]]
slug = "good-news-org"
title = "news.example.org, quality 80 or more"
providers = ["www.news.example.org"]
min_quality = 80

[[feeds.custom]]
slug = "this-week"
title = "The last two days"
since = "2 days"
"""
    built = feeds_built(tmp_path, records, monkeypatch, config)
    assert built == {
        "feeds/ai": ["c", "a"],  # the custom feed has the name; the topic AI gets ai-topic
        "feeds/ai-topic": ["c", "b", "a"],
        "feeds/good-news-org": ["d"],  # c has quality 60
        "feeds/this-week": ["e", "d", "c"],  # May 5th back to May 3rd, whatever today is
        "feeds/azure": ["d", "c"], "feeds/robots": ["e", "a"],
    }


def test_topic_categories_name_the_topic_feed_a_custom_feed_renamed(tmp_path, records, monkeypatch):
    """With a custom feed called ai, the topic AI's feed is feeds/ai-topic: entries'
    Atom categories and RSS domains say so, not the custom feed's name."""
    feeds_built(tmp_path, records, monkeypatch,
                '[[feeds.custom]]\nslug = "ai"\ntitle = "AI videos"\ntypes = ["video"]\n')
    atom = (tmp_path / "out/feeds/all.atom").read_text()
    assert 'term="ai-topic"' in atom and 'term="ai"' not in atom and 'term="azure"' in atom
    feeds_built(tmp_path, records, monkeypatch, "")  # the custom feed gone: the topic has its name back
    atom = (tmp_path / "out/feeds/all.atom").read_text()
    assert 'term="ai"' in atom and 'term="ai-topic"' not in atom
