"""The Procfile's command, run for real: gunicorn on 127.0.0.1, real readers over HTTP."""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import feedparser
import pytest
from reader import make_reader

from conftest import REPO, SEEDS, record_text, write_record

RELOAD = 1.0
WORKERS = 2


def procfile_command() -> str:
    for line in (REPO / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.removeprefix("web:").strip()
    raise AssertionError("Procfile has no web process")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, records: Path, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "WEB_CONCURRENCY": str(WORKERS),
            "FRFEEDS_RECORDS": str(records),
            "FRFEEDS_BASE_URL": self.url,
            "FRFEEDS_RELOAD_INTERVAL": str(RELOAD),
            "HOME": str(log.parent),  # gunicorn 27 puts a control socket under $HOME
        }
        self.output = open(log, "w")
        self.process = subprocess.Popen(
            ["bash", "-c", f"exec {procfile_command()}"], env=env, stdout=self.output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, log.read_text()
            try:
                if self.get("/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("gunicorn did not start:\n" + log.read_text())

    def get(self, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
        """One request on a new connection, so that any worker may answer it."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", path, headers={"Connection": "close", **(headers or {})})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def every_worker(self, path: str, predicate, timeout: float) -> None:
        """Until timeout: answers from every worker satisfy predicate (all of the last 12)."""
        deadline = time.monotonic() + timeout
        while True:
            pids, answers = set(), []
            for _ in range(12):
                pids.add(json.loads(self.get("/healthz")[2])["pid"])
                answers.append(predicate(self.get(path)[2]))
            if all(answers) and len(pids) == WORKERS:
                return
            assert time.monotonic() < deadline, f"not every worker caught up: {answers}, pids {pids}"
            time.sleep(0.2)

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        self.output.close()


@pytest.fixture
def records(tmp_path):
    folder = tmp_path / "records"
    shutil.copytree(SEEDS, folder)
    return folder


@pytest.fixture
def server(tmp_path, records):
    running = Server(records, tmp_path / "gunicorn.log")
    yield running
    running.stop()


def test_procfile_binds_port_and_runs_the_app_factory():
    command = procfile_command()
    assert command.startswith("gunicorn ") and "$PORT" in command.replace("${PORT", "$PORT")
    assert "'frfeeds.app:create_app()'" in command


def test_reader_subscribes_updates_without_duplicates_and_gets_304(server, tmp_path):
    feed_url = f"{server.url}/feeds/ai.atom"
    library = make_reader(str(tmp_path / "reader.sqlite"))
    try:
        library.add_feed(feed_url)
        library.update_feeds()
        feed = library.get_feed(feed_url)
        assert feed.last_exception is None and feed.title == "AI"
        entries = {entry.id: entry for entry in library.get_entries()}
        assert set(entries) == {
            "https://www.cbsnews.com/video/facial-recognition-video-60-minutes-2021-05-16/",
            "https://www.nytimes.com/2020/01/12/technology/facial-recognition-police.html",
        }
        nyt = entries["https://www.nytimes.com/2020/01/12/technology/facial-recognition-police.html"]
        assert nyt.title == "How the Police Use Facial Recognition, and Where It Falls Short"
        assert nyt.link == nyt.id and nyt.published.isoformat() == "2020-01-12T22:17:00+00:00"

        library.update_feeds(scheduled=False)  # a second update, now: conditional request, nothing new
        assert len(list(library.get_entries())) == 2
        assert library.get_feed(feed_url).last_exception is None
    finally:
        library.close()
    log = server.log.read_text()
    assert '"GET /feeds/ai.atom HTTP/1.1" 200' in log
    assert '"GET /feeds/ai.atom HTTP/1.1" 304' in log, log


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_feedparser_reads_every_feed_over_http(server, fmt):
    parsed = feedparser.parse(f"{server.url}/feeds/all.{fmt}")
    assert parsed.status == 200 and not parsed.bozo
    assert [entry.link for entry in parsed.entries] == [
        "https://www.cbsnews.com/video/facial-recognition-video-60-minutes-2021-05-16/",
        "https://www.nytimes.com/2020/01/12/technology/facial-recognition-police.html",
    ]
    again = feedparser.parse(f"{server.url}/feeds/all.{fmt}", etag=parsed.etag, modified=parsed.modified)
    assert again.status == 304 and again.entries == []


def test_traversal_over_real_http_is_404(server, records):
    (records.parent / "secret.txt").write_text("root:x:0:0")
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/feeds/..%2f..%2fsecret.txt", "/..%5csecret.txt",
                 "/%252e%252e%252fsecret.txt", "/feeds/../index.html"):
        status, _, body = server.get(path)
        assert status in (400, 404), path  # gunicorn itself refuses some malformed targets
        assert b"root:x" not in body


def test_live_reload_in_every_worker(server, records):
    def ids(body):
        return {item["id"] for item in json.loads(body)["items"]}

    url = "https://example.com/live"
    write_record(records, "live.md", record_text(title="Live one", url=url, date="2022-01-01T00:00:00Z"))
    server.every_worker("/feeds/all.json", lambda body: url in ids(body), timeout=RELOAD + 5)

    write_record(records, "live.md", record_text(title="Live two", url=url, date="2022-01-01T00:00:00Z"))
    server.every_worker("/feeds/all.json", lambda body: b"Live two" in body, timeout=RELOAD + 5)

    write_record(records, "broken.md", "---\ntitle: [oops\n---\n")
    (records / "live.md").unlink()
    server.every_worker("/feeds/all.json", lambda body: url not in ids(body), timeout=RELOAD + 5)
    assert "broken.md: front matter: YAML error" in server.log.read_text()

    # the whole folder goes away: the last good feeds stay, the failure is logged
    records.rename(records.with_name("gone"))
    time.sleep(RELOAD * 2.5)
    server.every_worker("/feeds/all.json", lambda body: len(ids(body)) == 2, timeout=RELOAD + 5)
    assert "failed, serving the feeds loaded at" in server.log.read_text()
    status, _, body = server.get("/healthz")
    assert status == 200 and json.loads(body)["status"] == "degraded"
    assert server.process.poll() is None


def test_frfeeds_serve_for_local_use(tmp_path):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "frfeeds.cli", "serve", "--records", str(SEEDS), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, "FRFEEDS_BASE_URL": ""},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/feeds/ai.atom")
                response = connection.getresponse()
                break
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.2)
        body = response.read()
        assert response.status == 200
        assert f"http://localhost:{port}/feeds/ai.atom".encode() in body  # base URL follows the port
    finally:
        process.terminate()
        process.wait(timeout=10)
