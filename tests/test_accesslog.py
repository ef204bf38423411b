"""serve.accesslog.AccessLogger writes the very lines gunicorn's own logger writes (the
Procfile's access log), and falls back to gunicorn's code where it cannot."""

import datetime as dt
import logging
import os

import pytest
from gunicorn import glogging
from gunicorn.config import Config

from frfeeds.serve.accesslog import AccessLogger


class Response:
    def __init__(self, status, sent, headers=()):
        self.status, self.sent, self.headers = status, sent, list(headers)


def environ(**extra):
    return {"REQUEST_METHOD": "GET", "RAW_URI": "/feeds/ai.atom", "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1", "PATH_INFO": "/feeds/ai.atom", "QUERY_STRING": "", **extra}


CASES = [
    (environ(), Response("200 OK", 170_123, [("ETag", '"abc"')])),
    (environ(RAW_URI='/feeds/all.atom?topics=ai&x="y"', HTTP_REFERER='https://a.example/"q"',
             HTTP_USER_AGENT='Reader/1.0 "quoted" \u00e9'), Response("304 Not Modified", 0)),
    (environ(HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz"), Response(404, None)),  # user "user"; status an int
    (environ(HTTP_AUTHORIZATION="Basic !!!", REMOTE_ADDR="::1", REQUEST_METHOD="HEAD"), Response("200 OK", 0)),
    ({key: value for key, value in environ().items() if key != "REMOTE_ADDR"}, Response("500 Error", 12)),
]


def logger(cls, path, **settings):
    access = logging.getLogger("gunicorn.access")
    for handler in list(access.handlers):  # pytest's capture handlers (gunicorn's process has none)
        access.removeHandler(handler)
    config = Config()
    config.set("accesslog", str(path))
    for name, value in settings.items():
        config.set(name, value)
    return cls(config)


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(glogging.Logger, "now", lambda self: "[06/Dec/2026:23:59:59 +0000]")


def written(cls, path, cases, **settings):
    """What a logger of the class writes for the cases (one logger at a time: gunicorn's
    share the process's "gunicorn.access" logging logger)."""
    made = logger(cls, path, **settings)
    for request, response in cases:
        made.access(response, request, request, dt.timedelta(microseconds=1234))
    for handler in made.access_log.handlers:
        handler.flush()
    return made, path.read_text()


def test_its_lines_are_gunicorns(tmp_path, frozen):
    ours, lines = written(AccessLogger, tmp_path / "ours.log", CASES)
    assert ours._descriptor is not None  # written by os.write, not through logging
    assert lines == written(glogging.Logger, tmp_path / "theirs.log", CASES)[1]
    assert len(lines.splitlines()) == len(CASES) and ' "GET /feeds/ai.atom HTTP/1.1" 200 170123 ' in lines


def test_another_format_goes_through_gunicorn(tmp_path, frozen):
    format_ = '%(h)s "%(r)s" %(s)s %(D)s'
    ours, lines = written(AccessLogger, tmp_path / "ours.log", CASES, access_log_format=format_)
    assert ours._descriptor is None
    assert lines == written(glogging.Logger, tmp_path / "theirs.log", CASES, access_log_format=format_)[1] != ""


def test_a_closed_log_falls_back_to_gunicorns_way(tmp_path, frozen):
    ours = logger(AccessLogger, tmp_path / "ours.log")
    os.close(ours._descriptor)  # as a log rotated away under it
    ours.access(CASES[0][1], CASES[0][0], CASES[0][0], dt.timedelta(microseconds=1234))
    assert ours._descriptor is None
