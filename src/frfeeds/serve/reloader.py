"""Keep a served tree current: rebuild the plan when the records folder changes or a
scheduled story falls due, keep the last good one when a rebuild fails, and tell the
WebSub hubs what changed. One per process; checks run in a background thread. The
clock is read here (``now``), and passed to the plan."""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time

from frfeeds.errors import RecordError
from frfeeds.plan import plan_site
from frfeeds.read.cache import ParseCache
from frfeeds.read.loader import load_records
from frfeeds.read.scan import RecordFile, scan_records, signature
from frfeeds.serve.served import RenderMemo, ServedTree
from frfeeds.serve.snapshot import Snapshot
from frfeeds.serve.websub import Announcer, state_path
from frfeeds.settings import Settings

#: Loads tried in a row when records change while being read.
RELOAD_ATTEMPTS = 3


class Reloader:
    def __init__(self, settings: Settings, interval: float, log: logging.Logger, cache: ParseCache | None) -> None:
        self.settings = settings
        self.interval = interval
        self.log = log
        self.cache = cache
        self.memo = RenderMemo(settings.memo_mib << 20)
        #: Tells the WebSub hubs (settings.hub) of the feeds a load changed.
        self.announcer = Announcer(settings.hub, settings.base_url,
                                   state_path(settings.cache, settings.records, settings.base_url), interval, log)
        #: What requests are answered from; replaced whole, never changed in place.
        self.tree = ServedTree(plan_site(settings, (), None), Snapshot.empty(), self.memo, log, limit=settings.limit)
        self.loaded_at: dt.datetime | None = None
        self.last_error: str | None = None
        self._signature: str | None = None
        #: The problems of the last load, logged when they first appeared.
        self._reported: set[str] = set()
        self._checked = 0.0
        self._thread_pid: int | None = None
        self._loaded_pid = os.getpid()
        self._lock = threading.Lock()
        self.reload()

    def ensure_watching(self) -> None:
        """Start the checking thread in this process, on its first request.

        A process forked after the load (gunicorn --preload), or idle for longer than
        the interval, checks once before answering, so no first answer is stale.
        """
        if self._thread_pid == os.getpid():
            return
        with self._lock:
            if self._thread_pid != os.getpid():
                if self._loaded_pid != os.getpid() or time.monotonic() - self._checked >= self.interval:
                    self.check()
                self._thread_pid = os.getpid()
                threading.Thread(target=self._watch, name="frfeeds-reload", daemon=True).start()
                # what changed while no worker was serving (a restart) is announced too
                self.announcer.offer(self.tree.plan.digests)

    def _watch(self) -> None:
        while True:
            time.sleep(self.interval)
            self.check()

    def check(self) -> bool:
        """Reload if any record file was added, removed or changed; True if reloaded."""
        self._checked = time.monotonic()
        try:
            files = scan_records(self.settings.records)
        except Exception as exc:  # noqa: BLE001 - any failure keeps the last good tree
            return self._failed(exc)
        if signature(files) == self._signature and not self.tree.transient and not self.due():
            # the tree is what the folder holds (again: it may have been away meanwhile)
            self.last_error = None
            return False
        return self.reload(files)

    def reload(self, files: list[RecordFile] | None = None) -> bool:
        """Load the records folder into a new served tree; on failure keep the last one.

        A record changing while it is read fails one attempt; the folder is scanned and
        loaded again (what did not change comes from the cache), up to three times.
        """
        self._checked = time.monotonic()
        for attempt in range(1, RELOAD_ATTEMPTS + 1):
            try:
                scanned = scan_records(self.settings.records) if files is None else files
                loaded = load_records(self.settings.records, self.cache, scanned)
                plan = plan_site(self.settings, loaded.summaries, self.now())
                # every published record: a served query may select any of them
                held = Snapshot.write(loaded, (record.path for record in plan.selection.records))
                break
            except RecordError as exc:
                if attempt == RELOAD_ATTEMPTS:
                    return self._failed(exc)
                files = None
            except Exception as exc:  # noqa: BLE001 - any failure keeps the last good tree
                return self._failed(exc)
        problems = {str(problem) for problem in loaded.rejected + loaded.dropped}
        for problem in sorted(problems - self._reported):  # each once, not at every reload
            self.log.warning("%s", problem)
        self._reported = problems
        self.tree = ServedTree(plan, held, self.memo, self.log, records=loaded.files, parsed=loaded.parsed,
                               rejected=len(loaded.rejected),
                               transient=bool(loaded.transient), limit=self.settings.limit)
        self._signature = signature(scanned)
        self.loaded_at = dt.datetime.now(dt.timezone.utc)
        self.last_error = None
        if self._thread_pid == os.getpid():  # a serving process (not the --preload master)
            self.announcer.offer(plan.digests)
        self.log.info(
            "loaded %d records from %s (%d parsed, the rest cached): %d feeds, %d rejected",
            loaded.files, self.settings.records, loaded.parsed, len(plan.feeds), len(loaded.rejected),
        )
        return True

    def now(self) -> dt.datetime:
        """The clock that decides which scheduled stories are published: settings.now
        when set, else the time."""
        return self.settings.clock()

    def due(self) -> bool:
        """Whether a story the tree holds back as scheduled is due: the tree is stale."""
        upcoming = self.tree.plan.selection.next_publication
        return upcoming is not None and upcoming <= self.now()

    def max_age(self) -> int:
        """Seconds a cache may keep an answer: one reload interval, never past the next
        scheduled story (0 once it is due and not yet published)."""
        age = max(1, int(self.interval))
        upcoming = self.tree.plan.selection.next_publication
        if upcoming is not None:
            age = min(age, max(0, int((upcoming - self.now()).total_seconds())))
        return age

    def _failed(self, exc: Exception) -> bool:
        self.last_error = f"{type(exc).__name__}: {exc}"
        since = self.loaded_at.isoformat() if self.loaded_at else "never"
        self.log.error("reload of %s failed, serving the feeds loaded at %s: %s", self.settings.records, since,
                       self.last_error)
        return False
