"""Write the feed tree to disk, incrementally: ``build(out, settings, cache_dir) -> BuildReport``.

Scan the records folder; when nothing changed since the last build of ``out`` (its
state beside the parse cache says so), repeat that build's report and read nothing
else. Otherwise load the records (the cache gives what it holds), plan the feeds, render
only those whose input digest changed, and write the tree atomically (``writer``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from frfeeds.config.fingerprint import build_digest
from frfeeds.fingerprint import code_stamp
from frfeeds.read.scan import RACY_NS, Listing, check_records_folder, list_records
from frfeeds.report import BuildReport, WriteResult
from frfeeds.settings import Settings
from frfeeds.workers import Workers, cores, gc_off
from frfeeds.write.writer import Manifest, TreeError, TreeWriter, state_file

#: Fewer records than this to render are rendered in this process, unless the workers
#: run already (a pool costs more: workers.Workers.threshold).
RENDER_POOL_MIN_ENTRIES = 1_000
TYPE_CHECKING = False  # as typing's, which a no-change build does not import (mypy takes it as True)
if TYPE_CHECKING:  # the parse cache (sqlite3) and logging are imported when there is something to build
    from frfeeds.read.cache import ParseCache


def build(
    out: Path,
    settings: Settings,
    cache_dir: Path | None,
    progress: bool = False,
    wait: float | None = None,
    on_wait: Callable[[], None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> BuildReport:
    """Write the feed tree for settings to out, rendering only feeds whose inputs changed.

    cache_dir holds the parse cache and the tree's state (None: neither; every feed is
    rendered, and files are still written only when their bytes change). Nothing is
    created before out is known to be frfeeds' own (or new). Warnings (the parse cache's
    too) go to warn, else to the ``frfeeds`` logger.
    """
    check_records_folder(settings.records)
    # the one clock of a build: it decides which scheduled stories are published
    now = settings.clock()
    state = state_file(cache_dir, out) if cache_dir is not None else None
    try:  # a worker killed while starting, parsing or rendering: one line (the tree is left as it was)
        with gc_off(), TreeWriter(out, state, wait=wait, on_wait=on_wait) as tree, \
                Workers(cores(), prepare=_prepare_rendering) as workers:
            if tree.manifest is None:
                # no earlier tree: every record is rendered, and likely parsed. The workers
                # are started before the records are listed: forked later, each would map
                # the listing and the records loaded, and the summed RSS count them again
                workers.start()
            listing = list_records(settings.records)
            key = _inputs_key(settings, listing)
            manifest = tree.manifest
            if manifest is not None and tree.is_current(key):  # nothing changed since the last build: nothing to read
                try:
                    replayed = BuildReport.from_facts(manifest.report, WriteResult(0, len(manifest.files), 0))
                except (TypeError, ValueError):
                    pass  # a state of another version: build
                else:
                    if not replayed.due(now):  # else a story it held back is due: build
                        return replayed
            from frfeeds.read.cache import open_cache

            with _warnings_to(warn):
                cache = open_cache(settings.records, cache_dir, warn=warn) if cache_dir is not None else None
                if cache is None:
                    tree.state = None  # the cache folder is unusable: no state there either
                try:
                    report = _write(tree, workers, settings, cache, listing, key, progress, now)  # empties listing
                finally:
                    if cache is not None:
                        cache.close()
    except BaseException as exc:
        _raise_if_a_worker_died(exc, out)
        raise
    if tree.state_error is not None:
        (warn or _log_warning)(f"the build state could not be saved ({tree.state_error.strerror}: "
                               f"{tree.state_error.filename}); the next build renders every feed again")
    return report


@contextlib.contextmanager
def _warnings_to(warn: Callable[[str], None] | None) -> Iterator[None]:
    """The ``frfeeds`` logger's warnings (the parse cache's: a full disk, a damaged file)
    to warn too, for the length of a build; None: left to the logger."""
    if warn is None:
        yield
        return
    import logging

    say = warn

    class Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            say(record.getMessage())

    log = logging.getLogger("frfeeds")
    handler = Handler(logging.WARNING)
    log.addHandler(handler)
    try:
        yield
    finally:
        log.removeHandler(handler)


def _log_warning(message: str) -> None:
    import logging

    logging.getLogger("frfeeds").warning("%s", message)


def _prepare_rendering() -> None:
    from frfeeds.plan import load_rendering

    load_rendering()


def _write(tree: TreeWriter, workers: Workers, settings: Settings, cache: ParseCache | None,
           listing: Listing, key: str, progress: bool, now: dt.datetime) -> BuildReport:
    # imported only now: the no-change path needs no YAML, feedgen or lxml
    from frfeeds.fragments import fragment_store, store_folder
    from frfeeds.plan import PAGES, Encoded, feed_paths, plan_site, render_page
    from frfeeds.progress import progress_bar
    from frfeeds.read.loader import POOL_MIN_FILES, load_records
    from frfeeds.render.outputs import FEED_OUTPUTS
    from frfeeds.rendering import Target, render_documents
    from frfeeds.report import report_of

    files = listing.take_files()
    with progress_bar(len(files), "parsing", progress) as advance:
        loaded = load_records(settings.records, cache, files, progress=advance, pool=workers.pool,
                              pool_min=workers.threshold(POOL_MIN_FILES))
    del files  # the load keeps the versions it needs; a million RecordFiles are 150 MB
    plan = plan_site(settings, loaded.summaries, now)
    previous = tree.manifest.digests if tree.manifest else {}
    stale = []
    for feed in plan.documents:  # the feeds and their archive documents, each by its own digest
        paths = feed_paths(feed)
        if previous.get(feed.path) == plan.digests[feed.path] and all(map(tree.unchanged, paths)):
            for path in paths:
                tree.keep(path)
        else:
            stale.append(feed)
    # the details of what will be rendered are read here (the cache, or a parse), a chunk
    # at a time: rendering itself reads no file
    entries = len({entry.path for feed in stale for entry in feed.entries})
    pool = workers.pool() if workers.wanted(entries, RENDER_POOL_MIN_ENTRIES) else None
    # the entries' fragments are kept beside the tree's state for the next build
    kept = store_folder(tree.state) if tree.state is not None else None
    # a record's held bytes go once its fragments are made (each is made once), but for
    # the newest stories': the index shows them, and the cache may have another version
    # of them by then (a server sharing it, an author saving again)
    newest_paths = {entry.path for entry in plan.newest}

    def fetch(paths: list[str]) -> Encoded:
        found = loaded.encoded(paths)
        loaded.release(path for path in paths if path not in newest_paths)
        return found

    with progress_bar(len(stale), "rendering", progress) as advance:
        if stale:  # the stage is made (emptied) only when there is something to render
            with fragment_store(kept, plan.stamp_digest, [output.name for output in FEED_OUTPUTS]) as store:
                target = Target(tree.out, tree.stage())
                for _, staged in render_documents(plan.render, stale, fetch, target, store, pool):
                    for path, kept_file in staged:
                        tree.record(path, kept_file)
                    advance(1)
                workers.stop()  # the rest is this process's: the peak of memory is not the workers' too
                if kept is not None:
                    store.save({record.path for record in plan.selection.records})
    pages = [path for path in PAGES
             if not (tree.manifest and tree.manifest.pages == plan.pages_digest and tree.unchanged(path))]
    newest = loaded.encoded(entry.path for entry in plan.newest) if pages else {}
    for path in PAGES:
        if path in pages:
            tree.put(path, render_page(plan, path, newest))
        else:
            tree.keep(path)
    report = report_of(loaded, plan, settings.records)
    if loaded.transient:  # a file or folder could not be read: the next build reads it again
        key = ""
    written = tree.commit(Manifest(key, plan.digests, plan.pages_digest, report.facts()))
    return BuildReport.from_facts(report.facts(), written)


def _raise_if_a_worker_died(exc: BaseException, out: Path) -> None:
    """A worker process killed midway (the OOM killer, kill -9) breaks its pool: one
    line, not a traceback. (Imported here: the no-change path starts no pool.)"""
    from concurrent.futures.process import BrokenProcessPool

    if isinstance(exc, BrokenProcessPool):
        raise TreeError(f"cannot build {out}: a worker process died (killed, or out of memory?); "
                        "the previous tree is unchanged; build again") from None


def _inputs_key(settings: Settings, listing: Listing) -> str:
    """Digest of everything a build reads: the settings its output depends on
    (config.fingerprint.build_digest), the code (fingerprint.code_stamp), where the
    records are and the files' names, sizes and mtimes; "" when a record or code file is
    too fresh to trust its mtime."""
    code = code_stamp()
    if not code or time.time_ns() - listing.newest_ns() < RACY_NS:
        return ""
    inputs = (code, build_digest(settings), os.path.abspath(settings.records), listing.signature())
    return hashlib.blake2b("\0".join(inputs).encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()
