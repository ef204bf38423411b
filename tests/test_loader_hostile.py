"""Hostile and careless input: skipped and reported as ``path: field: reason``, never a
crash and never in the output; the good record beside it is still published."""

import json
import os

import pytest
from helpers import build, check_tree_valid, record_text, tree, write_record

from frfeeds.read.loader import load_records

GOOD = record_text(title="The good story", url="https://example.com/good")

ALIAS_BOMB = """---
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
title: "bomb"
webUrl: "https://example.com/bomb"
publishedDateTime: 2021-01-01T00:00:00Z
topics: *g
---
"""

HOSTILE = {
    # name: (file bytes, field named in the report, words of the reason)
    "no_front_matter": ("title: x\nwebUrl: https://example.com/x\n", "front matter", "missing"),
    "unclosed_front_matter": ("---\ntitle: x\nwebUrl: https://example.com/x\n", "front matter", "not closed"),
    "yaml_syntax_error": ("---\ntitle: [unclosed\nwebUrl: x\n---\n", "front matter", "YAML error at line"),
    "yaml_tab_indent": ("---\ntitle: x\n\twebUrl: y\n---\n", "front matter", "YAML error"),
    "yaml_list": ("---\n- title\n- webUrl\n---\n", "-", "must be a mapping"),
    "yaml_scalar": ("---\njust some words\n---\n", "-", "must be a mapping"),
    "yaml_empty": ("---\n---\nbody\n", "-", "must be a mapping"),
    "python_object_tag": (
        "---\ntitle: !!python/object/apply:os.system ['touch {canary}']\n"
        "webUrl: https://example.com/p\npublishedDateTime: 2021-01-01\n---\n",
        "front matter",
        "constructor",
    ),
    "python_name_tag": ("---\ntitle: !!python/name:os.system\n---\n", "front matter", "constructor"),
    "alias_bomb": (ALIAS_BOMB, "front matter", "alias bomb"),
    "recursive_alias": ("---\ntopics: &a [*a]\ntitle: t\n---\n", "front matter", ""),
    # 50,000 levels crash libyaml's C loader outright (segfault), in every style
    "deep_flow_sequence": ("---\ntitle: " + "[" * 50_000 + "]" * 50_000 + "\n---\n", "front matter",
                           "nested too deeply"),
    "deep_flow_mapping": ("---\ntitle: " + "{a: " * 50_000 + "1" + "}" * 50_000 + "\n---\n", "front matter",
                          "nested too deeply"),
    "deep_block_sequence": ("---\ntitle:\n" + "- " * 50_000 + "x\n---\n", "front matter", "nested too deeply"),
    # values YAML's own constructors refuse: a crash of the whole build before
    "impossible_date": (record_text(date="2019-02-30"), "front matter", "'2019-02-30' is not a valid timestamp"),
    "zone_out_of_range": (record_text(date="2019-01-01T00:00:00+99:00"), "front matter", "not a valid timestamp"),
    "year_zero": (record_text(date="0000-01-01"), "front matter", "not a valid timestamp"),
    "huge_integer": (record_text(extra="quality: " + "1" * 5000), "front matter", "is not a valid int"),
    "tagged_bad_bool": (record_text(extra="published: !!bool maybe"), "front matter",
                        "line 10: 'maybe' is not a valid bool"),
    "tagged_bad_timestamp": (record_text(date="!!timestamp soon"), "front matter", "'soon' is not a valid timestamp"),
    "tagged_bad_int": (record_text(extra="heat: !!int hot"), "front matter", "'hot' is not a valid int"),
    # a set sends the document to SafeConstructor itself
    "tagged_bad_int_general": (record_text(extra="x: !!set {a}\nheat: !!int hot"), "front matter", "cannot be read"),
    "missing_title": (record_text().replace('title: "A story"\n', ""), "title", "is missing"),
    "empty_title": (record_text(title="   "), "title", "is empty"),
    "title_is_mapping": (record_text().replace('title: "A story"', "title: {a: 1}"), "title", "must be text"),
    "missing_web_url": (record_text().replace('webUrl: "https://example.com/story"\n', ""), "webUrl", "is missing"),
    "missing_date": (record_text().replace("publishedDateTime: 2021-05-17T04:08:00Z\n", ""), "publishedDateTime",
                     "is missing"),
    "unparseable_date": (record_text(date='"next tuesday-ish"'), "publishedDateTime", "is not a date"),
    "partial_date": (record_text(date='"March"'), "publishedDateTime", "not a whole date"),
    "number_as_date": (record_text(date="2021"), "publishedDateTime", "must be a date"),
    "javascript_url": (record_text(url="javascript:alert(1)"), "webUrl", "absolute http(s)"),
    "data_url": (record_text(url="data:text/html,<script>alert(1)</script>"), "webUrl", ""),
    "relative_url": (record_text(url="/news/2021/story.html"), "webUrl", "absolute http(s)"),
    "url_without_host": (record_text(url="https:///path"), "webUrl", "host"),
    # a space in a path is encoded (%20); in a host it cannot be
    "url_with_space_in_host": (record_text(url="https://exa mple.com/a story"), "webUrl", "host"),
    "url_with_control_character": (record_text(url="https://example.com/a\x01story"), "webUrl", "control characters"),
    "bad_published_flag": (record_text(extra="published: maybe"), "published", "true or false"),
    "empty_file": ("", "file", "is empty"),
    "whitespace_file": ("  \n\n", "file", "is empty"),
    "binary_file": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "file", "binary"),
    "latin1_file": (record_text().replace("A story", "Caf\u00e9 cr\u00e8me").encode("latin-1"), "file", "not UTF-8"),
    "huge_file": ("---\ntitle: x\n" + "# " + "x" * (1 << 20) + "\n---\n", "file", "larger than"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_record_is_rejected_and_named(tmp_path, capsys, name):
    content, field, reason = HOSTILE[name]
    canary = tmp_path / "pwned"
    if isinstance(content, str):
        content = content.replace("{canary}", str(canary))
    records = tmp_path / "records"
    write_record(records, "good.md", GOOD)
    bad = write_record(records, f"{name}.md", content)
    out = tmp_path / "out"

    assert build(out, "--records", str(records)) == 0
    err = capsys.readouterr().err.splitlines()
    assert any(line.startswith(f"{bad}: {field}: ") and reason in line for line in err), err
    assert not canary.exists(), "a YAML tag ran code"

    files = tree(out)
    all_feed = files["feeds/all.json"].decode()
    assert "https://example.com/good" in all_feed
    assert all_feed.count('"id":') == 1, "only the good record is published"

    assert build(out, "--records", str(records), "--strict") == 1


def test_hostile_folder_builds_valid_feeds(tmp_path, capsys, atom_schema, json_feed_validator):
    """All the hostile files at once, beside good records: the build completes and validates."""
    records = tmp_path / "records"
    write_record(records, "good.md", GOOD)
    for name, (content, _, _) in HOSTILE.items():
        write_record(records, f"bad/{name}.md",
                     content.replace("{canary}", "/nonexistent/x") if isinstance(content, str) else content)
    out = tmp_path / "out"
    assert build(out, "--records", str(records)) == 0
    captured = capsys.readouterr()
    assert f"read {len(HOSTILE) + 1} records" in captured.out
    assert f"rejected {len(HOSTILE)}," in captured.out
    check_tree_valid(out, atom_schema, json_feed_validator)


def test_unreadable_and_special_files_are_reported_not_fatal(tmp_path, capsys):
    records = tmp_path / "records"
    write_record(records, "good.md", GOOD)
    (records / "dangling.md").symlink_to(tmp_path / "nowhere.md")
    os.mkfifo(records / "pipe.md")  # open() on it would wait for a writer forever
    assert build(tmp_path / "out", "--records", str(records)) == 0
    err = capsys.readouterr().err
    assert f"{records / 'dangling.md'}: file: cannot be read" in err
    assert f"{records / 'pipe.md'}: file: is not a regular file" in err


def test_hidden_and_foreign_files_are_ignored(tmp_path, capsys):
    records = tmp_path / "records"
    write_record(records, "good.md", GOOD)
    write_record(records, ".git/HEAD.md", "garbage")
    write_record(records, ".draft.md", "garbage")
    write_record(records, "logo.png", b"\x89PNG\x00")
    assert build(tmp_path / "out", "--records", str(records), "--strict") == 0
    assert capsys.readouterr().err == ""


CARELESS_BUT_FINE = {
    "bom_and_crlf.md": "\ufeff" + record_text(url="https://example.com/windows").replace("\n", "\r\n"),
    "yaml_end_marker.markdown": record_text(url="https://example.com/dots").replace("\n---\n", "\n...\n"),
    "string_dates.txt": record_text(url="https://example.com/s", date='"2021-05-17 06:08:00+02:00"'),
    "date_only.md": record_text(url="https://example.com/d", date="2021-05-17"),
    "topic_scalar.md": record_text(url="https://example.com/t", topics=()).replace("topics:\n", "topics: Robots\n"),
    "unquoted_query_url.md": record_text().replace('webUrl: "https://example.com/story"', "webUrl: https://example.com/a?b=1&c=2"),
    "with_body.md": record_text(url="https://example.com/body") + "\n# A body\n\n---\n\nMore text, even fences.\n",
}


def test_careless_but_valid_records_are_accepted(tmp_path, capsys):
    records = tmp_path / "records"
    for name, text in CARELESS_BUT_FINE.items():
        write_record(records, name, text)
    out = tmp_path / "out"
    assert build(out, "--records", str(records), "--strict") == 0, capsys.readouterr().err
    items = {item["id"]: item for item in json.loads(tree(out)["feeds/all.json"])["items"]}
    assert set(items) == {
        "https://example.com/windows", "https://example.com/dots", "https://example.com/s", "https://example.com/d",
        "https://example.com/t", "https://example.com/a?b=1&c=2", "https://example.com/body",
    }
    assert items["https://example.com/s"]["date_published"] == "2021-05-17T04:08:00Z"
    assert items["https://example.com/d"]["date_published"] == "2021-05-17T00:00:00Z"
    assert items["https://example.com/t"]["tags"] == ["Robots"]
    assert items["https://example.com/windows"]["title"] == "A story"


def test_a_file_name_that_is_not_utf8_is_published_and_never_cached(tmp_path, capsys, monkeypatch):
    """``caf\\xe9.md`` from a Latin-1 system: Python holds its name with a surrogate
    escape, which SQLite's UTF-8 text cannot store. The build publishes the story (it
    is parsed on every build) and does not fail; the cache keeps the other records."""
    from frfeeds.read import loader
    from frfeeds.read.cache import open_cache

    folder = tmp_path / "records"
    name = os.fsdecode(b"caf\xe9.md")
    write_record(folder, name, record_text(title="Le caf\u00e9", url="https://example.com/cafe"))
    write_record(folder, "good.md", GOOD)
    for path in folder.iterdir():
        os.utime(path, (1_600_000_000, 1_600_000_000))
    out, cache_dir = tmp_path / "out", tmp_path / "cache"
    for _ in range(2):  # the second build reads the good record from the cache
        (folder / "good.md").touch()
        os.utime(folder / "good.md", (1_600_000_100, 1_600_000_100 + _))
        assert build(out, "--records", str(folder), "--cache", str(cache_dir)) == 0
        titles = [item["title"] for item in json.loads((out / "feeds" / "all.json").read_text())["items"]]
        assert sorted(titles) == ["Le caf\u00e9", "The good story"]
    monkeypatch.setattr(loader, "HELD_DETAILS", 0)  # past the budget: every record read back when rendered
    cache = open_cache(folder, cache_dir)
    loaded = load_records(folder, cache)
    assert loaded.parsed == 1  # the one the cache cannot hold
    records = loaded.records([summary.path for summary in loaded.summaries])
    assert sorted(record.title for record in records.values()) == ["Le caf\u00e9", "The good story"]
    cache.close()
