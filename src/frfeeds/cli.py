"""The ``frfeeds`` command: ``main(argv) -> exit status``; never a traceback for bad input."""

from __future__ import annotations

import argparse
import contextlib
import errno
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from frfeeds import __version__
from frfeeds.write import BuildReport, build
from frfeeds.write.writer import TreeError
from frfeeds.errors import FrfeedsError, UsageError
from frfeeds.read.cache import cache_folder
from frfeeds.settings import load_settings

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
                report = build(args.out, settings, folder, progress=not args.quiet, wait=args.wait,
                               on_wait=lambda: _say(f"waiting for another build of {args.out} to finish"), warn=_warn)
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
    _print_report(report, settings.records, args.out)
    return EXIT_REJECTED if args.strict and (report.rejected or report.dropped) else EXIT_OK


def _print_report(report: BuildReport, records: Path, out: Path) -> None:
    """Each problem a line on stderr, then the summary line."""
    for rel, field_name, reason in report.rejected + report.dropped:
        print(f"{os.path.join(str(records), rel)}: {field_name}: {reason}", file=sys.stderr)
    written = report.written
    print(
        f"frfeeds: read {report.records} records, wrote {report.feeds} feeds to {out} "
        f"({written.written + written.unchanged} files: {written.written} changed, {written.removed} removed); "
        f"left out {report.unpublished} unpublished (published: false) and {report.removed} removed (removed: true), "
        f"merged {report.duplicates} duplicates (same webUrl), rejected {len(report.rejected)}, "
        f"values dropped {len(report.dropped)}, "
        # records.MAX_RELATED/MAX_TOPICS/MAX_IMAGES, written out: the no-change path loads no cleaning code
        f"long lists cut {report.capped} (related and topics to 50 items, images to 20)"
    )


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


def _serve(args: argparse.Namespace) -> int:
    from frfeeds.app import create_app  # Flask only when serving

    config = {"RECORDS": args.records}
    if not os.environ.get("FRFEEDS_BASE_URL"):
        config["BASE_URL"] = f"http://localhost:{args.port}"
    create_app(config).run(host=args.host, port=args.port, threaded=True)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
