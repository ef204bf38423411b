"""Plain file requests answered in front of the Flask app (app.py installs it).

A GET or HEAD of a file of the tree, with no query string and no condition but
If-None-Match and If-Modified-Since, is answered here, from headers made once per
rendered file: the answer the Flask app gives (same status, the same headers in the
same order, the same body), without a request context, routing or Flask-Compress
round. Anything else (queries, /healthz, unknown paths, ranges, If-Match, a file that
cannot be rendered) goes to the Flask app unchanged. No Flask here: the app hands in
its settings' parts (Cache-Control, Link, gzip negotiation).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from werkzeug.http import http_date, is_resource_modified, quote_etag

from frfeeds.serve.served import Served, Unavailable

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from frfeeds.serve.reloader import Reloader

Headers = list[tuple[str, str]]

#: Conditions the Flask app weighs (412s, ranges) that a fast answer does not: such a
#: request goes to it.
UNHANDLED = ("HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE", "HTTP_IF_RANGE", "HTTP_RANGE")
#: Accept-Encoding values whose negotiation is remembered, per process.
KNOWN_ENCODINGS = 256


class Answers:
    """One rendered file's answers, for one Cache-Control value: 200 and 304, plain and
    gzip, each as the headers before Date and those after it (werkzeug sets Date when
    the response is made conditional, Flask-Compress adds Vary and Content-Encoding
    after it; a 304 loses the entity headers)."""

    __slots__ = ("etag", "gzip_etag", "last_modified", "full", "_full_gzip", "fresh", "fresh_gzip", "gzip")

    def __init__(self, served: Served, cache_control: str, link: str | None, gzip: bool) -> None:
        self.etag = quote_etag(served.etag)
        self.gzip_etag = quote_etag(f"{served.etag}:gzip")
        self.last_modified = http_date(served.modified)
        #: Whether the file is gzipped for a client that takes it (type and size).
        self.gzip = gzip
        tail: Headers = [("Cache-Control", cache_control)] + ([("Link", link)] if link else [])
        content_type = ("Content-Type", f"{served.media_type}; charset=utf-8")
        self.full = ([content_type, ("Content-Length", str(len(served.data))), ("ETag", self.etag),
                      ("Last-Modified", self.last_modified), *tail], [("Vary", "Accept-Encoding")])
        self.fresh = ([("ETag", self.etag), *tail], [("Vary", "Accept-Encoding")])
        self.fresh_gzip = ([("ETag", self.gzip_etag), *tail], [("Vary", "Accept-Encoding")])
        self._full_gzip: tuple[Headers, Headers] | None = None

    def full_gzip(self, served: Served) -> tuple[Headers, Headers]:
        """The 200's headers, gzipped: made (and the file gzipped) on the first request for them."""
        if self._full_gzip is None:
            full = self.full[0]
            self._full_gzip = ([full[0], ("Content-Length", str(len(served.gzipped()))), ("ETag", self.gzip_etag),
                                *full[3:]], [("Vary", "Accept-Encoding"), ("Content-Encoding", "gzip")])
        return self._full_gzip


class FastFiles:
    """The WSGI callable in front of the Flask app (``app``): see the module's note.

    ``cache_control`` gives a file's Cache-Control value (it may change with the time:
    never past the next scheduled story), ``link`` the Link header of a tree path or
    None, ``takes_gzip`` whether an Accept-Encoding value makes Flask-Compress choose
    gzip; ``compressible`` and ``min_size`` are Flask-Compress's media types and size floor.
    """

    def __init__(self, app: WSGIApplication, reloader: Reloader, *, cache_control: Callable[[Served], str],
                 link: Callable[[str], str | None], takes_gzip: Callable[[str], bool],
                 compressible: Iterable[str], min_size: int) -> None:
        self.app = app
        self.reloader = reloader
        self.cache_control = cache_control
        self.link = link
        self.takes_gzip = takes_gzip
        self.compressible = frozenset(compressible)
        self.min_size = min_size
        self._encodings: dict[str, bool] = {}
        #: (second, its HTTP date): the Date header, made once a second.
        self._clock = (0, "")

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        path: str = environ.get("PATH_INFO", "")
        if ((method != "GET" and method != "HEAD") or environ.get("QUERY_STRING") or not path.startswith("/")
                or not path.isascii() or any(name in environ for name in UNHANDLED)):
            return self.app(environ, start_response)
        self.reloader.ensure_watching()
        tree = self.reloader.tree
        name = path[1:] or "index.html"
        if not tree.has_file(name):
            return self.app(environ, start_response)
        try:
            served = tree.get(name)
        except Unavailable:  # logged by the tree; the Flask app answers the 503
            return self.app(environ, start_response)
        if served is None:
            return self.app(environ, start_response)
        answers = self.answers(name, served)
        gzip = answers.gzip and self.gzip_taken(environ.get("HTTP_ACCEPT_ENCODING", ""))
        match = environ.get("HTTP_IF_NONE_MATCH")
        if match is None and "HTTP_IF_MODIFIED_SINCE" not in environ:
            headers = answers.full_gzip(served) if gzip else answers.full
        elif match == answers.etag or not is_resource_modified(environ, answers.etag,
                                                               last_modified=answers.last_modified):
            return self.respond(start_response, "304 NOT MODIFIED", answers.fresh, b"")
        elif gzip and (match == answers.gzip_etag or not is_resource_modified(environ, answers.gzip_etag,
                                                                              last_modified=answers.last_modified)):
            return self.respond(start_response, "304 NOT MODIFIED", answers.fresh_gzip, b"")
        else:
            headers = answers.full_gzip(served) if gzip else answers.full
        body = b"" if method == "HEAD" else served.gzipped() if gzip else served.data
        return self.respond(start_response, "200 OK", headers, body)

    def answers(self, path: str, served: Served) -> Answers:
        """The served file's answers, made on its first fast request (and again when its
        Cache-Control value changes); kept with it, in the render memo."""
        cache_control = self.cache_control(served)
        answers = served.answers.get(cache_control)
        if not isinstance(answers, Answers):
            gzip = served.media_type in self.compressible and len(served.data) >= self.min_size
            answers = Answers(served, cache_control, self.link(path), gzip)
            if len(served.answers) > 3:  # a max-age counting down to a scheduled story
                served.answers.clear()
            served.answers[cache_control] = answers
        return answers

    def gzip_taken(self, accept_encoding: str) -> bool:
        taken = self._encodings.get(accept_encoding)
        if taken is None:
            taken = self.takes_gzip(accept_encoding)
            if len(self._encodings) >= KNOWN_ENCODINGS:
                self._encodings.clear()
            self._encodings[accept_encoding] = taken
        return taken

    def respond(self, start_response: StartResponse, status: str, headers: tuple[Headers, Headers],
                body: bytes) -> list[bytes]:
        second = int(time.time())
        clock = self._clock
        if clock[0] != second:
            clock = self._clock = (second, http_date(second))
        start_response(status, [*headers[0], ("Date", clock[1]), *headers[1]])
        return [body] if body else []
