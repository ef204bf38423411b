"""The feeds.* settings in real builds of the shared corpus: each custom feed holds exactly
what a filter written here selects (over the records' YAML as PyYAML reads it, not
frfeeds); min_entries, the slug a custom feed takes from a topic, the OPML; an edit to
one record re-renders only the feeds that hold it, custom ones included; an edited
custom feed re-renders only itself; the app serves the bytes the build writes."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import listparser
import pytest
import yaml
from helpers import build, check_tree_valid, run_cli, shared_path, tree

import frfeeds.rendering
from frfeeds.app import create_app

#: Builds the whole real corpus.
pytestmark = pytest.mark.slow

CONFIG = """
limit = 10000

[feeds]
min_entries = 3

[[feeds.custom]]
slug = "diablo-videos"
title = "Diablo 4 videos"
topics = ["Diablo 4"]
types = ["video"]

[[feeds.custom]]
slug = "azure"
title = "Azure and Power Apps, quality 60 or more"
description = "The best of Azure and Power Apps"
topics = ["Azure", "Power Apps"]
min_quality = 60

[[feeds.custom]]
slug = "msn-youtube-last-year"
title = "MSN and YouTube, the last year"
providers = ["msn.com", "https://www.YouTube.com/"]
since = "365 days"

[[feeds.custom]]
slug = "ai-videos"
title = "AI videos"
topics = ["AI"]
types = ["video"]
"""


class Story:
    """A record's front matter, read the plain way: what the filters below look at."""

    def __init__(self, path: Path, data: dict):
        self.path = path
        self.url = data.get("webUrl") or data.get("originalUrl")
        self.topics = {label.casefold() for label in data.get("topics") or [] if isinstance(label, str)}
        self.type = data.get("type")
        self.quality = data.get("quality")
        provider = data.get("provider") or {}
        domain = provider.get("domain") or urlsplit(self.url).hostname
        self.domain = domain.lower().removeprefix("www.")
        published = data["publishedDateTime"]
        if isinstance(published, str):
            published = dt.datetime.fromisoformat(published.replace("Z", "+00:00"))
        self.published = published
        self.shown = data.get("published") is not False and data.get("removed") is not True


#: The custom feeds of CONFIG, as predicates over a Story and the newest publication date.
RULES = {
    "diablo-videos": lambda story, newest: "diablo 4" in story.topics and story.type == "video",
    "azure": lambda story, newest: bool(story.topics & {"azure", "power apps"})
    and story.quality is not None and story.quality >= 60,
    "msn-youtube-last-year": lambda story, newest: story.domain in ("msn.com", "youtube.com")
    and newest - story.published <= dt.timedelta(days=365),
    "ai-videos": lambda story, newest: "ai" in story.topics and story.type == "video",
}


@pytest.fixture(scope="module")
def stories() -> list[Story]:
    """The corpus's published stories."""
    found = []
    for path in sorted(shared_path("corpus", "records").glob("*.md")):
        front = path.read_text(encoding="utf-8-sig").split("\n---", 1)[0].lstrip("-\n")
        found.append(Story(path, yaml.safe_load(front)))
    assert len(found) == 981
    return [story for story in found if story.shown]


def expected_ids(stories: list[Story], keep) -> list[str]:
    """The URLs a feed of the stories keep() selects: newest first, ties by URL."""
    urls = {story.url: story.published for story in stories if keep(story)}  # duplicates: one story
    return sorted(urls, key=lambda url: (-urls[url].timestamp(), url))


def ids(files: dict[str, bytes], path: str) -> list[str]:
    return [item["id"] for item in json.loads(files[f"{path}.json"])["items"]]


def feed_of(path: str) -> str:
    """``feeds/ai.atom`` -> ``feeds/ai``: the feed a file of the tree belongs to."""
    return path.rsplit(".", 1)[0]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("custom")
    (folder / "frfeeds.toml").write_text(CONFIG, encoding="utf-8")
    result = run_cli("build", str(folder / "out"), "--config", str(folder / "frfeeds.toml"),
                     "--records", str(shared_path("corpus", "records")), env={"FRFEEDS_CACHE": "off"})
    assert result.returncode == 0, result.stderr
    return folder / "out", tree(folder / "out")


def test_each_custom_feed_holds_exactly_what_its_rules_select(stories, built):
    _, files = built
    newest = max(story.published for story in stories)
    for slug, rule in RULES.items():
        expected = expected_ids(stories, lambda story, rule=rule: rule(story, newest))
        assert ids(files, f"feeds/{slug}") == expected, slug
    sizes = {slug: len(ids(files, f"feeds/{slug}")) for slug in RULES}
    # none trivial
    assert sizes == {"diablo-videos": 31, "azure": 169, "msn-youtube-last-year": 16, "ai-videos": 0}, sizes
    titles = {slug: json.loads(files[f"feeds/{slug}.json"])["title"] for slug in RULES}
    assert titles["azure"] == "Azure and Power Apps, quality 60 or more"
    assert json.loads(files["feeds/azure.json"])["description"] == "The best of Azure and Power Apps"
    assert json.loads(files["feeds/ai-videos.json"])["description"] == "AI videos, newest first"


def test_since_is_counted_from_the_newest_story_not_the_clock(stories, built):
    _, files = built
    newest = max(story.published for story in stories)
    assert newest < dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=365)  # by the clock: none would be left
    last_year = ids(files, "feeds/msn-youtube-last-year")
    assert last_year and ids(files, "feeds/all")[0] == expected_ids(stories, lambda story: True)[0]


def test_a_custom_slug_moves_the_topic_to_its_topic_name(stories, built):
    _, files = built
    topic = json.loads(files["feeds/azure-topic.json"])
    assert topic["title"] == "Azure"
    assert ids(files, "feeds/azure-topic") == expected_ids(stories, lambda story: "azure" in story.topics)
    assert json.loads(files["feeds/azure.json"])["title"] != "Azure"  # the custom feed kept its name


def test_min_entries_leaves_out_topics_and_providers_with_fewer_stories(stories, built):
    _, files = built
    feeds = {feed_of(path) for path in files if path.startswith("feeds/")}
    per_domain = Counter(story.domain for story in {story.url: story for story in stories}.values())
    providers = {path.removeprefix("feeds/providers/") for path in feeds if path.startswith("feeds/providers/")}
    assert providers == {domain for domain, count in per_domain.items() if count >= 3}
    assert len(providers) < len(per_domain)  # some had fewer
    per_topic = Counter(label for story in {story.url: story for story in stories}.values() for label in story.topics)
    topics = {json.loads(files[f"{path}.json"])["title"].casefold() for path in feeds
              if not path.startswith("feeds/providers/") and path.removeprefix("feeds/") not in RULES
              and path != "feeds/all"}
    assert topics == {label for label, count in per_topic.items() if count >= 3}


def test_the_tree_with_custom_feeds_is_valid_everywhere_and_in_the_opml(built, atom_schema, json_feed_validator):
    out, files = built
    counts = check_tree_valid(out, atom_schema, json_feed_validator)  # every feed listed once in feeds.opml
    assert counts["atom"] == counts["rss"] == counts["json"]
    opml = listparser.parse(files["feeds.opml"])
    top = [feed.title for feed in opml.feeds if not feed.categories]
    assert top == ["All news", "Diablo 4 videos", "Azure and Power Apps, quality 60 or more",
                   "MSN and YouTube, the last year", "AI videos"]


@pytest.fixture
def site(tmp_path) -> Path:
    """A copy of the corpus with CONFIG, built once (with the test's own cache)."""
    shutil.copytree(shared_path("corpus", "records"), tmp_path / "records")
    (tmp_path / "frfeeds.toml").write_text(CONFIG, encoding="utf-8")
    return tmp_path


@pytest.fixture
def rendered(monkeypatch) -> list[str]:
    """The paths of the feeds each build renders: the real render_documents, watched."""
    paths: list[str] = []
    real = frfeeds.rendering.render_documents

    def watched(inputs, documents, *rest):
        paths.extend(feed.path for feed in documents)
        return real(inputs, documents, *rest)

    monkeypatch.setattr(frfeeds.rendering, "render_documents", watched)
    return paths


def build_site(site: Path, capsys) -> str:
    assert build(site / "out", "--config", str(site / "frfeeds.toml"), "--records", str(site / "records"), "-q") == 0
    return capsys.readouterr().out.strip().splitlines()[-1]


def inodes(out: Path) -> dict[str, tuple[int, int]]:
    return {path: ((out / path).stat().st_ino, (out / path).stat().st_mtime_ns) for path in tree(out)}


def changed_count(summary: str) -> int:
    return int(re.search(r" (\d+) changed, ", summary)[1])


def test_an_edited_record_rebuilds_only_the_feeds_that_hold_it(site, rendered, capsys):
    build_site(site, capsys)
    before, files = inodes(site / "out"), tree(site / "out")
    record = site / "records" / "SmartableAI--2019-08-26-microsoft-power-apps-portals-2019-release-wave-2-overview.md"
    text = record.read_text(encoding="utf-8-sig")
    url = Story(record, yaml.safe_load(text.split("\n---", 1)[0].lstrip("-\n"))).url  # a video: its originalUrl
    holding = {feed_of(path) for path in files if path.endswith(".json") and url in ids(files, feed_of(path))}
    assert {"feeds/all", "feeds/azure", "feeds/power-apps", "feeds/providers/microsoft.com"} <= holding
    assert len(holding) < len({feed_of(path) for path in files if path.startswith("feeds/")}) / 4

    record.write_text(re.sub(r"(?m)^title: .*$", 'title: "Power Apps portals, retitled"', text, count=1),
                      encoding="utf-8")
    rendered.clear()
    summary = build_site(site, capsys)
    assert set(rendered) == holding and len(rendered) == len(holding)
    after = inodes(site / "out")
    assert after.keys() == before.keys()
    changed = {path for path in after if after[path] != before[path]}
    assert {feed_of(path) for path in changed if path.startswith("feeds/")} == holding
    assert ({path for path in changed if feed_of(path) in holding}
            == {path for path in after if feed_of(path) in holding})
    assert changed_count(summary) == len(changed), summary
    for path in changed - {"index.html", "feeds.opml"}:
        assert b"Power Apps portals, retitled" in (site / "out" / path).read_bytes(), path


def test_an_edited_custom_feed_rebuilds_only_itself(site, rendered, capsys):
    build_site(site, capsys)
    config = site / "frfeeds.toml"
    respelled = CONFIG.replace('topics = ["Diablo 4"]', 'topics = ["diablo-4", "DIABLO 4"]')
    config.write_text(respelled, encoding="utf-8")  # the same query in other words: nothing to render
    rendered.clear()
    summary = build_site(site, capsys)
    assert rendered == [] and changed_count(summary) == 0, summary

    config.write_text(respelled.replace('types = ["video"]', 'types = ["article"]', 1), encoding="utf-8")
    before = inodes(site / "out")
    rendered.clear()
    summary = build_site(site, capsys)
    assert rendered == ["feeds/diablo-videos"]
    after = inodes(site / "out")
    changed = {path for path in after if after[path] != before[path]}
    assert {feed_of(path) for path in changed} - {"index", "feeds"} == {"feeds/diablo-videos"}
    assert changed_count(summary) == len(changed), summary

    config.write_text(CONFIG.replace("min_entries = 3", "min_entries = 5"), encoding="utf-8")
    rendered.clear()
    summary = build_site(site, capsys)
    assert rendered == ["feeds/diablo-videos"]  # back to videos; the feeds now too small are only removed
    removed = int(re.search(r" (\d+) removed\)", summary)[1])
    assert removed > 0 and set(inodes(site / "out")) < set(after)


def test_the_app_serves_the_custom_feeds_the_build_writes(site, capsys):
    build_site(site, capsys)
    files = tree(site / "out")
    client = create_app({"CONFIG": str(site / "frfeeds.toml"), "RECORDS": str(site / "records"),
                         "BASE_URL": "http://localhost:8000", "CACHE": "off"}).test_client()
    for slug in RULES:
        for ext in ("atom", "rss", "json"):
            response = client.get(f"/feeds/{slug}.{ext}")
            assert response.status_code == 200 and response.data == files[f"feeds/{slug}.{ext}"], (slug, ext)
    assert client.get("/feeds/azure-topic.json").data == files["feeds/azure-topic.json"]
    assert client.get("/feeds.opml").data == files["feeds.opml"]
