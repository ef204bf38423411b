"""Issue 16, the parts that need no server: implausible dates, feed titles that name
the site, RSS descriptions that stay summaries, scheduled stories in a build, the hub
links in every format. (The real hub and gunicorn: test_websub.py.)"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
import threading
import time
import xml.etree.ElementTree as ET

import feedparser
from feedchecks import check_feeds_uris_and_text
from helpers import build, check_tree_valid, record_text, tree, write_record

from frfeeds.announce import Outcome, changed_feeds, feed_files, link_header
from frfeeds.serve.websub import Announcer


def test_a_date_before_1991_is_reported_as_a_likely_typo(tmp_path, capsys):
    records = tmp_path / "records"
    old = write_record(records, "old.md", record_text(url="https://example.com/old", date="1900-01-01T00:00:00Z"))
    touched = write_record(records, "touched.md", record_text(url="https://example.com/touched",
                                                               extra="updatedDateTime: 1985-05-05"))
    write_record(records, "fine.md", record_text(url="https://example.com/fine"))
    out = tmp_path / "out"
    assert build(out, "--records", str(records)) == 0
    said = capsys.readouterr()
    err = said.err
    # a bad publication date rejects the record, as any bad required value does: its
    # place in every feed depends on it
    assert f"{old}: publishedDateTime: 1900-01-01T00:00:00Z is before 1991, likely a typo\n" in err
    # a bad update date is left out: the publication date stands for it
    assert f"{touched}: updatedDateTime: 1985-05-05T00:00:00Z is before 1991, likely a typo; left out\n" in err
    assert "rejected 1," in said.out and "values dropped 1," in said.out
    urls = [item["url"] for item in json.loads(tree(out)["feeds/all.json"])["items"]]
    assert urls == ["https://example.com/fine", "https://example.com/touched"]
    assert b"1985" not in tree(out)["feeds/all.atom"]
    # the same from the parse cache (the verdict is stored), and --strict fails on it
    assert build(out, "--records", str(records), "--strict") == 1
    assert f"{old}: publishedDateTime: 1900-01-01T00:00:00Z is before 1991" in capsys.readouterr().err


def test_1991_itself_is_plausible(tmp_path, capsys):
    records = tmp_path / "records"
    write_record(records, "r.md", record_text(date="1991-01-01T00:00:00Z"))
    assert build(tmp_path / "out", "--records", str(records), "--strict") == 0


CONTENT = "http://purl.org/rss/1.0/modules/content/"
VIDEO = """featuredContent: '<p>Watch:</p><iframe src="https://www.youtube.com/embed/abc123XYZ_-" \
width="560" height="315"></iframe>'
type: video"""


def test_rss_description_of_a_video_without_excerpt_is_no_player(tmp_path, atom_schema, json_feed_validator):
    records = tmp_path / "records"
    write_record(records, "video.md", record_text(title="Robots & laundry", extra=VIDEO))
    out = tmp_path / "out"
    assert build(out, "--records", str(records)) == 0
    rss = feedparser.parse(tree(out)["feeds/all.rss"])
    assert not rss.bozo
    item = rss.entries[0]
    assert item.summary == "Robots &amp; laundry"  # the title as text (RSS description is HTML)
    assert "youtube.com/embed/abc123XYZ_-" in item.content[0].value  # content:encoded (feedparser drops iframes)
    element = ET.fromstring(tree(out)["feeds/all.rss"]).find("channel/item")
    assert element.findtext("description") == "Robots &amp; laundry"  # HTML of the text, as excerpts are
    assert '<iframe src="https://www.youtube.com/embed/abc123XYZ_-"' in element.findtext(f"{{{CONTENT}}}encoded")
    check_tree_valid(out, atom_schema, json_feed_validator)
    assert check_feeds_uris_and_text(tree(out)) > 0  # the suite's W3C rules: plain-text descriptions


def test_feed_titles_name_the_site_when_it_has_a_title(tmp_path, monkeypatch):
    records = tmp_path / "records"
    write_record(records, "r.md", record_text())
    plain, named, chosen = tmp_path / "plain", tmp_path / "named", tmp_path / "chosen"
    assert build(plain, "--records", str(records)) == 0
    monkeypatch.setenv("FRFEEDS_SITE_TITLE", "Example News")
    assert build(named, "--records", str(records)) == 0
    monkeypatch.setenv("FRFEEDS_SITE_FEED_TITLE", "{feed}")  # set: as it says, even with a site title
    assert build(chosen, "--records", str(records)) == 0
    for out, title in ((plain, "AI"), (named, "AI · Example News"), (chosen, "AI")):
        files = tree(out)
        assert feedparser.parse(files["feeds/ai.atom"]).feed.title == title
        assert feedparser.parse(files["feeds/ai.rss"]).feed.title == title
        assert json.loads(files["feeds/ai.json"])["title"] == title
    assert json.loads(tree(named)["feeds/all.json"])["title"] == "All news · Example News"


def test_a_scheduled_story_is_held_reported_and_published_by_a_later_build(tmp_path, capsys):
    records = tmp_path / "records"
    later = write_record(records, "later.md", record_text(title="Embargoed", url="https://example.com/later",
                                                          date="2026-12-07T10:00:00Z"))
    write_record(records, "now.md", record_text(url="https://example.com/now"))
    out = tmp_path / "out"
    assert build(out, "--records", str(records), "--now", "2026-12-06T00:00:00Z", "--strict") == 0  # no fault
    said = capsys.readouterr()
    assert f"{later}: publishedDateTime: held until 2026-12-07T10:00:00Z\n" in said.err
    assert "scheduled 1 (held until their publishedDateTime)" in said.out and "rejected 0," in said.out
    assert b"Embargoed" not in b"".join(tree(out).values())
    assert build(out, "--records", str(records), "--now", "2026-12-07T10:00:00Z") == 0  # its very time
    assert ", scheduled " not in capsys.readouterr().out
    assert [item["title"] for item in json.loads(tree(out)["feeds/all.json"])["items"]][0] == "Embargoed"


def test_now_makes_builds_at_different_wall_times_byte_identical(tmp_path, monkeypatch):
    records = tmp_path / "records"
    write_record(records, "later.md", record_text(title="Embargoed", url="https://example.com/later",
                                                  date="2026-12-07T10:00:00Z"))
    write_record(records, "now.md", record_text(url="https://example.com/now"))
    monkeypatch.setenv("FRFEEDS_NOW", "2026-12-06T00:00:00Z")
    assert build(tmp_path / "one", "--records", str(records), "--no-cache") == 0
    time.sleep(1.1)  # another wall time (output never shows the clock: this is what would)
    assert build(tmp_path / "two", "--records", str(records), "--no-cache") == 0
    assert tree(tmp_path / "one") == tree(tmp_path / "two")
    assert b"Embargoed" not in b"".join(tree(tmp_path / "one").values())


def test_a_no_change_build_builds_again_once_a_held_story_is_due(tmp_path, capsys):
    """The inputs key (files, settings) is the same; the clock is not."""
    records = tmp_path / "records"
    due = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(seconds=3)
    write_record(records, "soon.md", record_text(title="Soon", url="https://example.com/soon",
                                                 date=due.isoformat().replace("+00:00", "Z")))
    write_record(records, "now.md", record_text(url="https://example.com/now"))
    for path in records.iterdir():  # older than the racy window: the no-change path is taken
        os.utime(path, ns=(time.time_ns() - 10**10, time.time_ns() - 10**10))
    out = tmp_path / "out"
    assert build(out, "--records", str(records)) == 0
    assert build(out, "--records", str(records)) == 0  # nothing changed, nothing due: replayed
    said = capsys.readouterr().out
    assert "(14 files: 0 changed" in said.splitlines()[-1] and "scheduled 1" in said.splitlines()[-1]
    time.sleep(max(0.0, (due - dt.datetime.now(dt.timezone.utc)).total_seconds()) + 0.2)
    assert build(out, "--records", str(records)) == 0
    last = capsys.readouterr().out
    assert ", scheduled " not in last and "0 changed" not in last
    assert b"Soon" in tree(out)["feeds/all.atom"]


HUBS = ("https://hub.example.org/", "https://websub.example.net/hub")


def test_feeds_with_hubs_link_them_and_stay_valid(tmp_path, atom_schema, json_feed_validator, monkeypatch):
    records = tmp_path / "records"
    write_record(records, "r.md", record_text(extra=VIDEO))
    out = tmp_path / "out"
    monkeypatch.setattr("frfeeds.hubclient.publish", lambda hubs, urls, budget=0: ())  # no hub reached here
    options = ("--hub", ",".join(HUBS), "--base-url", "https://feeds.example.org")
    assert build(out, "--records", str(records), *options) == 0
    files = tree(out)
    for ext in ("atom", "rss"):
        parsed = feedparser.parse(files[f"feeds/ai.{ext}"])
        assert not parsed.bozo
        links = [(link.rel, link.href) for link in parsed.feed.links]
        assert ("self", f"https://feeds.example.org/feeds/ai.{ext}") in links
        assert [href for rel, href in links if rel == "hub"] == list(HUBS)
    rss = ET.fromstring(files["feeds/ai.rss"]).find("channel")
    assert rss.findtext("link") == "https://feeds.example.org/feeds/ai.html"  # the alternate, not a hub
    assert json.loads(files["feeds/ai.json"])["hubs"] == [{"type": "WebSub", "url": hub} for hub in HUBS]
    check_tree_valid(out, atom_schema, json_feed_validator)  # jing, feedparser, the JSON Feed schema
    assert check_feeds_uris_and_text(files) > 0  # the suite's W3C rules


def test_the_link_header_names_the_document_a_reader_subscribed_to(tmp_path):
    """WebSub discovery's rel="self" is the URL the feed's own self link gives: a served
    query's canonical URL, not its feed's."""
    from frfeeds.app import create_app

    records = tmp_path / "records"
    write_record(records, "r.md", record_text(topics=("AI",)))
    client = create_app({"RECORDS": str(records), "BASE_URL": "https://feeds.example.org", "HUB": HUBS[0],
                         "RELOAD_INTERVAL": 3600, "CACHE": "off"}).test_client()
    for path in ("/feeds/all.atom", "/feeds/all.atom?topics=ai"):
        response = client.get(path)
        assert response.status_code == 200, path
        own = ET.fromstring(response.data).find("{http://www.w3.org/2005/Atom}link[@rel='self']").get("href")
        assert own == f"https://feeds.example.org{path}"
        assert response.headers["Link"] == f'<{HUBS[0]}>; rel="hub", <{own}>; rel="self"'


def test_without_a_hub_no_feed_mentions_one(tmp_path):
    records = tmp_path / "records"
    write_record(records, "r.md", record_text())
    assert build(tmp_path / "out", "--records", str(records)) == 0
    files = tree(tmp_path / "out")
    assert not any(b'"hub"' in data or b"hubs" in data for data in files.values())


def test_a_build_announces_only_changed_feed_files_and_an_absent_hub_fails_nothing(tmp_path, capsys, monkeypatch):
    records = tmp_path / "records"
    write_record(records, "a.md", record_text(url="https://example.com/a", topics=("AI",)))
    write_record(records, "b.md", record_text(url="https://example.com/b", topics=("Robots",)))
    told: list[tuple[tuple[str, ...], list[str]]] = []

    def publish(hubs, urls, budget=0):
        told.append((tuple(hubs), list(urls)))
        return tuple(Outcome(hub, len(urls), len(urls)) for hub in hubs)

    monkeypatch.setattr("frfeeds.hubclient.publish", publish)
    out, hub = tmp_path / "out", "https://hub.example.org/"
    assert build(out, "--records", str(records), "--hub", hub) == 0
    assert len(told[0][1]) == 12  # all, ai, robots, example.com: 3 formats each, pages never
    assert f"announced 12 feeds to {hub}" in capsys.readouterr().out
    write_record(records, "c.md", record_text(url="https://example.com/c", topics=("AI",)))
    assert build(out, "--records", str(records), "--hub", hub) == 0
    base = "http://localhost:8000/feeds"
    assert sorted(told[1][1]) == sorted(f"{base}/{name}.{ext}" for name in ("ai", "all", "providers/example.com")
                                        for ext in ("atom", "rss", "json"))  # robots did not change
    assert build(out, "--records", str(records), "--hub", hub) == 0
    assert len(told) == 2  # nothing changed: nothing told
    monkeypatch.undo()
    monkeypatch.setenv("FRFEEDS_CACHE", str(tmp_path / "cache2"))
    closed = f"http://127.0.0.1:{_closed_port()}/"
    started = time.monotonic()
    assert build(tmp_path / "out2", "--records", str(records), "--hub", closed, "--strict") == 0
    assert f"hub {closed} unreachable: connection refused" in capsys.readouterr().out
    assert time.monotonic() - started < 15


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_workers_claim_a_change_once(tmp_path):
    state = tmp_path / "websub.json"
    log = logging.getLogger("test")
    one, two = (Announcer(("https://hub.example.org/",), "http://x", state, 0, log) for _ in range(2))
    assert one.claim({"feeds/ai": "1", "feeds/all": "1"}) == []  # the first start: recorded, not announced
    assert two.claim({"feeds/ai": "1", "feeds/all": "1"}) == []
    assert one.claim({"feeds/ai": "2", "feeds/all": "1", "feeds/new": "1"}) == ["feeds/ai", "feeds/new"]
    assert two.claim({"feeds/ai": "2", "feeds/all": "1", "feeds/new": "1"}) == []  # announced by the other


def test_pure_announce_helpers():
    assert feed_files(["index.html", "feeds/ai.atom", "feeds/ai.html", "feeds.opml", "feeds/providers/x.com.json"]) == [
        "feeds/ai.atom", "feeds/providers/x.com.json"]
    expected = '<https://h/>; rel="hub", <https://s/feeds/ai.atom>; rel="self"'
    assert link_header(["https://h/"], "https://s/feeds/ai.atom") == expected
    assert changed_feeds({"a": "1", "b": "1"}, {"a": "1", "b": "2", "c": "1"}) == ["b", "c"]


class _FlakyHub:
    """A hub on 127.0.0.1 that answers 503 to the first `failures` requests, then 202;
    it keeps each request's form."""

    def __init__(self, failures: int, status: int = 503):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import parse_qs

        self.forms: list[dict[str, list[str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                outer.forms.append(parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode()))
                self.send_response(status if len(outer.forms) <= failures else 202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hub"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_the_hub_client_retries_a_failing_hub_and_gives_up_on_a_refusal():
    from frfeeds.hubclient import publish

    flaky, refusing = _FlakyHub(failures=2), _FlakyHub(failures=99, status=400)
    try:
        feeds = ["http://x/feeds/ai.atom", "http://x/feeds/ai.rss"]
        flaky_outcome, refused = publish([flaky.url, refusing.url], feeds, budget=5)
        assert flaky_outcome == Outcome(flaky.url, 2, 2)  # 503, 503, then accepted; then the second URL
        assert [form["hub.url"] for form in flaky.forms] == [[feeds[0]]] * 3 + [[feeds[1]]]
        assert flaky.forms[0] == {"hub.mode": ["publish"], "hub.url": [feeds[0]], "hub.topic": [feeds[0]]}
        assert refused.error == f"HTTP 400 for {feeds[0]}" and len(refusing.forms) == 1  # a 4xx is an answer
        assert refused.line() == f"hub {refusing.url} answered HTTP 400 for {feeds[0]}"
    finally:
        flaky.server.shutdown()
        refusing.server.shutdown()
