"""Which records go in which feed: unpublished, duplicates, slugs, order and limits."""

import json

import feedparser
from helpers import build, record_text, tree, write_record


def items(out, path="feeds/all.json"):
    return json.loads(tree(out)[path])["items"]


def test_unpublished_left_out_unless_asked(tmp_path, capsys):
    records = tmp_path / "records"
    write_record(records, "a.md", record_text(url="https://example.com/a"))
    write_record(records, "b.md", record_text(url="https://example.com/b", extra="published: false"))
    write_record(records, "c.md", record_text(url="https://example.com/c", extra='published: "False"'))
    out = tmp_path / "out"
    assert build(out, "--records", str(records)) == 0
    assert [item["id"] for item in items(out)] == ["https://example.com/a"]
    assert "left out 2 unpublished" in capsys.readouterr().out
    assert build(out, "--records", str(records), "--include-unpublished") == 0
    assert len(items(out)) == 3
    assert "left out 0 unpublished" in capsys.readouterr().out


def test_duplicates_keep_the_one_updated_last(tmp_path, capsys):
    records = tmp_path / "records"
    url = "https://example.com/same"
    write_record(records, "z-old.md", record_text(title="Old", url=url, extra="updatedDateTime: 2021-05-18T00:00:00Z"))
    write_record(records, "a-new.md", record_text(title="New", url=url, extra="updatedDateTime: 2021-05-19T00:00:00Z"))
    write_record(records, "m-plain.md", record_text(title="Plain", url=url))
    out = tmp_path / "out"
    assert build(out, "--records", str(records)) == 0
    assert [item["title"] for item in items(out)] == ["New"]
    assert "merged 2 duplicates" in capsys.readouterr().out


def test_duplicate_ties_are_broken_by_path_not_read_order(tmp_path):
    url = "https://example.com/same"
    titles = []
    for order in (("a.md", "b.md"), ("b.md", "a.md")):
        records = tmp_path / "-".join(order)
        for name, title in zip(order, ("First", "Second"), strict=True):
            write_record(records, name, record_text(title=f"{title} in {name}", url=url))
        out = tmp_path / f"out-{len(titles)}"
        assert build(out, "--records", str(records)) == 0
        titles.append(items(out)[0]["title"])
    assert titles == ["Second in b.md", "First in b.md"]  # b.md wins both times


def test_newer_unpublished_copy_withdraws_a_story(tmp_path):
    records = tmp_path / "records"
    url = "https://example.com/retracted"
    write_record(records, "v1.md", record_text(url=url))
    write_record(records, "v2.md",
                 record_text(url=url, extra="updatedDateTime: 2021-06-01T00:00:00Z\npublished: false"))
    write_record(records, "other.md", record_text(url="https://example.com/other"))
    out = tmp_path / "out"
    assert build(out, "--records", str(records)) == 0
    assert [item["id"] for item in items(out)] == ["https://example.com/other"]


def test_colliding_topics_share_one_feed_named_by_most_common_spelling(tmp_path):
    records = tmp_path / "records"
    for index, topic in enumerate(["AI", "ai", "A.I.", "AI"]):
        write_record(records, f"{index}.md", record_text(url=f"https://example.com/{index}", topics=(topic,)))
    out = tmp_path / "out"
    assert build(out, "--records", str(records)) == 0
    topic_feeds = sorted(p for p in tree(out) if p.startswith("feeds/") and p.count("/") == 1)
    assert topic_feeds == [f"feeds/{name}.{ext}" for name in ("ai", "all") for ext in ("atom", "html", "json", "rss")]
    feed = json.loads(tree(out)["feeds/ai.json"])
    assert feed["title"] == "AI" and len(feed["items"]) == 4


def test_reserved_topic_names_do_not_replace_other_feeds(tmp_path):
    records = tmp_path / "records"
    write_record(records, "a.md", record_text(url="https://example.com/a", topics=("All",)))
    write_record(records, "b.md", record_text(url="https://example.com/b", topics=("Providers",)))
    out = tmp_path / "out"
    assert build(out, "--records", str(records)) == 0
    files = tree(out)
    assert len(json.loads(files["feeds/all.json"])["items"]) == 2
    assert json.loads(files["feeds/all-topic.json"])["title"] == "All"
    assert "feeds/providers-topic.atom" in files


def test_provider_slug_falls_back_to_web_url_host(tmp_path):
    records = tmp_path / "records"
    text = record_text(url="https://www.News.Example.org/x").replace(
        "provider:\n  name: Example\n  domain: example.com\n", "")
    write_record(records, "a.md", text)
    write_record(records, "b.md",
                 record_text(url="https://example.com/b").replace("example.com\n", "WWW.Example.COM\n", 1))
    out = tmp_path / "out"
    assert build(out, "--records", str(records)) == 0
    files = tree(out)
    assert json.loads(files["feeds/providers/news.example.org.json"])["title"] == "news.example.org"
    assert json.loads(files["feeds/providers/example.com.json"])["title"] == "Example"


def test_feeds_hold_the_newest_n_newest_first_ties_by_id(tmp_path):
    records = tmp_path / "records"
    dates = ["2021-01-05", "2021-01-03", "2021-01-04", "2021-01-04", "2021-01-01", "2021-01-02"]
    for index, date in enumerate(dates):
        write_record(records, f"{index}.md",
                     record_text(url=f"https://example.com/{5 - index}", date=f"{date}T10:00:00Z"))
    out = tmp_path / "out"
    assert build(out, "--records", str(records), "--limit", "4") == 0
    for path in ("feeds/all.atom", "feeds/ai.rss", "feeds/providers/example.com.atom"):
        parsed = feedparser.parse(tree(out)[path])
        assert [entry.link for entry in parsed.entries] == [
            "https://example.com/5", "https://example.com/2", "https://example.com/3", "https://example.com/4",
        ], path
    feed = feedparser.parse(tree(out)["feeds/all.atom"]).feed
    assert feed.updated == "2021-01-05T10:00:00+00:00"  # newest entry, never the clock
