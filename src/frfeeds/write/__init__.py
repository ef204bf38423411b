"""Write the feed tree to disk, incrementally: ``build(out, settings, cache_dir) -> BuildReport``.

Scan the records folder; when nothing changed since the last build of ``out`` (its
state beside the parse cache says so), repeat that build's report and read nothing
else. Otherwise load the records (the cache gives what it holds), plan the feeds, render
only those whose input digest changed, and write the tree atomically (``writer``).
"""

from __future__ import annotations

import hashlib
import logging
import marshal
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

from frfeeds.errors import RecordError
from frfeeds.read.cache import RACY_NS, ParseCache, open_cache
from frfeeds.read.scan import RecordFile, check_records_folder, scan_records, signature
from frfeeds.settings import Settings, build_digest
from frfeeds.workers import gc_off
from frfeeds.write.writer import Facts, Manifest, TreeError, TreeWriter, WriteResult, state_file

if TYPE_CHECKING:  # the no-change path imports neither
    from frfeeds.site import Plan

log = logging.getLogger("frfeeds")

#: One reported problem: (path inside the records folder, field, reason).
Problem = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build read and wrote: the summary line and the problem lines."""

    #: Record files read (valid and rejected).
    records: int
    feeds: int
    #: Left out for ``published: false``.
    unpublished: int
    #: Left out for ``removed: true``.
    removed: int
    #: Records merged into another with the same webUrl.
    duplicates: int
    #: Lists cut at their design cap (counted, never reported per record).
    capped: int
    #: Files rejected, and values dropped from records that were kept.
    rejected: tuple[Problem, ...]
    dropped: tuple[Problem, ...]
    #: Provider feeds whose logo was left out: site-relative, and no site.url to resolve
    #: it against. Reported, but no fault of the record: --strict and check pass them.
    logos: tuple[Problem, ...] = ()
    #: What was written this time; None in the state a no-change build replays.
    written: WriteResult | None = None

    def facts(self) -> Facts:
        """The report without what was written: what the tree's state keeps."""
        return astuple(self)[:-1]

    @classmethod
    def from_facts(cls, facts: Facts, written: WriteResult) -> BuildReport:
        names = [field.name for field in fields(cls)][:-1]
        if len(facts) != len(names):
            raise ValueError("a report of another shape")
        return cls(**dict(zip(names, facts)), written=written)  # type: ignore[arg-type]  # checked by shape


def build(
    out: Path,
    settings: Settings,
    cache_dir: Path | None,
    progress: bool = False,
    wait: float | None = None,
    on_wait: Callable[[], None] | None = None,
    warn: Callable[[str], None] = log.warning,
) -> BuildReport:
    """Write the feed tree for settings to out, rendering only feeds whose inputs changed.

    cache_dir holds the parse cache and the tree's state (None: neither; every feed is
    rendered, and files are still written only when their bytes change). Nothing is
    created before out is known to be frfeeds' own (or new).
    """
    check_records_folder(settings.records)
    state = state_file(cache_dir, out) if cache_dir is not None else None
    with gc_off(), TreeWriter(out, state, wait=wait, on_wait=on_wait) as tree:
        files = scan_records(settings.records)
        key = _inputs_key(settings, files)
        manifest = tree.manifest
        if manifest is not None and tree.is_current(key):  # nothing changed since the last build: nothing to read
            try:
                return BuildReport.from_facts(manifest.report, WriteResult(0, len(manifest.files), 0))
            except (TypeError, ValueError):
                pass  # a state of another version: build
        cache = open_cache(settings.records, cache_dir, warn=warn) if cache_dir is not None else None
        if cache is None:
            tree.state = None  # the cache folder is unusable: no state there either
        try:
            report = _write(tree, settings, cache, files, key, progress)
        except BaseException as exc:
            _raise_if_a_worker_died(exc, out)
            raise
        finally:
            if cache is not None:
                cache.close()
    if tree.state_error is not None:
        warn(f"the build state could not be saved ({tree.state_error.strerror}: {tree.state_error.filename}); "
             "the next build renders every feed again")
    return report


def _write(tree: TreeWriter, settings: Settings, cache: ParseCache | None, files: list[RecordFile], key: str,
           progress: bool) -> BuildReport:
    # imported only now: the no-change path needs no YAML, feedgen or lxml
    from frfeeds.progress import progress_bar
    from frfeeds.read.loader import load_records
    from frfeeds.site import PAGES, feed_paths, plan_site, render_feeds, render_page
    from frfeeds.workers import cores

    with progress_bar(len(files), "parsing", progress) as advance:
        plan = plan_site(settings, load_records(settings.records, cache, files, progress=advance))
    previous = tree.manifest.digests if tree.manifest else {}
    stale = []
    for feed in plan.feeds:
        paths = feed_paths(feed)
        if previous.get(feed.path) == plan.digests[feed.path] and all(map(tree.unchanged, paths)):
            for path in paths:
                tree.keep(path)
        else:
            stale.append(feed)
    with progress_bar(len(stale), "rendering", progress) as advance:
        for feed_files in render_feeds(plan, stale, workers=cores()):
            for path, data in feed_files.items():
                tree.put(path, data)
            advance(1)
    for path in PAGES:
        if tree.manifest and tree.manifest.pages == plan.pages_digest and tree.unchanged(path):
            tree.keep(path)
        else:
            tree.put(path, render_page(plan, path))
    report = report_of(plan)
    if plan.loaded.transient:  # a file or folder could not be read: the next build reads it again
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


def _inputs_key(settings: Settings, files: list[RecordFile]) -> str:
    """Digest of everything a build reads: the settings and code its output depends on
    (settings.build_digest), where the records are and the files' names, sizes and
    mtimes; "" when a record file is too fresh to trust its mtime."""
    now = time.time_ns()
    if any(now - item.mtime_ns < RACY_NS for item in files):
        return ""
    inputs = (build_digest(settings), os.path.abspath(settings.records), signature(files))
    return hashlib.blake2b(marshal.dumps(inputs), digest_size=16).hexdigest()


def report_of(plan: Plan) -> BuildReport:
    """What the plan's load and catalog found, as a report (nothing written yet)."""
    loaded, selection = plan.loaded, plan.selection
    root = str(plan.settings.records)

    def problems(found: Iterable[RecordError]) -> tuple[Problem, ...]:
        return tuple((os.path.relpath(p.path, root).replace(os.sep, "/"), p.field, p.reason) for p in found)

    return BuildReport(
        records=loaded.files, feeds=len(plan.feeds), unpublished=selection.unpublished, removed=selection.removed,
        duplicates=selection.duplicates, capped=len(loaded.capped),
        rejected=problems(loaded.rejected), dropped=problems(loaded.dropped), logos=_logos_left_out(plan),
    )


def _logos_left_out(plan: Plan) -> tuple[Problem, ...]:
    """One line per provider feed that shows no logo, or another one, because the logo it
    would show (its newest entry's) is site-relative and site.url is unset: the record
    to look at and the fix (set site.url, or make the URL absolute). One per feed, not
    per record: a generated 20,000-record folder has 1,174 such records in 146 feeds."""
    from frfeeds.render.masthead import unresolved_logos

    lines = []
    for feed in plan.feeds:
        if feed.kind != "provider":
            continue
        with_logo = [entry for entry in feed.entries if entry.provider.logo]
        left_out = list(unresolved_logos(with_logo, plan.settings.site))
        if left_out and left_out[0] is with_logo[0]:
            more = f" (and from {len(left_out) - 1} more of its entries)" if len(left_out) > 1 else ""
            lines.append((left_out[0].path, "provider.images",
                          f"site-relative logo {left_out[0].provider.logo!r} left out of {feed.path}{more}: "
                          "set site.url to resolve it against, or give an absolute URL"))
    return tuple(sorted(lines))
