"""The Procfile's command, run for real: gunicorn on 127.0.0.1, real readers over HTTP."""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import feedparser
import pytest
from helpers import REPO, SEEDS, build, record_text, tree, write_record
from reader import make_reader

#: Every test but the Procfile's starts a server process.
pytestmark = pytest.mark.slow

RELOAD = 1.0
WORKERS = 2
#: The Procfile's app spec.
APP = "frfeeds.app:create_app()"


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
    def __init__(self, records: Path, log: Path, reload: float = RELOAD, base_url: str | None = None,
                 app: str | None = None):
        """The Procfile's command; with app, its app spec replaced (``frfeeds.app:create_app(fast=False)``)."""
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
            "FRFEEDS_BASE_URL": base_url or self.url,  # replicas behind a proxy share the proxy's
            "FRFEEDS_RELOAD_INTERVAL": str(reload),
            "HOME": str(log.parent),  # gunicorn 27 puts a control socket under $HOME
        }
        self.output = open(log, "w")
        self.process = subprocess.Popen(
            ["bash", "-c", "exec " + procfile_command().replace(APP, app or APP)],
            env=env, stdout=self.output, stderr=subprocess.STDOUT,
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

    def answer(self, method: str, path: str, headers: dict) -> tuple[int, list[tuple[str, str]], bytes]:
        """Status, every header in order (Date's value masked: the time) and body of one request."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, headers={"Connection": "close", **headers})
            response = connection.getresponse()
            fields = [(name, "<date>" if name == "Date" else value) for name, value in response.getheaders()]
            return response.status, fields, response.read()
        finally:
            connection.close()

    def worker_pids(self, timeout: float = 10) -> set[int]:
        """The workers' pids, asked of /healthz until every worker has answered (requests
        land on whichever worker takes them: eight in a row may all reach one)."""
        deadline, pids = time.monotonic() + timeout, set()
        while len(pids) < WORKERS:
            assert time.monotonic() < deadline, f"only workers {pids} answered"
            pids.add(json.loads(self.get("/healthz")[2])["pid"])
        return pids

    def every_worker(self, path: str, predicate, timeout: float) -> None:
        """Until timeout: answers from every worker satisfy predicate (all of the last 12)."""
        deadline = time.monotonic() + timeout
        while True:
            pids, answers, bodies = set(), [], []
            for _ in range(12):
                pids.add(json.loads(self.get("/healthz")[2])["pid"])
                bodies.append(self.get(path)[2])
                answers.append(predicate(bodies[-1]))
            if all(answers) and len(pids) == WORKERS:
                return
            if time.monotonic() >= deadline:  # what was served, and what the workers logged
                failing = next((body for body, answer in zip(bodies, answers, strict=True) if not answer), b"")
                log = "\n".join(self.log.read_text().splitlines()[-30:])
                raise AssertionError(f"not every worker caught up: {answers}, pids {pids}; "
                                     f"a failing answer: {failing[:600]!r}; the log's end:\n{log}")
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


def test_the_fast_path_answers_over_http_as_flask_does(tmp_path, records):
    """The Procfile's gunicorn with the fast path and without it (every request through
    Flask): the same status, headers in the same order and body, request for request."""
    base_url = "https://feeds.example.org"
    fast = Server(records, tmp_path / "fast.log", base_url=base_url)
    flask = Server(records, tmp_path / "flask.log", base_url=base_url, app="frfeeds.app:create_app(fast=False)")
    try:
        for path in ("/", "/index.html", "/feeds.opml", "/feeds/ai.atom", "/feeds/all.rss", "/feeds/all.json",
                     "/feeds/ai.html", "/feeds/providers/cbsnews.com.atom", "/feeds/nope.atom", "/feeds/ai.atom/",
                     "/feeds/ai.atom?topics=ai", "/%2e%2e/index.html"):
            found = dict(flask.answer("GET", path, {})[1])
            etag, modified = found.get("ETag", '"none"'), found.get("Last-Modified", "")
            requests = [{}, {"Accept-Encoding": "gzip"}, {"Accept-Encoding": "gzip;q=0, identity"},
                        {"If-None-Match": etag}, {"If-None-Match": etag, "Accept-Encoding": "gzip"},
                        {"If-None-Match": etag[:-1] + ':gzip"', "Accept-Encoding": "gzip"},
                        {"If-None-Match": '"other"'}, {"If-Modified-Since": modified}, {"If-Match": '"other"'}]
            for method in ("GET", "HEAD"):
                for headers in requests:
                    assert fast.answer(method, path, headers) == flask.answer(method, path, headers), (
                        method, path, headers)
    finally:
        fast.stop()
        flask.stop()


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


def test_health_returns_to_ok_when_the_folder_comes_back(server, records):
    records.rename(records.with_name("away"))
    time.sleep(RELOAD * 2.5)
    assert json.loads(server.get("/healthz")[2])["status"] == "degraded"
    records.with_name("away").rename(records)  # back, unchanged: nothing to reload, all is well again
    deadline = time.monotonic() + RELOAD + 5
    while {json.loads(server.get("/healthz")[2])["status"] for _ in range(8)} != {"ok"}:
        assert time.monotonic() < deadline, "a worker stayed degraded"
        time.sleep(0.2)


class Churn(threading.Thread):
    """Records added, edited, deleted, corrupted, half-written and the folder renamed away
    and back, every half second, as an editor and a sync job would. Edits and deletions
    hit the folder's existing records too, whose parses the app took from the cache."""

    def __init__(self, records: Path):
        super().__init__(daemon=True)
        self.records = records
        self.existing = sorted(path.relative_to(records) for path in records.rglob("*.md"))[::7]
        self.stop = threading.Event()

    def run(self):
        step = 0
        while not self.stop.is_set():
            name = f"churn-{step % 7}.md"
            text = record_text(title=f"Churn {step}", url=f"https://example.com/churn/{step % 7}",
                               date=f"2022-02-{1 + step % 28:02d}T00:00:00Z")
            old = self.records / self.existing[step % len(self.existing)]
            action = step % 7
            if action == 0:
                write_record(self.records, name, text)
            elif action == 1 and old.exists():  # an existing record edited
                old.write_text(old.read_text().replace("title: ", "title: Edited ", 1))
            elif action == 2:
                old.unlink(missing_ok=True)
            elif action == 3:
                write_record(self.records, name, "---\ntitle: [broken\n---\n")
            elif action == 4:  # written in two halves, read in between
                with open(self.records / name, "w") as handle:
                    handle.write(text[: len(text) // 2])
                    handle.flush()
                    time.sleep(0.2)
                    handle.write(text[len(text) // 2:])
            elif action == 5 and step % 14 == 5:
                away = self.records.with_name("away")
                self.records.rename(away)
                time.sleep(0.3)
                away.rename(self.records)
            step += 1
            time.sleep(0.5)


def hammer(server: Server, paths: list[str], seconds: float) -> list[tuple[str, int]]:
    """Concurrent GETs (some conditional) for seconds: every (path, status) seen."""
    statuses: list[tuple[str, int]] = []
    etags: dict[str, str] = {}

    def client(offset: int):
        deadline = time.monotonic() + seconds
        index = offset
        while time.monotonic() < deadline:
            path = paths[index % len(paths)]
            headers = {"If-None-Match": etags[path]} if path in etags and index % 3 == 0 else {}
            status, response_headers, _ = server.get(path, headers)
            if "ETag" in response_headers:
                etags[path] = response_headers["ETag"]
            statuses.append((path, status))
            index += 1

    threads = [threading.Thread(target=client, args=(offset,)) for offset in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def served_tree_equals_build(server: Server, records: Path, out: Path) -> None:
    """Every file a fresh build of records gives is served with the same bytes, by every worker."""
    assert build(out, "--records", str(records), "--base-url", server.url, "--no-cache", "--quiet") == 0
    built = tree(out)
    deadline = time.monotonic() + RELOAD + 10
    while True:
        differing = [path for path, data in built.items() for _ in range(2) if server.get(f"/{path}")[2] != data]
        if not differing:
            return
        assert time.monotonic() < deadline, f"served files differ from a fresh build: {differing[:5]}"
        time.sleep(0.5)


@pytest.fixture
def corpus(tmp_path, generated):
    """The generated records, their parses in the (test's own) cache: the app then loads
    summaries from the cache and reads a record's details only when it needs them."""
    folder = tmp_path / "corpus"
    shutil.copytree(generated, folder)
    for path in folder.rglob("*.md"):  # old enough to be cached (see cache.RACY_NS)
        os.utime(path, (time.time() - 10, time.time() - 10))
    assert build(tmp_path / "warm", "--records", str(folder), "--quiet") == 0
    return folder


def test_records_churning_under_load_give_no_5xx_then_a_fresh_builds_bytes(tmp_path, corpus):
    server = Server(corpus, tmp_path / "gunicorn.log")
    try:
        # every file of the feeds too big to vanish meanwhile, the pages and the health check
        big = [path[:-5] for path, data in tree(tmp_path / "warm").items()
               if path.endswith(".json") and len(json.loads(data)["items"]) >= 20]
        paths = [f"/{feed}.{ext}" for feed in big for ext in ("atom", "rss", "json")] + ["/feeds.opml", "/", "/healthz"]
        assert len(big) > 5 and all(server.get(path)[0] == 200 for path in paths)
        for round_ in range(2):
            churn = Churn(corpus)
            churn.start()
            statuses = hammer(server, paths, seconds=6)
            churn.stop.set()
            churn.join()
            failed = [(path, status) for path, status in statuses if status not in (200, 304)]
            assert len(statuses) > 100 and not failed, (round_, failed[:10], server.log.read_text()[-3000:])
            served_tree_equals_build(server, corpus, tmp_path / f"fresh-{round_}")
        assert "Traceback" not in server.log.read_text()
    finally:
        server.stop()


def test_a_cli_build_sharing_the_cache_while_the_app_serves_gives_no_5xx(tmp_path, corpus):
    """The CLI prunes the cache rows of deleted records while the workers still serve
    feeds holding them (their next reload is far off): answers come from the workers'
    memory, never from the rows."""
    server = Server(corpus, tmp_path / "gunicorn.log", reload=3600)
    try:
        server.every_worker("/healthz", lambda body: json.loads(body)["status"] == "ok", timeout=10)
        out = tmp_path / "out"
        assert build(out, "--records", str(corpus), "--base-url", server.url, "--quiet") == 0
        tree_paths = sorted(tree(out))
        for path in sorted(corpus.rglob("*.md"))[:3]:
            path.unlink()
        assert build(out, "--records", str(corpus), "--base-url", server.url, "--quiet") == 0  # prunes the rows
        built = [(path, server.get(f"/{path}")[0]) for path in tree_paths for _ in range(2)]
        assert {status for _, status in built} == {200}, [item for item in built if item[1] != 200][:5]
    finally:
        server.stop()


def slow_client(port: int, seconds: float, stop: threading.Event) -> None:
    """Sends a request's headers one byte a second (a slowloris client)."""
    request = b"GET /feeds/all.atom HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 64
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        for byte in request[: int(seconds)]:
            if stop.is_set():
                return
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                return
            time.sleep(1)


def test_slow_clients_do_not_stall_normal_requests(server):
    stop = threading.Event()
    slow = [threading.Thread(target=slow_client, args=(server.port, 15, stop), daemon=True) for _ in range(20)]
    try:
        for thread in slow:
            thread.start()
        time.sleep(1.5)  # every slow client connected and holding its request open
        waits = []
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            started = time.monotonic()
            status, _, _ = server.get("/feeds/all.atom")
            waits.append(time.monotonic() - started)
            assert status == 200
            time.sleep(0.2)
        assert max(waits) < 1.0, f"{sum(w > 1 for w in waits)} of {len(waits)} requests took over 1 s"
        assert all(thread.is_alive() for thread in slow)  # they were still trickling meanwhile
    finally:
        stop.set()
        for thread in slow:
            thread.join(timeout=5)
