"""gunicorn's logger, with its access lines written in one step (the Procfile's
``--logger-class``).

gunicorn's own ``access()`` builds, for every request, a dict of every request header,
response header and environ variable, copies it with each string escaped, formats the
line through ``logging`` and takes the handler's lock: about 90 µs a request on the
machine of the benchmarks, a third of what a 304 costs, much of it threads waiting for
the lock. For the default format (the Procfile's) written to a plain stream or file,
this logger makes the same line from the few values it holds and writes it with one
``os.write`` (one line, one call: lines of several threads never mix). Any other
format or handler goes through gunicorn's own code.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from gunicorn import glogging
from gunicorn.config import AccessLogFormat

#: gunicorn's default access line: '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'.
DEFAULT_FORMAT: str = AccessLogFormat.default


class AccessLogger(glogging.Logger):  # type: ignore[misc]  # gunicorn ships no types
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        self._descriptor = self._plain_descriptor()
        self._clock = (-1, "")  # (second, its stamp): one value, as threads read it

    def _plain_descriptor(self) -> int | None:
        """The descriptor the access lines go to, when this logger can write them itself:
        the default format, one stream or file handler writing the bare message."""
        handlers = self.access_log.handlers
        if self.cfg.access_log_format != DEFAULT_FORMAT or len(handlers) != 1:
            return None
        handler = handlers[0]
        if type(handler) not in (logging.StreamHandler, logging.FileHandler) or handler.filters:
            return None
        if handler.formatter is None or handler.formatter._fmt != "%(message)s" or handler.terminator != "\n":
            return None
        if not self.access_log.isEnabledFor(logging.INFO):
            return None
        try:
            handler.flush()
            descriptor: int = handler.stream.fileno()
        except (AttributeError, OSError, ValueError):
            return None
        self._handler = handler  # its stream, and so the descriptor, stays open while in use
        return descriptor

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        if self._descriptor is None:
            super().access(resp, req, environ, request_time)
            return
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        sent = getattr(resp, "sent", None)
        request = f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}"
        fields = (environ.get("REMOTE_ADDR", "-"), (self._get_user(environ) if "HTTP_AUTHORIZATION" in environ
                                                    else None) or "-", self._now(), request, status,
                  sent is not None and str(sent) or "-", environ.get("HTTP_REFERER", "-"),
                  environ.get("HTTP_USER_AGENT", "-"))
        host, user, now, request, status, sent, referer, agent = (
            value.replace('"', '\\"') if isinstance(value, str) else value for value in fields)
        line = f'{host} - {user} {now} "{request}" {status} {sent} "{referer}" "{agent}"\n'
        try:
            os.write(self._descriptor, line.encode("utf-8", "backslashreplace"))
        except OSError:
            self._descriptor = None  # a closed or broken log: gunicorn's way from now on
            super().access(resp, req, environ, request_time)

    def _now(self) -> str:
        """``now()``'s stamp, made once a second."""
        second = int(time.time())
        made, stamp = self._clock
        if made != second:
            stamp = self.now()
            self._clock = (second, stamp)
        return stamp

    def reopen_files(self) -> None:
        super().reopen_files()  # USR1: log files reopened, the descriptor with them
        self._descriptor = self._plain_descriptor()
