"""The nginx configurations of deploy/nginx/, run for real (Debian's nginx, as a process
of the test's own, its files in tmp_path): serving a built tree, and in front of two
gunicorns running the Procfile's command."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from helpers import REPO, build, nginx, record_text, shared_path, tree, write_record
from test_gunicorn import RELOAD, Server, free_port, slow_client

from frfeeds.deploy.headers import HEAD, PAGE, headers_for

pytestmark = pytest.mark.slow

TEMPLATES = REPO / "deploy" / "nginx"


def render(template: Path, values: dict[str, str]) -> str:
    """A template with its ``${NAME}`` variables filled, as ``envsubst 'NAMES'`` does."""
    text = template.read_text(encoding="utf-8")
    names = set(re.findall(r"\$\{(FRFEEDS_[A-Z0-9_]+)\}", text))
    assert names == set(values), f"{template.name} has the variables {sorted(names)}"
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
    return text


class Nginx:
    """nginx with one included configuration, everything it writes under folder."""

    def __init__(self, folder: Path, included: str, port: int | None = None):
        folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.folder = folder
        (folder / "frfeeds.conf").write_text(included.replace("${PORT}", str(self.port)), encoding="utf-8")
        temp = "".join(f"    {kind}_temp_path {folder / kind};\n" for kind in ("client_body", "proxy", "fastcgi",
                                                                               "uwsgi", "scgi"))
        # root's workers would run as nobody, who cannot read a test's tmp_path
        user = "user root root;\n" if os.geteuid() == 0 else ""
        (folder / "nginx.conf").write_text(
            f"{user}worker_processes 1;\npid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'} notice;\n"
            "events { worker_connections 512; }\n"
            f"http {{\n    access_log {folder / 'access.log'};\n{temp}    include {folder / 'frfeeds.conf'};\n}}\n")
        self.process = subprocess.Popen(
            [nginx(), "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", str(folder / "error.log"),
             "-g", "daemon off;"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while True:
            assert self.process.poll() is None, self.process.stdout.read().decode() + self.errors()
            try:
                self.get("/")
                return
            except OSError:
                assert time.monotonic() < deadline, "nginx did not start:\n" + self.errors()
                time.sleep(0.1)

    def errors(self) -> str:
        log = self.folder / "error.log"
        return log.read_text() if log.exists() else ""

    def get(self, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("GET", path, headers={"Connection": "close", **(headers or {})})
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGQUIT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process.stdout.close()


@pytest.fixture
def static_tree(tmp_path):
    """The shared corpus built (providers with dots in their slugs), and archive documents
    as the RFC 5005 archives will be written (feeds/<slug>/archive/<n>.<ext>), so that every kind of file is there."""
    out = tmp_path / "out"
    assert build(out, "--records", str(shared_path("corpus", "records")), "--quiet") == 0
    for path, archive in [("feeds/all.atom", "feeds/all/archive/1.atom"),
                          ("feeds/all.rss", "feeds/all/archive/1.rss"),
                          ("feeds/all.json", "feeds/all/archive/2.json"),
                          ("feeds/all.html", "feeds/all/archive/2.html")]:
        (out / archive).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out / path, out / archive)
    provider = next(path for path in sorted(tree(out)) if path.startswith("feeds/providers/") and "." in path[16:-5])
    stem = provider.rsplit(".", 1)[0]
    (out / stem / "archive").mkdir(parents=True)
    shutil.copyfile(out / provider, out / stem / "archive" / ("3." + provider.rsplit(".", 1)[1]))
    return out


def test_static_config_serves_every_file_with_the_policys_headers(tmp_path, static_tree):
    values = {"FRFEEDS_ROOT": str(static_tree), "FRFEEDS_LISTEN": "127.0.0.1:${PORT}"}
    server = Nginx(tmp_path / "nginx", render(TEMPLATES / "static.conf.template", values))
    try:
        files = tree(static_tree)
        kinds = {headers_for(path).cache_control for path in files}
        assert kinds == {kind.cache_control for kind in (HEAD, PAGE)}  # every kind a path tells is checked
        # a path does not tell a sealed archive block from the newest: every archive as a head
        archives = [path for path in files if "/archive/" in path and not path.endswith(".html")]
        assert archives and {headers_for(path).cache_control for path in archives} == {HEAD.cache_control}
        assert {path.rsplit(".", 1)[1] for path in files} == {"atom", "rss", "json", "html", "opml"}
        for path, data in files.items():
            status, headers, body = server.get(f"/{path}")
            expected = headers_for(path)
            assert (status, headers["content-type"], headers["cache-control"]) == (
                200, expected.content_type, expected.cache_control), path
            assert body == data and headers["etag"], path
        status, headers, body = server.get("/")
        assert status == 200 and body == files["index.html"]
        assert headers["content-type"] == "text/html; charset=utf-8"

        # 304 for the ETag and the date, with the Cache-Control again
        _, headers, _ = server.get("/feeds/all.atom")
        for condition in ({"If-None-Match": headers["etag"]}, {"If-Modified-Since": headers["last-modified"]}):
            status, again, body = server.get("/feeds/all.atom", condition)
            assert status == 304 and body == b"" and again["cache-control"] == HEAD.cache_control

        # gzip for who asks, varying on it; the bytes are the file's
        status, headers, body = server.get("/feeds/all.atom", {"Accept-Encoding": "gzip"})
        assert status == 200 and headers["content-encoding"] == "gzip" and headers["vary"] == "Accept-Encoding"
        assert gzip.decompress(body) == files["feeds/all.atom"]
        assert headers["content-type"] == "application/atom+xml; charset=utf-8"

        # a 404 page, and the marker not served
        for path in ("/feeds/nothing.atom", "/.frfeeds-tree", "/feeds/../../etc/passwd", "/feeds/"):
            status, headers, body = server.get(path)
            assert status in (400, 404) and b"root:" not in body, path
        status, headers, body = server.get("/feeds/nothing.atom")
        assert status == 404 and headers["content-type"] == "text/html; charset=utf-8"
        assert b"<h1>Not found</h1>" in body and b'href="/feeds.opml"' in body
        assert (static_tree / ".frfeeds-tree").is_file()
    finally:
        server.stop()


def test_proxy_config_in_front_of_two_gunicorns(tmp_path):
    records = tmp_path / "records"
    shutil.copytree(shared_path("seeds"), records)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    instances = []
    try:
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            instances.append(Server(records, tmp_path / name / "gunicorn.log", base_url=base_url))
        proxy = Nginx(tmp_path / "nginx", render(TEMPLATES / "proxy.conf.template", {
            "FRFEEDS_LISTEN": f"127.0.0.1:{port}", "FRFEEDS_CACHE_DIR": str(tmp_path / "nginx" / "cache"),
            "FRFEEDS_APP_1": f"127.0.0.1:{instances[0].port}", "FRFEEDS_APP_2": f"127.0.0.1:{instances[1].port}"}),
            port=port)
        try:
            check_proxy(proxy, instances, records)
        finally:
            proxy.stop()
    finally:
        for instance in instances:
            instance.stop()


def check_proxy(proxy: Nginx, instances: list[Server], records: Path) -> None:
    out = records.parent / "out"
    assert build(out, "--records", str(records), "--base-url", f"http://127.0.0.1:{proxy.port}", "--quiet") == 0
    files = tree(out)

    # the same bytes and ETag from either instance, and through nginx, whichever answered
    for path, data in files.items():
        direct = [instance.get(f"/{path}") for instance in instances]
        assert direct[0][2] == direct[1][2] == data, path
        assert direct[0][1]["ETag"] == direct[1][1]["ETag"], path
        status, headers, body = proxy.get(f"/{path}", {"User-Agent": "through-nginx"})
        assert (status, headers["etag"], body) == (200, direct[0][1]["ETag"], data), path
        assert headers["cache-control"] == direct[0][1]["Cache-Control"] and headers["content-type"] == \
            direct[0][1]["Content-Type"]
    assert all("through-nginx" in instance.log.read_text() for instance in instances)  # both answered some

    # 304s pass through, cached or not; gzip passes through, with its Vary and ETag
    _, headers, _ = proxy.get("/feeds/ai.atom")
    for path in ("/feeds/ai.atom", "/feeds/ai.atom"):
        status, again, body = proxy.get(path, {"If-None-Match": headers["etag"]})
        assert status == 304 and body == b"" and again["etag"] == headers["etag"], path
    # served queries nginx has not cached yet: the app's own 304s pass through
    variants = (("/feeds/ai.atom?min_quality=1", "ETag"), ("/feeds/ai.atom?min_quality=2", "Last-Modified"))
    for variant, condition in variants:
        _, fresh, _ = instances[0].get(variant)
        asked = {"If-None-Match" if condition == "ETag" else "If-Modified-Since": fresh[condition]}
        status, again, body = proxy.get(variant, asked)
        assert status == 304 and body == b"" and again["etag"] == fresh["ETag"], variant
    status, zipped, body = proxy.get("/feeds/all.json", {"Accept-Encoding": "gzip, deflate, br"})
    assert status == 200 and zipped["content-encoding"] == "gzip" and "Accept-Encoding" in zipped["vary"]
    assert gzip.decompress(body) == files["feeds/all.json"]
    direct = instances[1].get("/feeds/all.json", {"Accept-Encoding": "gzip"})
    assert direct[1]["ETag"] == zipped["etag"] and direct[2] == body  # the app's own gzip bytes
    status, plain, body = proxy.get("/feeds/all.json", {"Accept-Encoding": "identity"})
    assert status == 200 and "content-encoding" not in plain and body == files["feeds/all.json"]
    assert proxy.get("/feeds/all.json", {"Accept-Encoding": "gzip", "If-None-Match": zipped["etag"]})[0] == 304

    # the cache takes the load: a burst of 30 requests reaches the apps a few times at most
    for _ in range(30):
        assert proxy.get("/feeds/all.rss", {"User-Agent": "burst"})[0] == 200
    reached = sum(instance.log.read_text().count('"burst"') for instance in instances)
    assert reached <= 10, reached  # uncached, all 30 would
    assert proxy.get("/feeds/nothing.atom")[0] == 404 and proxy.get("/healthz")[0] == 200

    # slow clients are nginx's: more of them than the apps have threads (2 x 2 x 32), and
    # requests that miss the cache (so reach an app) are answered at full speed meanwhile
    stop = threading.Event()
    slow = [threading.Thread(target=slow_client, args=(proxy.port, 12, stop), daemon=True) for _ in range(150)]
    try:
        for thread in slow:
            thread.start()
        time.sleep(1.5)
        waits = []
        for number in range(20):
            started = time.monotonic()
            assert proxy.get(f"/feeds/all.atom?min_quality={number + 1}")[0] == 200  # a served query: a miss
            waits.append(time.monotonic() - started)
            time.sleep(0.1)
        assert max(waits) < 1.0, waits
        assert sum(thread.is_alive() for thread in slow) > 140  # still trickling
    finally:
        stop.set()
        for thread in slow:
            thread.join(timeout=5)

    # a records change shows within the reload interval plus the max-age (and a margin)
    max_age = int(re.fullmatch(r"public, max-age=(\d+)", headers["cache-control"])[1])
    url = "https://example.com/through-nginx"
    # the newest story, yet in the past: a future date would be held until its time
    write_record(records, "new.md", record_text(title="Through nginx", url=url, date="2026-01-01T00:00:00Z"))
    started = time.monotonic()
    while url not in {item["id"] for item in json.loads(proxy.get("/feeds/all.json")[2])["items"]}:
        assert time.monotonic() - started < RELOAD + max_age + 5, "the change did not show through nginx"
        time.sleep(0.2)
    assert "[emerg]" not in proxy.errors() and "[crit]" not in proxy.errors()
