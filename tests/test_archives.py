"""Archived feeds (RFC 5005 section 4): walking prev-archive from every feed's head visits
each of its stories once, newest first; a new story rewrites the head and the newest
block only; the documents are valid and served with the documented Cache-Control."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
import pytest
from feedchecks import check_feeds_uris_and_text
from helpers import build, check_tree_valid, every_file, record_text, shared_path, tree, vnu, write_record

from frfeeds.app import SEALED_MAX_AGE, create_app
from frfeeds.archive import split
from frfeeds.catalog import Feed, select
from frfeeds.read.loader import load_records

BASE = "https://feeds.example.org/news"
ATOM = "{http://www.w3.org/2005/Atom}"


# --- the split, on its own --------------------------------------------------------------

@pytest.mark.parametrize("stories, limit, size", [(0, 3, 4), (3, 3, 4), (4, 3, 4), (7, 3, 4), (8, 3, 4),
                                                  (23, 5, 1), (23, 50, 100), (250, 10, 7)])
def test_head_and_blocks_partition_the_stories_and_full_blocks_are_counted_from_the_oldest(stories, limit, size):
    entries = tuple(range(stories, 0, -1))  # newest first: story n is the n-th oldest
    archived = split(Feed("feeds/x", "topic", "X", "X stories", entries), limit, size)  # type: ignore[arg-type]
    assert archived.head.entries == entries[:limit]
    walked = list(archived.head.entries)
    for number, document in enumerate(archived.archives, 1):
        assert document.path == f"feeds/x/archive/{number}" and document.archive
        oldest = (number - 1) * size + 1  # fixed blocks, counted from the oldest story
        assert document.entries == tuple(range(min(oldest + size - 1, stories - limit), oldest - 1, -1))
        rels = {link.rel: link.path for link in document.links}
        assert rels.pop("current") == "feeds/x"
        assert rels.pop("prev-archive", None) == (f"feeds/x/archive/{number - 1}" if number > 1 else None)
        newer = number < len(archived.archives)
        assert rels.pop("next-archive", None) == (f"feeds/x/archive/{number + 1}" if newer else None)
        assert not rels
    for document in reversed(archived.archives):
        walked += document.entries
    assert walked == list(entries)  # head then archives, newest block first: every story once, newest first
    head_links = [(link.rel, link.path) for link in archived.head.links]
    assert head_links == ([("prev-archive", f"feeds/x/archive/{len(archived.archives)}")] if archived.archives else [])


def test_a_new_story_changes_the_head_and_the_newest_block_and_a_new_block_seals_the_full_one():
    def documents(stories):
        archived = split(Feed("feeds/x", "topic", "X", "X", tuple(range(stories, 0, -1))), 3, 4)  # type: ignore[arg-type]
        return {doc.path: doc for doc in (archived.head, *archived.archives)}

    before, after = documents(3 + 4 + 3), documents(3 + 4 + 4)  # the newest block fills
    assert {path for path in after if after[path] != before.get(path)} == {"feeds/x", "feeds/x/archive/2"}
    before, after = after, documents(3 + 4 + 4 + 1)  # a new block starts: the full one gains next-archive
    assert {path for path in after if after[path] != before.get(path)} == {
        "feeds/x", "feeds/x/archive/2", "feeds/x/archive/3"}
    assert after["feeds/x/archive/2"].entries == before["feeds/x/archive/2"].entries


# --- walking the built tree ---------------------------------------------------------------

def walk(files: dict[str, bytes], head: str, fmt: str) -> list[str]:
    """The entry ids met following prev-archive (JSON: next_url) from a head by URL,
    each URL mapped back to the tree; every archive document is fh:archive."""
    ids: list[str] = []
    path: str | None = f"{head}.{fmt}"
    seen = set()
    while path is not None:
        assert path not in seen, f"a loop through {path}"
        seen.add(path)
        data = files[path]
        url = None
        if fmt == "json":
            document = json.loads(data)
            ids += [item["id"] for item in document["items"]]
            url = document.get("next_url")
        else:
            root = ET.fromstring(data)
            parent = root if fmt == "atom" else root.find("channel")
            link_tag = f"{ATOM}link"
            ids += ([entry.findtext(f"{ATOM}id") for entry in root.findall(f"{ATOM}entry")] if fmt == "atom"
                    else [item.findtext("guid") for item in parent.findall("item")])
            links = {link.get("rel"): link.get("href") for link in parent.findall(link_tag)}
            url = links.get("prev-archive")
            archived = parent.find("{http://purl.org/syndication/history/1.0}archive") is not None
            assert archived == ("/archive/" in path), path
            if archived:
                assert links["current"] == f"{BASE}/{head}.{fmt}", path
        assert url is None or url.startswith(BASE + "/"), url
        path = url[len(BASE) + 1:] if url else None
    return ids


def expected_feeds(records: Path) -> dict[str, list[str]]:
    """Feed path -> the ids of its stories, newest first, by a plain filter of the
    published records: all of them, those with the topic, those of the provider."""
    published = select(load_records(records).summaries).records
    order = sorted(published, key=lambda r: r.url)
    order.sort(key=lambda r: r.published_at, reverse=True)
    feeds: dict[str, list[str]] = {"feeds/all": [r.url for r in order]}
    for record in order:
        for slug in dict.fromkeys(topic.slug for topic in record.topics):
            name = slug if slug not in ("all", "providers") else f"{slug}-topic"
            feeds.setdefault(f"feeds/{name}", []).append(record.url)
        feeds.setdefault(f"feeds/providers/{record.provider.domain}", []).append(record.url)
    return feeds


def check_walks(out: Path, records: Path, limit: int, formats=("atom", "rss", "json")) -> int:
    """Every feed's walk in every format is its stories, newest first, each once; returns
    the number of archive documents met."""
    files = tree(out)
    expected = expected_feeds(records)
    heads = sorted(path[:-len(".atom")] for path in files if path.endswith(".atom") and "/archive/" not in path)
    assert heads == sorted(expected)
    for head in heads:
        for fmt in formats:
            ids = walk(files, head, fmt)
            assert ids == expected[head], (head, fmt)
        blocks = sum(1 for path in files if path.startswith(f"{head}/archive/") and path.endswith(".atom"))
        assert blocks == -(-max(0, len(expected[head]) - limit) // 100), head
    return sum(1 for path in files if "/archive/" in path)


@pytest.fixture(scope="module")
def corpus_tree(tmp_path_factory):
    records = shared_path("corpus", "records")
    out = tmp_path_factory.mktemp("corpus") / "out"
    assert build(out, "--records", str(records), "--limit", "10", "--base-url", BASE, "--no-cache") == 0
    return records, out


def test_walking_prev_archive_visits_every_story_of_every_feed_once_newest_first_real_corpus(corpus_tree):
    records, out = corpus_tree
    documents = check_walks(out, records, limit=10)
    assert documents >= 3 * 10  # the all feed alone has four blocks


def test_archive_documents_are_valid_and_feedparser_sees_their_links(corpus_tree, atom_schema, json_feed_validator):
    _, out = corpus_tree
    files = tree(out)
    counts = check_tree_valid(out, atom_schema, json_feed_validator)  # jing, feedparser without bozo, the JSON schema
    archives = [path for path in files if "/archive/" in path]
    assert counts["atom"] == counts["rss"] == counts["json"] and len(archives) == 3 * len(
        [path for path in archives if path.endswith(".atom")])
    assert check_feeds_uris_and_text(files) > 0  # the W3C validator's rules, archives included
    for fmt in ("atom", "rss"):
        parsed = feedparser.parse(files[f"feeds/all/archive/2.{fmt}"])
        assert not parsed.bozo
        rels = {link.rel: link.href for link in parsed.feed.links}
        assert rels["current"] == f"{BASE}/feeds/all.{fmt}"
        assert rels["prev-archive"] == f"{BASE}/feeds/all/archive/1.{fmt}"
        assert rels["next-archive"] == f"{BASE}/feeds/all/archive/3.{fmt}"
        head = feedparser.parse(files[f"feeds/all.{fmt}"])
        assert {link.rel: link.href for link in head.feed.links}["prev-archive"] == f"{BASE}/feeds/all/archive/4.{fmt}"
    assert json.loads(files["feeds/all.json"])["next_url"] == f"{BASE}/feeds/all/archive/4.json"
    assert "next_url" not in json.loads(files["feeds/all/archive/1.json"])


def test_feed_pages_link_their_archives_and_stay_valid_html(corpus_tree):
    _, out = corpus_tree
    files = tree(out)
    page = files["feeds/providers/microsoft.com.html"].decode()
    newest = max(int(path.rsplit("/", 1)[1].split(".")[0]) for path in files
                 if path.startswith("feeds/providers/microsoft.com/archive/"))
    assert newest >= 2
    for number in (newest, 1):
        for ext in ("atom", "rss", "json"):
            href = f"microsoft.com/archive/{number}.{ext}"
            assert f'href="{href}"' in page and f"feeds/providers/{href}" in files
    few = next(path for path in files if path.startswith("feeds/providers/") and path.endswith(".json")
               and "/archive/" not in path and len(json.loads(files[path])["items"]) < 10)
    assert b"<h2>Archive</h2>" not in files[few.replace(".json", ".html")]  # no older stories: no section
    pages = ["feeds/all.html", "feeds/providers/microsoft.com.html", "feeds/diablo-4.html"]
    assert not vnu([out / path for path in pages])


def test_archives_off_leave_no_archive_and_no_link(tmp_path, monkeypatch):
    records = shared_path("corpus", "records")
    monkeypatch.setenv("FRFEEDS_FEEDS_ARCHIVES", "false")
    out = tmp_path / "out"
    assert build(out, "--records", str(records), "--limit", "10", "--no-cache") == 0
    files = tree(out)
    assert not [path for path in files if "/archive/" in path]
    assert b"prev-archive" not in files["feeds/all.atom"] and b"<h2>Archive" not in files["feeds/all.html"]


@pytest.mark.slow
def test_walking_prev_archive_on_10000_generated_records(tmp_path, make_corpus):
    records = tmp_path / "records"
    subprocess.run([sys.executable, str(make_corpus), "10000", str(records)], check=True, capture_output=True)
    out = tmp_path / "out"
    assert build(out, "--records", str(records), "--limit", "10", "--base-url", BASE, "--no-cache") == 0
    assert check_walks(out, records, limit=10, formats=("atom", "json")) > 300


# --- incremental builds -----------------------------------------------------------------

def snapshot(out: Path) -> dict[str, tuple[int, int, bytes]]:
    return {str(p.relative_to(out)): (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes())
            for p in out.rglob("*") if p.is_file() and p.name != ".frfeeds-tree"}


def add_story(folder: Path, n: int) -> None:
    write_record(folder, f"story-{n:03}.md", record_text(f"Story {n}", f"https://example.com/{n}",
                                                         f"2021-05-{1 + n // 24:02}T{n % 24:02}:00:00Z"))
    old = 1_600_000_000 + n  # older than the "too fresh to trust" window: the state is used
    os.utime(folder / f"story-{n:03}.md", (old, old))


FEEDS = ("feeds/all", "feeds/ai", "feeds/providers/example.com")  # every story is in all three


def head_files(feed: str) -> set[str]:
    return {f"{feed}.{ext}" for ext in ("atom", "rss", "json", "html")}


def test_adding_a_story_rewrites_the_heads_and_the_newest_block_only(tmp_path, monkeypatch):
    """limit 3, blocks of 4: 3 + 4 + 2 stories, then one more (the newest block grows),
    then two more (it fills, then a new block starts: the full one gains next-archive)."""
    monkeypatch.setenv("FRFEEDS_FEEDS_ARCHIVE_SIZE", "4")
    records, out = tmp_path / "records", tmp_path / "out"
    for n in range(9):
        add_story(records, n)
    assert build(out, "--records", str(records), "--limit", "3") == 0
    steps = [  # (the story added, the archive blocks whose files change)
        (9, {2}),   # block 2 has 3 of 4
        (10, {2}),  # block 2 is full
        # block 3 starts with one story; block 2 gains its next-archive link, once (Atom
        # and RSS: JSON Feed has no link to a newer document, so its bytes stay)
        (11, {2: ("atom", "rss"), 3: ("atom", "rss", "json")}),
        (12, {3}),  # block 2 is sealed: no new story changes it
    ]
    for story, blocks in steps:
        if isinstance(blocks, set):
            blocks = dict.fromkeys(blocks, ("atom", "rss", "json"))
        before = snapshot(out)
        add_story(records, story)
        assert build(out, "--records", str(records), "--limit", "3") == 0
        after = snapshot(out)
        changed = {path for path in after if before.get(path) != after[path]}
        expected = {"index.html", "feeds.opml"} | {  # the site pages as ever, the heads, the blocks
            path for feed in FEEDS for path in head_files(feed) | {f"{feed}/archive/{number}.{ext}"
                                                                  for number, exts in blocks.items() for ext in exts}}
        assert changed == expected, (story, sorted(changed ^ expected))
        for path in set(after) - changed:  # not rewritten at all: the same inode (hard-linked), the same mtime
            assert before[path][:2] == after[path][:2], path
    assert b"next-archive" in after["feeds/all/archive/2.atom"][2] and b"next-archive" not in after[
        "feeds/all/archive/3.atom"][2]


def test_cold_warm_and_no_cache_trees_are_byte_identical_with_archives(tmp_path, monkeypatch):
    records = shared_path("corpus", "records")
    monkeypatch.setenv("FRFEEDS_CACHE", str(tmp_path / "cache"))
    reference = None
    for name, options in (("a", []), ("b", []), ("a", []), ("c", ["--no-cache"]), ("a", ["--no-cache"])):
        out = tmp_path / "site" / name
        assert build(out, "--records", str(records), "--limit", "10", *options) == 0
        files = every_file(out)
        reference = reference or files
        assert files == reference, (name, options)
    assert sum("/archive/" in path for path in reference) > 30


# --- served -------------------------------------------------------------------------------

def test_the_app_serves_archives_with_the_documented_cache_control(corpus_tree):
    records, out = corpus_tree
    client = create_app({"RECORDS": str(records), "BASE_URL": BASE, "LIMIT": 10, "RELOAD_INTERVAL": 120,
                         "CACHE": "off"}).test_client()
    files = tree(out)
    archives = sorted(path for path in files if "/archive/" in path)
    newest = {}
    for path in archives:
        feed, number = path.rsplit("/archive/", 1)
        newest[feed] = max(newest.get(feed, 0), int(number.split(".")[0]))
    sealed = 0
    for path in archives + ["feeds/all.atom", "feeds/all.html", "index.html"]:
        response = client.get(f"/{path}")
        assert response.status_code == 200 and response.data == files[path], path
        feed, _, number = path.rpartition("/archive/")
        is_sealed = bool(feed) and int(number.split(".")[0]) < newest[feed]
        sealed += is_sealed
        lifetime = SEALED_MAX_AGE if is_sealed else 120
        assert response.headers["Cache-Control"] == f"public, max-age={lifetime}", path
        again = client.get(f"/{path}", headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304 and again.headers["Cache-Control"] == f"public, max-age={lifetime}", path
    assert sealed >= 3 * 3
    assert SEALED_MAX_AGE == 86_400
    for missing in ("feeds/all/archive/999.atom", "feeds/all/archive/0.atom", "feeds/all/archive/1.html",
                    f"feeds/all/archive/{newest['feeds/all'] + 1}.json", "feeds/all/archive/.atom"):
        assert client.get(f"/{missing}").status_code == 404, missing


def test_render_batches_are_bounded_by_entries_as_well_as_documents():
    from frfeeds.plan import BATCH_ENTRIES, RENDER_BATCH, batches

    def feed(n: int, entries: int) -> Feed:
        return Feed(f"feeds/{n}", "topic", "T", "T", tuple(range(entries)))  # type: ignore[arg-type]

    heads = [feed(n, 50) for n in range(250)]
    assert [len(batch) for batch in batches(heads)] == [RENDER_BATCH, RENDER_BATCH, 50]
    blocks = [feed(n, 100) for n in range(120)]
    made = batches(blocks)
    assert [len(batch) for batch in made] == [BATCH_ENTRIES // 100, BATCH_ENTRIES // 100, 20]
    assert [f for batch in made for f in batch] == blocks
    huge = [feed(0, BATCH_ENTRIES * 2), feed(1, 1)]
    assert [len(batch) for batch in batches(huge)] == [1, 1]  # a feed larger than the bound is a batch of its own
