"""The Flask app with its test client: parity with the build, and HTTP done right."""

import gzip
import json
import os
import shutil
import subprocess
import sys
import time

import pytest
from helpers import SEEDS, build, record_text, tree, write_record
from werkzeug.http import http_date

from frfeeds.app import create_app
from frfeeds.read.cache import open_cache

BASE = "https://feeds.example.org"


@pytest.fixture(scope="module")
def app():
    return create_app({"RECORDS": str(SEEDS), "BASE_URL": BASE, "RELOAD_INTERVAL": 3600})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.mark.parametrize("options", [[], ["--no-amp", "--include-unpublished", "--limit", "1"]])
def test_every_path_of_the_built_tree_is_served_with_the_same_bytes(tmp_path, options):
    out = tmp_path / "out"
    assert build(out, "--records", str(SEEDS), "--base-url", BASE, *options) == 0
    config = {"RECORDS": str(SEEDS), "BASE_URL": BASE, "AMP": "--no-amp" not in options,
              "INCLUDE_UNPUBLISHED": "--include-unpublished" in options, "LIMIT": options[-1] if options else None}
    client = create_app(config).test_client()
    built = tree(out)
    assert len(built) >= 17
    for path, data in built.items():
        response = client.get(f"/{path}")
        assert response.status_code == 200, path
        assert response.data == data, path
    assert client.get("/").data == built["index.html"]


@pytest.mark.parametrize(
    "path, media_type",
    [
        ("/feeds/ai.atom", "application/atom+xml"),
        ("/feeds/ai.rss", "application/rss+xml"),
        ("/feeds/providers/cbsnews.com.json", "application/feed+json"),
        ("/feeds.opml", "text/x-opml"),
        ("/", "text/html"),
        ("/index.html", "text/html"),
    ],
)
def test_content_types_carry_utf8(client, path, media_type):
    response = client.get(path)
    assert response.headers["Content-Type"] == f"{media_type}; charset=utf-8"
    assert response.headers["Cache-Control"] == "public, max-age=3600"


ETAG_PROBE = """
import sys
from frfeeds.app import create_app
from frfeeds.read.cache import open_cache
client = create_app({"RECORDS": sys.argv[1], "BASE_URL": "https://feeds.example.org"}).test_client()
for path in ("/feeds/ai.atom", "/feeds.opml"):
    print(client.get(path).headers["ETag"], client.get(path, headers={"Accept-Encoding": "gzip"}).headers["ETag"])
"""


def test_strong_etag_is_identical_across_processes(client):
    runs = [
        subprocess.run([sys.executable, "-c", ETAG_PROBE, str(SEEDS)], capture_output=True, text=True,
                       env={"PYTHONHASHSEED": seed, "PATH": ""}, check=True).stdout
        for seed in ("1", "2")
    ]
    assert runs[0] == runs[1]
    etag = client.get("/feeds/ai.atom").headers["ETag"]
    assert runs[0].split()[0] == etag and not etag.startswith("W/")


def test_if_none_match_gives_304_with_empty_body(client):
    etag = client.get("/feeds/ai.atom").headers["ETag"]
    response = client.get("/feeds/ai.atom", headers={"If-None-Match": etag})
    assert response.status_code == 304 and response.data == b""
    assert response.headers["ETag"] == etag
    assert client.get("/feeds/ai.atom", headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get("/feeds/ai.rss", headers={"If-None-Match": etag}).status_code == 200


def test_last_modified_is_newest_entry_and_if_modified_since_gives_304(client):
    response = client.get("/feeds/ai.atom")
    assert response.headers["Last-Modified"] == "Mon, 17 May 2021 04:08:00 GMT"
    assert client.get("/feeds/providers/nytimes.com.atom").headers["Last-Modified"] == "Sun, 12 Jan 2020 22:17:00 GMT"
    assert client.get("/feeds.opml").headers["Last-Modified"] == "Mon, 17 May 2021 04:08:00 GMT"
    later = client.get("/feeds/ai.atom", headers={"If-Modified-Since": "Tue, 18 May 2021 00:00:00 GMT"})
    assert later.status_code == 304 and later.data == b""
    earlier = client.get("/feeds/ai.atom", headers={"If-Modified-Since": "Sun, 16 May 2021 00:00:00 GMT"})
    assert earlier.status_code == 200 and earlier.data


def test_head_has_headers_and_no_body(client):
    get, head = client.get("/feeds/all.json"), client.head("/feeds/all.json")
    assert head.status_code == 200 and head.data == b""
    for name in ("Content-Type", "ETag", "Last-Modified", "Content-Length", "Cache-Control"):
        assert head.headers[name] == get.headers[name], name


def test_gzip_when_asked_and_only_then(client, app):
    plain = client.get("/feeds/all.atom")
    zipped = client.get("/feeds/all.atom", headers={"Accept-Encoding": "gzip, deflate"})
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.data) == plain.data
    assert zipped.headers["ETag"] != plain.headers["ETag"]  # two representations, two strong ETags
    other = create_app({"RECORDS": str(SEEDS), "BASE_URL": BASE}).test_client()
    assert other.get("/feeds/all.atom", headers={"Accept-Encoding": "gzip"}).data == zipped.data  # same bytes anywhere
    again = client.get("/feeds/all.atom", headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert "Content-Encoding" not in client.get("/feeds/all.atom", headers={"Accept-Encoding": "identity"}).headers


def test_unknown_paths_get_a_short_404_pointing_to_the_index(client):
    response = client.get("/feeds/nope.atom")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert b'href="/"' in response.data and b"feeds.opml" in response.data and len(response.data) < 1000
    for path in ("/feeds/ai.atom/", "/feeds/ai", "/feeds/AI.atom", "/feeds/providers/", "/.frfeeds-tree"):
        assert client.get(path).status_code == 404, path
    assert client.post("/feeds/ai.atom").status_code == 405


TRAVERSALS = [
    "/../../etc/passwd", "/feeds/../../etc/passwd", "/feeds/../index.html", "/%2e%2e/%2e%2e/etc/passwd",
    "/feeds/%2e%2e/index.html", "/feeds%2f..%2f..%2fetc%2fpasswd", "/%252e%252e%252fetc%252fpasswd",
    "/..%5c..%5cetc%5cpasswd", "/feeds\\..\\index.html", "/%2e%2e%5cseeds%5c000_0caf8a9d4d505239.txt",
    "//etc/passwd", "/feeds/./ai.atom", "/%00", "/seeds/000_0caf8a9d4d505239.txt", "/pyproject.toml",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_in_any_encoding_is_404(client, path):
    response = client.get(path)
    assert response.status_code == 404, path
    assert b"root:" not in response.data and b"secured" not in response.data


def test_startup_and_requests_survive_bad_records(tmp_path):
    records = tmp_path / "records"
    write_record(records, "good.md", record_text())
    write_record(records, "bad.md", "---\ntitle: [unclosed\n---\n")
    write_record(records, "bomb.md", "---\nt: " + "[" * 60_000 + "]" * 60_000 + "\n---\n")
    client = create_app({"RECORDS": str(records)}).test_client()
    health = client.get("/healthz")
    assert health.status_code == 200
    assert {key: health.json[key] for key in ("status", "records", "published", "rejected", "feeds")} == {
        "status": "ok", "records": 3, "published": 1, "rejected": 2, "feeds": 3,
    }
    assert health.json["loaded_at"].endswith("+00:00")
    assert len(json.loads(client.get("/feeds/all.json").data)["items"]) == 1


def test_missing_records_folder_serves_an_empty_tree_and_says_so(tmp_path):
    client = create_app({"RECORDS": str(tmp_path / "missing")}).test_client()
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json["status"] == "error"
    assert "records folder not found" in health.json["last_error"]
    assert client.get("/feeds/all.atom").status_code == 200  # valid, empty
    assert json.loads(client.get("/feeds/all.json").data)["items"] == []


def test_reload_picks_up_changes_and_keeps_last_good_tree_on_failure(tmp_path, caplog):
    records = tmp_path / "records"
    write_record(records, "a.md", record_text(url="https://example.com/a"))
    app = create_app({"RECORDS": str(records), "RELOAD_INTERVAL": 3600})
    reloader, client = app.extensions["frfeeds"], app.test_client()
    ids = lambda: [item["id"] for item in json.loads(client.get("/feeds/all.json").data)["items"]]  # noqa: E731
    assert ids() == ["https://example.com/a"]
    assert reloader.check() is False  # nothing changed: no rebuild

    write_record(records, "b.md", record_text(url="https://example.com/b", date="2021-06-01T00:00:00Z"))
    write_record(records, "broken.md", "---\nwebUrl: nope\n---\n")
    assert reloader.check() is True
    assert ids() == ["https://example.com/b", "https://example.com/a"]
    assert "broken.md: webUrl: must be an absolute http(s) URL" in caplog.text

    records.rename(tmp_path / "moved")
    assert reloader.check() is False
    assert ids() == ["https://example.com/b", "https://example.com/a"]  # last good feeds
    assert "failed, serving the feeds loaded at" in caplog.text
    assert client.get("/healthz").json["status"] == "degraded"
    (tmp_path / "moved").rename(records)
    (records / "a.md").unlink()
    assert reloader.check() is True
    assert ids() == ["https://example.com/b"]
    assert client.get("/healthz").json["status"] == "ok"


def test_bad_configuration_is_a_usage_error(tmp_path):
    from frfeeds.errors import UsageError

    with pytest.raises(UsageError, match="^create_app RELOAD_INTERVAL must be a number of seconds"):
        create_app({"RECORDS": str(SEEDS), "RELOAD_INTERVAL": "soon"})
    with pytest.raises(UsageError, match="^create_app LIMIT must be between 1 and"):
        create_app({"RECORDS": str(SEEDS), "LIMIT": 0})


def test_dates_in_headers_are_http_dates(client):
    assert client.get("/feeds/all.rss").headers["Last-Modified"] == http_date(1621224480)


def test_requests_read_nothing_from_disk_after_the_load(tmp_path, monkeypatch):
    """Once loaded, every file is answered from memory: the records and the parse cache
    may change or vanish (another process pruning it, an editor deleting files) until
    the next reload, and every path still gets the bytes a build gave."""
    records = tmp_path / "records"
    shutil.copytree(SEEDS, records)
    for path in records.iterdir():  # old enough to be cached (see cache.RACY_NS)
        os.utime(path, (time.time() - 10, time.time() - 10))
    out = tmp_path / "out"
    assert build(out, "--records", str(records), "--base-url", BASE) == 0  # fills the cache
    app = create_app({"RECORDS": str(records), "BASE_URL": BASE, "RELOAD_INTERVAL": 3600})
    assert app.extensions["frfeeds"].tree.parsed == 0  # all from the cache
    other = open_cache(records, tmp_path / "frfeeds-cache")  # as another worker's reload would
    other.update([], removed=[path.name for path in records.iterdir()])
    other.close()
    shutil.rmtree(records)
    client = app.test_client()
    for path, data in tree(out).items():
        response = client.get(f"/{path}")
        assert (response.status_code, response.data) == (200, data), path


def test_a_file_that_cannot_be_rendered_is_its_last_version_or_a_503(tmp_path, monkeypatch, caplog):
    import frfeeds.serve.served

    app = create_app({"RECORDS": str(SEEDS), "BASE_URL": BASE, "RELOAD_INTERVAL": 3600})
    client = app.test_client()
    before = client.get("/feeds/ai.atom").data

    def broken(*args, **kwargs):
        raise MemoryError("no room to render")

    monkeypatch.setattr(frfeeds.serve.served, "render_feeds", broken)
    reloader = app.extensions["frfeeds"]
    reloader.tree = frfeeds.serve.served.ServedTree(reloader.tree.plan, reloader.tree.held,
                                                    frfeeds.serve.served.RenderMemo(),
                                                    reloader.log)
    assert client.get("/feeds/ai.atom").status_code == 503  # nothing rendered in this memo yet
    reloader.tree = frfeeds.serve.served.ServedTree(reloader.tree.plan, reloader.tree.held, reloader.memo, reloader.log)
    response = client.get("/feeds/ai.atom")
    assert (response.status_code, response.data) == (200, before)  # the last good bytes
    unavailable = client.get("/feeds/all.rss")
    assert unavailable.status_code == 503 and unavailable.headers["Retry-After"] == "3600"
    assert "cannot render feeds/all.rss (MemoryError: no room to render): nothing to serve" in caplog.text
