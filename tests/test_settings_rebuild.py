"""Every output setting, changed on a cached tree, rebuilds it as a build from nothing would.

For each row of the settings table that changes output (``output=True``): build a tree
with the defaults (and a custom feed) with the cache, build it again with that one
setting changed, build the same settings ``--no-cache`` into another folder, and compare
every file's bytes, hidden ones included. A renderer reading anything its feed's digest
does not cover (plan.py: the RenderSettings, the feed's fields and entries) leaves a
stale file on the incremental build, and fails here. A new output setting fails
``test_every_output_setting_has_an_alternative`` until it is given a value below.
"""

import shutil

import pytest
from helpers import SEEDS, build, every_file, record_text, write_record

from frfeeds.config.table import TABLE

#: The default tree's own feed: a custom feed, so that ``feeds.custom`` has one to change.
CUSTOM = '{ slug = "robot-news", title = "Robot news", topics = ["Robots"] }'

#: An alternative value (TOML) of every output setting, each changing the tree.
ALTERNATIVES = {
    "base_url": '"https://feeds.example.net/news/"',
    "limit": "2",
    "amp": "false",
    "include_unpublished": "true",
    "site.title": '"Example News"',
    "site.description": '"Stories worth reading"',
    "site.url": '"https://news.example.org/"',
    "site.language": '"fr-CA"',
    "site.icon": '"https://news.example.org/icon.png"',
    "site.logo": '"https://news.example.org/logo.png"',
    "site.author": '"Example News Ltd"',
    "site.rights": '"© 2021 Example News"',
    "site.feed_title": '"{site} · {feed}"',
    "feeds.kinds": '["all", "topics"]',
    "feeds.min_entries": "2",
    "feeds.include_topics": '["AI", "Robots"]',
    "feeds.exclude_topics": '["Computer Vision"]',
    # a custom feed named as a topic: the topic's feed moves to ai-topic, and every
    # entry's category names it (RenderSettings.topic_names)
    "feeds.custom": '[{ slug = "ai", title = "AI picks", topics = ["AI"], min_quality = 80 }]',
    "hub": '["https://hub.example.org/"]',
    # before the newest story (Robots, 2021-05-18 09:00): it is held back
    "now": "2021-05-18T00:00:00Z",
    "feeds.archives": "false",
    "feeds.archive_size": "1",
}
OUTPUT_KEYS = [row.key for row in TABLE if row.output]


def config(changed: dict[str, str]) -> str:
    """frfeeds.toml of the defaults, the custom feed, a limit of 3 (so that feeds have
    archives) and the changed settings."""
    values = {"limit": "3", "feeds.custom": f"[{CUSTOM}]", **changed}
    sections: dict[str, list[str]] = {"": [], "site": [], "feeds": []}
    for key, value in values.items():
        section, _, name = key.rpartition(".")
        sections[section].append(f"{name} = {value}")
    return "\n".join(sections[""] + ["[site]", *sections["site"], "[feeds]", *sections["feeds"], ""])


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    """The seeds, plus a topic of one story (Robots), an unpublished story, a provider of
    two stories with a site-relative logo and a video."""
    folder = tmp_path_factory.mktemp("records")
    shutil.copytree(SEEDS, folder, dirs_exist_ok=True)
    write_record(folder, "robots.md", record_text("Robots at work", "https://robots.example.com/work",
                                                  "2021-05-18T09:00:00Z", topics=("Robots", "AI")))
    write_record(folder, "hidden.md", record_text("Not yet", "https://example.com/not-yet", "2021-05-19T09:00:00Z",
                                                  extra="published: false"))
    logo = "provider:\n  name: Clips\n  domain: clips.example.com\n  images:\n    - url: /logo.png\n"
    for n in range(2):
        text = record_text(f"Clip {n}", f"https://clips.example.com/{n}", f"2021-05-1{n}T08:00:00Z",
                           extra=f"type: video\nquality: {90 - n}")
        write_record(folder, f"clip{n}.md", text.replace("provider:\n  name: Example\n  domain: example.com\n", logo))
    return folder


def test_every_output_setting_has_an_alternative():
    assert sorted(ALTERNATIVES) == sorted(OUTPUT_KEYS), "give each output setting of config.table an alternative"


@pytest.mark.parametrize("key", OUTPUT_KEYS)
def test_a_changed_setting_rebuilds_the_cached_tree_as_a_fresh_build(key, records, tmp_path):
    default, changed = tmp_path / "default.toml", tmp_path / "changed.toml"
    default.write_text(config({}), encoding="utf-8")
    changed.write_text(config({key: ALTERNATIVES[key]}), encoding="utf-8")
    out = tmp_path / "out"

    def build_with(toml, folder, *options):
        assert build(folder, "--config", str(toml), "--records", str(records), "-q", *options) == 0
        return every_file(folder)

    before = build_with(default, out)
    incremental = build_with(changed, out)
    fresh = build_with(changed, tmp_path / "fresh", "--no-cache")
    assert incremental != before, f"{key} = {ALTERNATIVES[key]} changes nothing: choose a value that shows"
    stale = sorted(path for path in fresh.keys() | incremental.keys() if fresh.get(path) != incremental.get(path))
    assert not stale, f"{key}: the incremental rebuild differs from a fresh build in {stale}"
    assert list(incremental) == list(fresh)
