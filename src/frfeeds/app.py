"""The WSGI app: ``frfeeds.app:create_app()`` serves exactly the feed tree ``frfeeds build``
writes, from memory, with HTTP caching done right. No request reads a file: the records
are read by the reloader, and the renderers are imported and the page templates compiled
when the app is made."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from html import escape
from typing import Any
from urllib.parse import quote

from flask import Flask, Response, g, jsonify, request
from flask_compress import Compress
from flask_compress.flask_compress import _choose_algorithm

from frfeeds.announce import link_header
from frfeeds.config.loading import load_settings
from frfeeds.config.table import TABLE
from frfeeds.query import QueryError, parse_request
from frfeeds.read.cache import open_cache
from frfeeds.render.links import absolute
from frfeeds.render.outputs import FORMAT_EXTENSIONS, MEDIA_TYPES, load_renderers
from frfeeds.render.pages import load_templates
from frfeeds.selection_index import NoSuchPage
from frfeeds.serve.fast import FastFiles
from frfeeds.serve.reloader import Reloader
from frfeeds.serve.served import Served, Unavailable
from frfeeds.settings import Settings

NOT_FOUND = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Not found</title></head>
<body><h1>Not found</h1>
<p>There is no feed at this address. Every feed is listed on <a href="{root}/">the index page</a>,
and <a href="{root}/feeds.opml">feeds.opml</a> subscribes a reader to all of them.</p>
</body></html>
"""


UNAVAILABLE = "This feed cannot be served right now; try again shortly.\n"
#: Smaller answers are not gzipped (Flask-Compress's COMPRESS_MIN_SIZE).
COMPRESS_MIN_SIZE = 500
#: Seconds a sealed archive document may be cached (README: Archives).
SEALED_MAX_AGE = 86_400


def create_app(test_config: Mapping[str, Any] | None = None, settings: Settings | None = None, *,
               fast: bool = True) -> Flask:
    """Build the app. Settings: the given ones, else from the config file (``CONFIG``,
    else FRFEEDS_CONFIG, else ./frfeeds.toml), ``FRFEEDS_*`` variables, then
    ``test_config``'s keys (config.table.TABLE: ``RECORDS``, ``LIMIT``, ``RELOAD_INTERVAL``, ...).

    The plain file requests are answered in front of Flask (serve/fast.py), with the
    answers Flask gives; ``fast=False`` sends every request through Flask (the tests
    compare the two)."""
    if settings is None:
        config = dict(test_config or {})
        given = {row.key: config.get(row.name) for row in TABLE}
        settings = load_settings(os.environ, given, app=True, config=config.get("CONFIG"))
    interval = settings.reload_interval
    load_renderers()
    load_templates()

    app = Flask(__name__)
    compressible = sorted(set(MEDIA_TYPES.values()) | {"application/json"})
    app.config.update(
        COMPRESS_ALGORITHM=["gzip"],
        COMPRESS_MIMETYPES=compressible,
        COMPRESS_MIN_SIZE=COMPRESS_MIN_SIZE,
        COMPRESS_CACHE_KEY=lambda req: req.path,
        COMPRESS_CACHE_BACKEND=_GzipCache,
    )
    reloader = Reloader(settings, interval, _logger(), open_cache(settings.records, settings.cache))
    app.extensions["frfeeds"] = reloader
    Compress(app)
    # a sealed archive document changes only with its own stories (an old one edited or
    # withdrawn), the code or the settings: a day, revalidated by ETag, never immutable
    # (README: Archives)
    sealed_cache_control = f"public, max-age={SEALED_MAX_AGE}"
    #: What redirects and refusals of served queries may be cached for.
    cache_control = f"public, max-age={max(1, int(interval))}"

    @app.before_request
    def watch() -> None:
        reloader.ensure_watching()

    @app.get("/healthz")
    def healthz() -> Response:
        tree = reloader.tree
        plan = tree.plan
        status = "ok" if not reloader.last_error else "degraded"
        body = {
            "status": status if reloader.loaded_at else "error",
            "records": tree.records,
            "published": len(plan.selection.records),
            "rejected": tree.rejected,
            "feeds": len(plan.feeds),
            "files": tree.paths,
            "loaded_at": reloader.loaded_at.isoformat() if reloader.loaded_at else None,
            "last_error": reloader.last_error,
            "scheduled": len(plan.selection.scheduled),
            "next_publication": next_at.isoformat() if (next_at := plan.selection.next_publication) else None,
            "hub": reloader.announcer.health(),
            "pid": os.getpid(),
        }
        response = jsonify(body)
        response.status_code = 200 if reloader.loaded_at else 503
        response.cache_control.no_store = True
        return response

    @app.get("/")
    def index() -> Response:
        return serve("index.html")

    def unavailable() -> Response:
        return Response(UNAVAILABLE, 503, content_type="text/plain; charset=utf-8",
                        headers={"Retry-After": str(max(1, int(interval))), "Cache-Control": "no-store"})

    def plain(status: int, reason: str) -> Response:
        """A refused query: one line of text saying why."""
        line = " ".join(reason.split())[:500]
        return Response(line + "\n", status, content_type="text/plain; charset=utf-8",
                        headers={"Cache-Control": cache_control})

    def served_query(path: str) -> Response | Served:
        """A served query (README: "Served queries"): 400 for a selection that cannot be
        served, 301 to its canonical URL when spelt otherwise, 404 past its last page."""
        tree = reloader.tree
        if not tree.is_feed_file(path):
            if tree.has_file(path):
                return plain(400, f"/{path} takes no query string: queries are served on feed files "
                                  "(feeds/<name>.atom, .rss, .json, .html)")
            return Response(NOT_FOUND.format(root=escape(request.script_root)), 404,
                            content_type="text/html; charset=utf-8")
        try:
            text = request.query_string.decode("utf-8")
            wanted = parse_request(text)
            tree.index.check(wanted.query)
        except UnicodeDecodeError:
            return plain(400, "the query string is not UTF-8")
        except QueryError as exc:
            return plain(400, str(exc))
        canonical = wanted.canonical()
        if text != canonical:
            location = f"{request.script_root}/{quote(path)}" + (f"?{canonical}" if canonical else "")
            return Response(f"{location}\n", 301, content_type="text/plain; charset=utf-8",
                            headers={"Location": location, "Cache-Control": cache_control})
        try:
            return tree.query(path, wanted)
        except QueryError as exc:
            return plain(400, str(exc))
        except NoSuchPage as exc:
            return plain(404, f"/{path}: {exc}")
        except Unavailable:  # logged by the tree
            return unavailable()

    @app.get("/<path:path>")
    def serve(path: str) -> Response:
        served: Served | None
        if request.query_string:
            answer = served_query(path)
            if isinstance(answer, Response):
                return answer
            served = g.frfeeds_served = answer
        else:
            try:
                served = g.frfeeds_served = reloader.tree.get(path)
            except Unavailable:  # logged by the tree; the next reload or request may succeed
                return unavailable()
        if served is None:
            return Response(NOT_FOUND.format(root=escape(request.script_root)), 404,
                            content_type="text/html; charset=utf-8")
        response = Response(served.data, content_type=f"{served.media_type}; charset=utf-8")
        response.set_etag(served.etag)
        response.last_modified = served.modified
        response.headers["Cache-Control"] = cache_control_of(served)
        # rel="self" is the document's own URL: a served query's canonical one (any
        # other spelling was redirected), as its id and self link say
        query = request.query_string.decode("utf-8")
        if (link := link_of(path + (f"?{query}" if query else ""))) is not None:
            response.headers["Link"] = link
        # in place (it returns self): 304, 412 or 206 as the request's conditions say
        response.make_conditional(request)
        return response

    def cache_control_of(served: Served) -> str:
        """A sealed archive: a day; anything else: never past the next scheduled story."""
        return sealed_cache_control if served.sealed else f"public, max-age={reloader.max_age()}"

    def link_of(target: str) -> str | None:
        """WebSub discovery of a subscribable file (a tree path, with a served query's
        query string): its Link header, or None."""
        if settings.hub and target.partition("?")[0].endswith(FORMAT_EXTENSIONS):
            return link_header(settings.hub, absolute(settings.base_url, target))
        return None

    if fast:
        app.wsgi_app = FastFiles(  # type: ignore[method-assign]
            app.wsgi_app, reloader, cache_control=cache_control_of, link=link_of,
            takes_gzip=lambda accept_encoding: _choose_algorithm(("gzip",), accept_encoding) == "gzip",
            compressible=compressible, min_size=COMPRESS_MIN_SIZE)
    return app


class _GzipCache:
    """flask-compress's cache backend, used to hand it deterministic gzip bytes.

    flask-compress negotiates the encoding, sets Vary and Content-Encoding, suffixes the
    ETag with ``:gzip`` and answers conditional requests; left alone it would also stamp
    the current time into each gzip header, so one strong ETag would name different bytes
    in different workers. Its cache key is the request path; the answer is the
    timestamp-free gzip of the very file this request was answered with.
    """

    def get(self, key: str) -> bytes | None:
        served: Served | None = g.get("frfeeds_served")
        if not key.startswith("gzip;") or served is None:
            return None
        return served.gzipped()

    def set(self, key: str, value: bytes) -> None:
        """Nothing to keep: the served tree holds the compressed bytes."""


def _logger() -> logging.Logger:
    """frfeeds' own log, to stderr (gunicorn's error log) unless logging is configured."""
    log = logging.getLogger("frfeeds")
    if not log.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("[%(asctime)s] [%(process)d] [frfeeds] %(levelname)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    return log
