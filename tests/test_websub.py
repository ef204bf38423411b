"""WebSub end to end, for real: flask-websub's hub (tests/websub_hub.py) on 127.0.0.1, the
Procfile's gunicorn (2 workers, --preload) serving frfeeds, a subscriber of our own;
and a scheduled story published by the running app when its time comes."""

from __future__ import annotations

import datetime as dt
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers import REPO, record_text, run_cli, write_record
from test_gunicorn import Server, free_port, records  # noqa: F401 - records is a fixture

pytestmark = pytest.mark.slow


class Hub:
    def __init__(self, folder: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hub"
        self.log = open(folder / "hub.log", "w")
        self.process = subprocess.Popen([sys.executable, str(REPO / "tests" / "websub_hub.py"), str(self.port),
                                         str(folder / "hub.sqlite")],
                                        stdout=subprocess.PIPE, stderr=self.log, text=True)
        assert self.process.stdout.readline().strip() == "ready"

    def published(self) -> list[str]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/published", timeout=5) as answer:
            return json.loads(answer.read())

    def subscribe(self, topic: str, callback: str) -> None:
        data = urllib.parse.urlencode({"hub.mode": "subscribe", "hub.topic": topic, "hub.callback": callback}).encode()
        with urllib.request.urlopen(urllib.request.Request(self.url, data=data), timeout=5) as answer:
            assert answer.status == 202

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        self.log.close()


class Subscriber:
    """Answers the hub's verification GET with hub.challenge; keeps each content POST."""

    def __init__(self):
        self.verified: list[str] = []
        self.received: list[tuple[str, bytes]] = []  # (callback path, body)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                body = query["hub.challenge"][0].encode()
                outer.verified.append(query["hub.topic"][0])
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((self.path, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


def until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (found := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return found


def recorded(tmp_path: Path) -> None:
    """Until the first start's digests are recorded as announced (the state file beside
    the parse cache, which conftest's own_cache puts in tmp_path), and a moment more."""
    until(lambda: list((tmp_path / "frfeeds-cache").glob("websub-*.json")), 20, "the announcement state")
    time.sleep(0.5)


@pytest.fixture
def hub(tmp_path):
    running = Hub(tmp_path)
    yield running
    running.stop()


@pytest.fixture
def subscriber():
    running = Subscriber()
    yield running
    running.stop()


def test_a_new_story_reaches_a_subscriber_through_a_real_hub_once(tmp_path, records, hub, subscriber,  # noqa: F811
                                                                   monkeypatch):
    monkeypatch.setenv("FRFEEDS_HUB", hub.url)
    server = Server(records, tmp_path / "gunicorn.log")
    try:
        status, headers, _ = server.get("/feeds/ai.atom")
        assert status == 200
        assert headers["Link"] == f'<{hub.url}>; rel="hub", <{server.url}/feeds/ai.atom>; rel="self"'
        assert "Link" not in server.get("/index.html")[1]  # a page is no feed
        # both workers serve, and have recorded what they serve as announced (one reload
        # interval after their first request): the first start announces nothing
        server.every_worker("/feeds/ai.atom", lambda body: b"A story" not in body, timeout=20)
        recorded(tmp_path)
        assert hub.published() == []
        changed, unchanged = f"{server.url}/feeds/ai.atom", f"{server.url}/feeds/computer-vision.atom"
        for topic, name in ((changed, "ai"), (unchanged, "cv")):
            hub.subscribe(topic, f"{subscriber.url}/{name}")
        until(lambda: len(subscriber.verified) == 2, 15, "the hub's verification of both subscriptions")

        started = time.monotonic()
        write_record(records, "new.md", record_text(title="Hubs push stories", url="https://example.com/pushed"))
        got = until(lambda: [body for path, body in subscriber.received if path == "/ai"], 30, "the pushed feed")
        assert b"Hubs push stories" in got[0]  # the new content, fetched by the hub from a worker
        print(f"pushed to the subscriber {time.monotonic() - started:.1f} s after the record was written")
        time.sleep(3)  # room for a second worker's (wrong) second announcement
        published = hub.published()
        assert published.count(changed) == 1, published  # two workers, one announcement
        assert unchanged not in published and not [p for p, _ in subscriber.received if p == "/cv"]
        assert f"{server.url}/feeds/all.json" in published and len(published) == len(set(published))
        health = [json.loads(server.get("/healthz")[2])["hub"] for _ in range(8)]
        assert any(item["announced"] == len(published) and item["last_error"] is None for item in health), health
    finally:
        server.stop()


def slow_hub() -> tuple[socket.socket, str]:
    """A hub that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    return listener, f"http://127.0.0.1:{listener.getsockname()[1]}/"


def test_an_unreachable_or_slow_hub_neither_slows_the_app_nor_fails_the_build(tmp_path, records,  # noqa: F811
                                                                             monkeypatch):
    listener, slow = slow_hub()
    closed = f"http://127.0.0.1:{free_port()}/"  # nothing listens there
    monkeypatch.setenv("FRFEEDS_HUB", f"{closed},{slow}")
    try:
        server = Server(records, tmp_path / "gunicorn.log")
        try:
            server.every_worker("/feeds/all.json", lambda body: True, timeout=20)
            recorded(tmp_path)
            write_record(records, "new.md", record_text(title="Nobody hears", url="https://example.com/unheard"))
            times = []
            deadline = time.monotonic() + 8  # the announcement (reload + delay + budget) runs meanwhile
            while time.monotonic() < deadline:
                started = time.monotonic()
                assert server.get("/feeds/all.json")[0] == 200
                times.append(time.monotonic() - started)
                time.sleep(0.05)
            assert max(times) < 2.0, f"slowest answer {max(times):.2f} s"  # loosely: no wait on a hub
            errors = until(lambda: [h["last_error"] for h in (json.loads(server.get("/healthz")[2])["hub"]
                                                              for _ in range(6)) if h["last_error"]], 20,
                           "the hub failure in /healthz")
            assert f"hub {closed} unreachable: connection refused" in errors[0]
            assert f"hub {slow} unreachable: timed out" in errors[0]
            assert "websub: hub" in (tmp_path / "gunicorn.log").read_text()  # logged too
        finally:
            server.stop()
        started = time.monotonic()
        built = run_cli("build", str(tmp_path / "out"), "--records", str(records), "--quiet")
        took = time.monotonic() - started
        assert built.returncode == 0, built.stderr
        assert f"hub {closed} unreachable: connection refused" in built.stdout
        assert f"hub {slow} unreachable: timed out" in built.stdout
        assert took < 20, took  # the announcement's budget is 8 s
    finally:
        listener.close()


def test_a_scheduled_story_is_served_when_its_time_comes_without_a_restart(tmp_path, records):  # noqa: F811
    due = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=6)).replace(microsecond=0)
    write_record(records, "later.md", record_text(title="Embargoed", url="https://example.com/later",
                                                  date=due.isoformat().replace("+00:00", "Z")))
    server = Server(records, tmp_path / "gunicorn.log")
    try:
        status, headers, body = server.get("/feeds/all.json")
        assert status == 200 and b"Embargoed" not in body
        age = int(headers["Cache-Control"].rpartition("=")[2])
        assert 0 <= age <= max(0, (due - dt.datetime.now(dt.timezone.utc)).total_seconds()) + 1  # never past it
        health = json.loads(server.get("/healthz")[2])
        assert health["scheduled"] == 1 and health["next_publication"] == due.isoformat()
        pids = server.worker_pids()
        server.every_worker("/feeds/all.json", lambda body: b"Embargoed" in body, timeout=30)
        late = (dt.datetime.now(dt.timezone.utc) - due).total_seconds()
        assert late < 1.0 + 2.5, late  # one reload interval (1 s), loosely
        assert json.loads(server.get("/healthz")[2])["scheduled"] == 0
        assert server.worker_pids() == pids  # no restart
    finally:
        server.stop()
