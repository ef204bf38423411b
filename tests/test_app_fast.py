"""The fast path (serve/fast.py) answers exactly as the Flask app does: the same status,
headers in the same order and body for the same request, in process here and through
the Procfile's gunicorn in test_gunicorn.py."""

import pytest
from flask_compress.flask_compress import _choose_algorithm
from helpers import SEEDS, build, tree
from werkzeug.test import Client

from frfeeds.app import create_app

BASE = "https://feeds.example.org"
CONFIG = {"RECORDS": str(SEEDS), "BASE_URL": BASE, "RELOAD_INTERVAL": 3600, "LIMIT": 1, "FEEDS_ARCHIVE_SIZE": 1,
          "HUB": "https://hub.example.org/", "CACHE": "off"}

ENCODINGS = ["gzip", "gzip, deflate, br", "identity", "*", "br", "gzip;q=0", "identity;q=1, gzip;q=0.5",
             "gzip;q=0.5, identity", "GZIP", " gzip ;q=x", "*;q=0", "deflate, *", "gzip;q=0, identity;q=0"]


def conditions(etag: str, last_modified: str) -> list[dict[str, str]]:
    """Requests' conditions on a file whose ETag (plain) and Last-Modified are given."""
    gzip_etag = etag[:-1] + ':gzip"'
    return [
        {"If-None-Match": etag}, {"If-None-Match": gzip_etag}, {"If-None-Match": f'"other", {gzip_etag}'},
        {"If-None-Match": f"W/{etag}"}, {"If-None-Match": "*"}, {"If-None-Match": '"other"'},
        {"If-None-Match": etag[1:-1]}, {"If-Modified-Since": last_modified},
        {"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"}, {"If-Modified-Since": "yesterday"},
        {"If-None-Match": '"other"', "If-Modified-Since": last_modified},
        {"If-Match": etag}, {"If-Match": '"other"'}, {"If-Unmodified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"},
        {"Range": "bytes=0-10"}, {"Range": "bytes=0-10", "If-Range": etag},
    ]


def answer(client: Client, method: str, path: str, headers: dict[str, str]) -> tuple[str, list, bytes]:
    response = client.open(path, method=method, headers=headers)
    # Date is the time of the answer: its place is compared, not its value
    fields = [(name, "<date>" if name == "Date" else value) for name, value in response.headers.items()]
    return response.status, fields, response.get_data()


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FRFEEDS_FEEDS_ARCHIVE_SIZE", "1")
        assert build(out, "--records", str(SEEDS), "--base-url", BASE, "--limit", "1", "--no-cache") == 0
    return create_app(CONFIG), create_app(CONFIG, fast=False), sorted(tree(out))


def test_the_fast_path_answers_as_flask_does(apps):
    fast, flask, paths = apps
    through_flask = []
    inner = fast.wsgi_app.app
    fast.wsgi_app.app = lambda environ, start_response: through_flask.append(environ["PATH_INFO"]) or inner(
        environ, start_response)
    fast_client, flask_client = Client(fast), Client(flask)
    assert any("/archive/" in path for path in paths) and "feeds.opml" in paths
    compared = 0
    for path in ["/", *(f"/{path}" for path in paths)]:
        status, fields, _ = answer(flask_client, "GET", path, {})
        assert status == "200 OK", path
        found = dict(fields)
        requests = [{}, *({"Accept-Encoding": value} for value in ENCODINGS)]
        requests += conditions(found["ETag"], found["Last-Modified"])
        requests += [{**condition, "Accept-Encoding": "gzip"} for condition in requests[len(ENCODINGS) + 1:]]
        for method in ("GET", "HEAD"):
            for headers in requests:
                assert answer(fast_client, method, path, headers) == answer(flask_client, method, path, headers), (
                    method, path, headers)
                compared += 1
    assert compared > 1000
    # the plain requests were the fast path's; only the ranges and If-Match kinds reached Flask
    assert len(through_flask) < compared / 4


@pytest.mark.parametrize("path", ["/feeds/nope.atom", "/feeds/ai.atom/", "/feeds//ai.atom", "/feeds/./ai.atom",
                                  "/feeds/ai.atom?topics=ai", "/feeds/ai.atom?", "/index.html?x", "/%2e%2e/x",
                                  "/feeds/a%C3%AF.atom", "/healthz/", "/.frfeeds-tree", "/feeds/AI.atom"])
def test_anything_else_is_answered_by_flask_as_before(apps, path):
    fast, flask, _ = apps
    for method in ("GET", "HEAD", "POST", "OPTIONS"):
        assert answer(Client(fast), method, path, {}) == answer(Client(flask), method, path, {}), (method, path)


def test_the_fast_path_negotiates_gzip_as_flask_compress_does(apps):
    fast = apps[0].wsgi_app
    for value in ENCODINGS + ["", "x-gzip", "gzip;q=1.0", "gzip; q=0.001", "compress, gzip", "*;q=0.1"]:
        assert fast.gzip_taken(value) == (_choose_algorithm(("gzip",), value) == "gzip"), value
