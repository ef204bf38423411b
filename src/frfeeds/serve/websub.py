"""WebSub in the app: announce the feeds a reload changed, once per change across all
gunicorn workers, in the background.

Every worker (forked from a --preload master) reloads on its own, and so finds the same
change. Which feeds were announced is kept in a small state file beside the parse
cache (feed path -> the digest last announced), read and replaced under a POSIX record
lock (``lockf``): the first worker to take the lock after a change claims its feeds and
writes the new digests; the next one finds nothing left to announce. Without a state
file (the first start) the digests are recorded and nothing is announced.

A hub fetches the feed it is told of; the claim waits one reload interval first, so
that every worker serves the new bytes by then whichever one the hub reaches. The
announcement runs in a thread of its own (never in a request), bounded in time
(``hubclient``); its outcome is logged and shown in /healthz.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from frfeeds.announce import Outcome, changed_feeds, format_files, urls


def state_path(cache: Path | None, records: Path, base_url: str) -> Path:
    """The announcement state of one site (records folder and base URL): beside the
    parse cache, else in the temporary folder, which all workers of a host share."""
    key = hashlib.sha256(f"{os.path.abspath(records)}\0{base_url}".encode()).hexdigest()[:16]
    return Path(cache if cache is not None else tempfile.gettempdir(), f"websub-{key}.json")


Publish = Callable[[Sequence[str], Sequence[str]], Sequence[Outcome]]


class Announcer:
    """``offer(digests)`` after each load; a thread claims and announces what changed."""

    def __init__(self, hubs: Sequence[str], base_url: str, state: Path, delay: float, log: logging.Logger,
                 publish: Publish | None = None) -> None:
        self.hubs, self.base_url, self.state, self.delay, self.log = tuple(hubs), base_url, state, delay, log
        self._publish = publish
        self.last_announce: str | None = None
        self.last_error: str | None = None
        self.announced = 0
        self._pending: dict[str, str] | None = None
        self._wake = threading.Condition()
        self._thread_pid: int | None = None

    def offer(self, digests: Mapping[str, str]) -> None:
        """The feed digests of a new load in this process: announced, if changed, soon."""
        if not self.hubs:
            return
        with self._wake:
            self._pending = dict(digests)
            if self._thread_pid != os.getpid():  # a thread per process, started in it
                self._thread_pid = os.getpid()
                threading.Thread(target=self._run, name="frfeeds-websub", daemon=True).start()
            self._wake.notify()

    def health(self) -> dict[str, Any]:
        return {"hubs": list(self.hubs), "last_announce": self.last_announce, "announced": self.announced,
                "last_error": self.last_error}

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._pending is None:
                    self._wake.wait()
            time.sleep(self.delay)  # every worker reloads meanwhile; later offers replace this one
            with self._wake:
                digests, self._pending = self._pending, None
            if digests is not None:
                self._announce(digests)

    def _announce(self, digests: Mapping[str, str]) -> None:
        try:
            feeds = self.claim(digests)
        except OSError as exc:
            self.last_error = f"cannot keep the announcement state {self.state}: {exc.strerror or exc}"
            self.log.error("websub: %s", self.last_error)
            return
        if not feeds:
            return
        feed_urls = urls(self.base_url, format_files(feeds))
        if self._publish is not None:
            outcomes = self._publish(self.hubs, feed_urls)
        else:
            from frfeeds.hubclient import publish  # requests, on first use

            outcomes = publish(self.hubs, feed_urls)
        self.last_announce = dt.datetime.now(dt.timezone.utc).isoformat()
        self.announced += sum(outcome.announced for outcome in outcomes)
        errors = [outcome.line() for outcome in outcomes if outcome.error]
        self.last_error = "; ".join(errors) or None
        for outcome in outcomes:
            (self.log.warning if outcome.error else self.log.info)("websub: %s", outcome.line())

    def claim(self, digests: Mapping[str, str]) -> list[str]:
        """The feeds of digests not announced yet by any process, now marked announced."""
        self.state.parent.mkdir(parents=True, exist_ok=True)
        lock = os.open(f"{self.state}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.lockf(lock, fcntl.LOCK_EX)  # held for a read and a write: milliseconds
            announced = _read(self.state)
            _write(self.state, digests)
            return [] if announced is None else changed_feeds(announced, digests)
        finally:
            os.close(lock)  # closing drops the lock


def _read(path: Path) -> dict[str, str] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}  # damaged: every feed counts as changed once
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _write(path: Path, digests: Mapping[str, str]) -> None:
    temporary = path.with_name(f"{path.name}.{os.getpid()}.new")
    try:
        temporary.write_text(json.dumps(dict(sorted(digests.items()))), encoding="utf-8")
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
