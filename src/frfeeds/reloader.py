"""Keep a served tree current: rebuild when the records folder changes, keep the last
good tree when a rebuild fails. One per process; checks run in a background thread."""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time

from frfeeds.catalog import build_catalog
from frfeeds.config import Settings
from frfeeds.loader import folder_signature
from frfeeds.served import ServedTree
from frfeeds.site import build_site, render_tree


class Reloader:
    def __init__(self, settings: Settings, interval: float, log: logging.Logger) -> None:
        self.settings = settings
        self.interval = interval
        self.log = log
        empty = build_catalog((), settings.limit)
        #: What requests are answered from; replaced whole, never changed in place.
        self.tree = ServedTree.from_feeds(empty, render_tree(empty, settings))
        self.records = self.published = self.rejected = 0
        self.loaded_at: dt.datetime | None = None
        self.last_error: str | None = None
        self._signature: object = None
        self._thread_pid: int | None = None
        self._loaded_pid = os.getpid()
        self._lock = threading.Lock()
        self.reload()

    def ensure_watching(self) -> None:
        """Start the checking thread in this process (after a fork, again).

        A process forked after the first load (gunicorn --preload) checks once before
        answering, so its first response is as fresh as any other.
        """
        if self._thread_pid == os.getpid():
            return
        with self._lock:
            if self._thread_pid != os.getpid():
                if self._loaded_pid != os.getpid():
                    self.check()
                self._thread_pid = os.getpid()
                threading.Thread(target=self._watch, name="frfeeds-reload", daemon=True).start()

    def _watch(self) -> None:
        while True:
            time.sleep(self.interval)
            self.check()

    def check(self) -> bool:
        """Reload if any record file was added, removed or changed; True if reloaded."""
        try:
            signature = folder_signature(self.settings.records)
        except Exception as exc:  # noqa: BLE001 - any failure keeps the last good tree
            return self._failed(exc)
        if signature == self._signature:
            return False
        return self.reload(signature)

    def reload(self, signature: object = None) -> bool:
        try:
            if signature is None:
                signature = folder_signature(self.settings.records)
            site = build_site(self.settings)
        except Exception as exc:  # noqa: BLE001
            return self._failed(exc)
        for problem in site.loaded.rejected + site.loaded.dropped:
            self.log.warning("%s", problem)
        self.tree = ServedTree.from_feeds(site.feeds, site.files)
        self.records, self.published = site.loaded.files, len(site.selection.records)
        self.rejected = len(site.loaded.rejected)
        self._signature = signature
        self.loaded_at = dt.datetime.now(dt.timezone.utc)
        self.last_error = None
        self.log.info(
            "loaded %d records from %s: %d feeds, %d rejected",
            self.records, self.settings.records, len(site.feeds), self.rejected,
        )
        return True

    def _failed(self, exc: Exception) -> bool:
        self.last_error = f"{type(exc).__name__}: {exc}"
        since = self.loaded_at.isoformat() if self.loaded_at else "never"
        self.log.error("reload of %s failed, serving the feeds loaded at %s: %s", self.settings.records, since, self.last_error)
        return False
