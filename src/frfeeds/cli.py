"""The ``frfeeds`` command: ``main(argv) -> exit status``; never a traceback for bad input."""

from __future__ import annotations

import argparse
import contextlib
import errno
import hashlib
import logging
import marshal
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from frfeeds import __version__
from frfeeds.cache import FORMAT, RACY_NS, ParseCache, cache_folder, open_cache
from frfeeds.config import Settings, load_settings
from frfeeds.errors import FrfeedsError, UsageError
from frfeeds.scan import RecordFile, check_records_folder, scan_records, signature
from frfeeds.workers import gc_off
from frfeeds.writer import Manifest, TreeError, TreeWriter, WriteResult, state_file

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, as every usage error
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="frfeeds", description="Turn a folder of news records into Atom, RSS and JSON feeds.")
    parser.add_argument("--version", action="version", version=f"frfeeds {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    build = commands.add_parser("build", help="write the feed tree to a folder")
    build.add_argument("out", type=Path, help="output folder (created; replaced whole on every build)")
    build.add_argument("--records", type=Path, help="records folder, read recursively (default ./seeds, or FRFEEDS_RECORDS)")
    build.add_argument("--base-url", help="URL the tree is served from (default FRFEEDS_BASE_URL or http://localhost:8000)")
    build.add_argument("--limit", help="entries per feed, newest first (default 50)")
    build.add_argument("--no-amp", dest="amp", action="store_const", const=False, help="leave AMP links out")
    build.add_argument("--include-unpublished", action="store_const", const=True, help="publish 'published: false' records too")
    build.add_argument("--language", help="language tag the feeds declare (default FRFEEDS_LANGUAGE or en)")
    build.add_argument("--strict", action="store_true", help="exit 1 if any record was rejected or any value left out")
    build.add_argument("--cache", type=Path, help="parse cache folder (default FRFEEDS_CACHE or ~/.cache/frfeeds)")
    build.add_argument("--no-cache", action="store_true", help="parse every record, read and write no cache")
    build.add_argument("--quiet", "-q", action="store_true", help="no progress display")
    build.add_argument("--wait", type=_seconds, metavar="SECONDS",
                       help="wait at most this long for another build of OUT to finish (default: until it does)")
    serve = commands.add_parser("serve", help="serve the feed tree over HTTP for local use (deploy with gunicorn)")
    serve.add_argument("--records", type=Path, help="records folder (default ./seeds, or FRFEEDS_RECORDS)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        if args.command == "serve":
            return _serve(args)
        settings = load_settings(
            os.environ,
            records=args.records,
            base_url=args.base_url,
            limit=args.limit,
            amp=args.amp,
            include_unpublished=args.include_unpublished,
            language=args.language,
        )
        folder = None if args.no_cache else cache_folder(args.cache, os.environ.get("FRFEEDS_CACHE"))
        try:
            with _warnings_to_stderr():
                report, result = build(args.out, settings, folder, progress=not args.quiet, wait=args.wait,
                                       on_wait=lambda: _say(f"waiting for another build of {args.out} to finish"))
        except OSError as exc:  # the disk, permissions: the swap is the last step, so nothing changed
            raise TreeError(_os_failure(exc, args.out, settings.records)) from None
    except UsageError as exc:
        print(f"frfeeds: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except TreeError as exc:
        _say(str(exc))
        return EXIT_REJECTED
    except FrfeedsError as exc:  # e.g. a record changed while being read: nothing was written
        print(f"frfeeds: error: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    files, feeds, unpublished, duplicates, rejected, dropped, removed, capped = report
    for rel, field_name, reason in rejected + dropped:
        print(f"{os.path.join(str(settings.records), rel)}: {field_name}: {reason}", file=sys.stderr)
    print(
        f"frfeeds: read {files} records, wrote {feeds} feeds to {args.out} "
        f"({result.written + result.unchanged} files: {result.written} changed, {result.removed} removed); "
        f"left out {unpublished} unpublished (published: false) and {removed} removed (removed: true), "
        f"merged {duplicates} duplicates (same webUrl), rejected {len(rejected)}, values dropped {len(dropped)}, "
        # records.MAX_RELATED/MAX_TOPICS/MAX_IMAGES, written out: the no-change path loads no cleaning code
        f"long lists cut {capped} (related and topics to 50 items, images to 20)"
    )
    return EXIT_REJECTED if args.strict and (rejected or dropped) else EXIT_OK


def build(
    out: Path,
    settings: Settings,
    cache_dir: Path | None,
    progress: bool = False,
    wait: float | None = None,
    on_wait: Callable[[], None] | None = None,
) -> tuple[tuple, WriteResult]:
    """Write the feed tree for settings to out, rendering only feeds whose inputs changed.

    cache_dir holds the parse cache and the tree's state (None: neither; every feed is
    rendered, and files are still written only when their bytes change). Nothing is
    created before out is known to be frfeeds' own (or new). Returns the report (counts
    and problems) and what was written.
    """
    check_records_folder(settings.records)
    state = state_file(cache_dir, out) if cache_dir is not None else None
    with gc_off(), TreeWriter(out, state, wait=wait, on_wait=on_wait) as tree:
        files = scan_records(settings.records)
        key = _inputs_key(settings, files)
        if tree.is_current(key):  # nothing changed since the last build: nothing to read
            return tree.manifest.report, WriteResult(0, len(tree.manifest.files), 0)
        cache = open_cache(settings.records, cache_dir, warn=_warn) if cache_dir is not None else None
        if cache is None:
            tree.state = None  # the cache folder is unusable: no state there either
        try:
            report, result = _write(tree, settings, cache, files, key, progress)
        finally:
            if cache is not None:
                cache.close()
    if tree.state_error is not None:
        _warn(f"the build state could not be saved ({tree.state_error.strerror}: {tree.state_error.filename}); "
              "the next build renders every feed again")
    return report, result


def _write(tree: TreeWriter, settings: Settings, cache: ParseCache | None, files: list[RecordFile], key: str,
           progress: bool) -> tuple[tuple, WriteResult]:
    # imported only now: the no-change path needs no YAML, feedgen or lxml
    from frfeeds.progress import progress_bar
    from frfeeds.site import PAGES, feed_paths, plan_site, render_feeds, render_page
    from frfeeds.workers import cores

    with progress_bar(len(files), "parsing", progress) as advance:
        plan = plan_site(settings, cache, files, progress=advance)
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
    report = _report(plan)
    if plan.loaded.transient:  # a file or folder could not be read: the next build reads it again
        key = ""
    return report, tree.commit(Manifest(key, plan.digests, plan.pages_digest, report))


def _os_failure(exc: OSError, out: Path, records: Path) -> str:
    """One line for an operating-system error: what could not be done, why, where, and
    that the previous tree stands (the swap is a build's last step)."""
    reason = exc.strerror or str(exc)
    if exc.filename and _inside(exc.filename, records):
        where = "" if _inside(records, exc.filename) else f": {exc.filename}"
        return f"cannot read {records}: {reason}{where} (the previous tree is unchanged)"
    where = f": {exc.filename}" if exc.filename and not _inside(out, exc.filename) else ""
    advice = _ADVICE.get(exc.errno, "")
    if advice:
        advice = "; " + advice.format(folder=os.path.dirname(os.path.abspath(out)) or "/")
    return f"cannot write {out}: {reason}{where} (the previous tree is unchanged{advice})"


_ADVICE = {
    errno.ENOSPC: "free some space and build again",
    errno.EDQUOT: "free some space and build again",
    errno.EFBIG: "a file size limit (ulimit -f) stopped it",
    errno.EROFS: "choose an OUT on a writable file system",
    errno.EACCES: "frfeeds needs to write in {folder}, beside OUT",
    errno.EPERM: "frfeeds needs to write in {folder}, beside OUT",
}


def _inside(path: str | bytes, folder: Path) -> bool:
    path, folder = os.path.abspath(os.fsdecode(path)), os.path.abspath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, not {text!r}") from None
    if not 0 <= seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds, not {text!r}")
    return seconds


@contextlib.contextmanager
def _warnings_to_stderr() -> Iterator[None]:
    """The parse cache's warnings (a full disk, a damaged file) as ``frfeeds: warning:``
    lines, like the build's own, for the length of a build."""
    log = logging.getLogger("frfeeds")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("frfeeds: warning: %(message)s"))
    handler.setLevel(logging.WARNING)
    log.addHandler(handler)
    try:
        yield
    finally:
        log.removeHandler(handler)


def _say(message: str) -> None:
    print(f"frfeeds: {message}", file=sys.stderr, flush=True)


def _warn(message: str) -> None:
    _say(f"warning: {message}")


def _inputs_key(settings: Settings, files: list[RecordFile]) -> str:
    """Digest of everything a build reads; "" when a record file is too fresh to trust its mtime."""
    now = time.time_ns()
    if any(now - item.mtime_ns < RACY_NS for item in files):
        return ""
    inputs = (__version__, FORMAT, os.path.abspath(settings.records), settings.base_url, settings.limit, settings.amp,
              settings.include_unpublished, settings.language, signature(files))
    return hashlib.blake2b(marshal.dumps(inputs), digest_size=16).hexdigest()


def _report(plan) -> tuple:
    loaded, selection = plan.loaded, plan.selection
    root = str(plan.settings.records)
    rel = lambda problem: os.path.relpath(problem.path, root).replace(os.sep, "/")  # noqa: E731
    return (
        loaded.files, len(plan.feeds), selection.unpublished, selection.duplicates,
        tuple((rel(p), p.field, p.reason) for p in loaded.rejected),
        tuple((rel(p), p.field, p.reason) for p in loaded.dropped),
        selection.removed, len(loaded.capped),
    )


def _serve(args: argparse.Namespace) -> int:
    from frfeeds.app import create_app  # Flask only when serving

    config = {"RECORDS": args.records}
    if not os.environ.get("FRFEEDS_BASE_URL"):
        config["BASE_URL"] = f"http://localhost:{args.port}"
    create_app(config).run(host=args.host, port=args.port, threaded=True)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
