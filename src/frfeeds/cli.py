"""The ``frfeeds`` command: ``main(argv) -> exit status``; never a traceback for bad input."""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from frfeeds import __version__
from frfeeds.build import build
from frfeeds.config.loading import CONFIG_FILE, CONFIG_VARIABLE, load_settings
from frfeeds.config.table import ROWS, TABLE, Setting, Source
from frfeeds.errors import FrfeedsError, UsageError
from frfeeds.write.writer import TreeError

TYPE_CHECKING = False  # as typing's, which a no-change build does not import (mypy takes it as True)
if TYPE_CHECKING:  # what a command does not use it does not import: a no-change build is mostly start-up
    from typing import Any, NoReturn

    from frfeeds.report import BuildReport
    from frfeeds.settings import Settings

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2
#: Site-relative provider logos reported one per line; the rest are counted.
LOGO_EXAMPLES = 5


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:  # one line, exit 2, as every usage error
        raise UsageError(message)


class _Formatter(argparse.HelpFormatter):
    """argparse's, finding the terminal's width without shutil: argparse makes one for
    every option it adds, and shutil's import is ~2 ms of a no-change build."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=_columns() - 2)


def _columns() -> int:
    """The terminal's width as shutil.get_terminal_size() has it: $COLUMNS, else the
    terminal's, else 80."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="frfeeds", description="Turn a folder of news records into Atom, RSS and JSON feeds.")
    parser.add_argument("--version", action="version", version=f"frfeeds {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    build = commands.add_parser("build", help="write the feed tree to a folder")
    build.add_argument("out", type=Path, help="output folder (created; replaced whole on every build)")
    _config_option(build)
    for row in TABLE:  # the settings with an option: --records, --base-url, --limit, ...
        if row.option:
            _setting_option(build, row)
    build.add_argument("--strict", action="store_true", help="exit 1 if any record was rejected or any value left out")
    build.add_argument("--no-cache", action="store_true", help="parse every record, read and write no cache")
    build.add_argument("--quiet", "-q", action="store_true", help="no progress display")
    build.add_argument("--wait", type=_seconds, metavar="SECONDS",
                       help="wait at most this long for another build of OUT to finish (default: until it does)")
    serve = commands.add_parser("serve", help="serve the feed tree over HTTP for local use (deploy with gunicorn)")
    _config_option(serve)
    _setting_option(serve, ROWS["records"])
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    check = commands.add_parser(
        "check", help="validate every record as a build would; write nothing (exit 1 when anything is reported)")
    _config_option(check)
    for key in ("records", "include_unpublished"):
        _setting_option(check, ROWS[key])
    deploy = commands.add_parser("deploy", help="put a built tree in an S3-compatible bucket: changed files only, "
                                 "heads last, then deletes (needs frfeeds[deploy])")
    deploy.add_argument("tree", type=Path, help="the folder frfeeds build wrote")
    deploy.add_argument("target", nargs="?", help="s3://bucket/prefix (default: FRFEEDS_DEPLOY_TARGET, "
                        "else deploy.target in the config file)")
    _config_option(deploy)
    deploy.add_argument("--endpoint", metavar="URL", help="S3 API URL (default: FRFEEDS_DEPLOY_ENDPOINT, else "
                        "deploy.endpoint, else AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, else AWS)")
    deploy.add_argument("--region", help="the bucket's region (default: FRFEEDS_DEPLOY_REGION, else deploy.region, "
                        "else AWS_DEFAULT_REGION)")
    deploy.add_argument("--dry-run", action="store_true",
                        help="print what would be uploaded and deleted; change nothing")
    deploy.add_argument("--force", action="store_true", help="delete however many objects the tree no longer has")
    deploy.add_argument("--all", action="store_true", dest="everything",
                        help="upload every file, changed or not (to give every object the current headers)")
    deploy.add_argument("--quiet", "-q", action="store_true", help="no progress display")
    init = commands.add_parser("init", help=f"write a commented starter {CONFIG_FILE}")
    init.add_argument("path", nargs="?", type=Path, default=Path(CONFIG_FILE),
                      help=f"the file to write, or a folder to write {CONFIG_FILE} in (default ./{CONFIG_FILE})")
    return parser


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, metavar="PATH",
                        help=f"config file (default {CONFIG_VARIABLE}, else ./{CONFIG_FILE} if there is one)")


def _setting_option(parser: argparse.ArgumentParser, row: Setting) -> None:
    """An option from its settings row: a value, or a flag setting row.flag."""
    if row.option is None:
        raise ValueError(f"the setting {row.key} has no command-line option")
    help_text = (f"{row.flag_doc or row.doc} (default: {row.variable}, else {row.key} in the config file, "
                 f"else {row.shown_default()})")
    if row.flag is not None:
        parser.add_argument(row.option, dest=row.dest, action="store_const", const=row.flag, help=help_text)
    else:
        parser.add_argument(row.option, dest=row.dest, type=Path if row.key == "records" else str, metavar=row.metavar,
                            help=help_text)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        if args.command == "serve":
            return _serve(args)
        if args.command == "init":
            return _init(args.path)
        if args.command == "check":
            return _check(args)
        if args.command == "deploy":
            return _deploy(args)
        given = {row.key: getattr(args, row.dest) for row in TABLE if row.option}
        if args.no_cache:
            given["cache"] = "off"
        settings = load_settings(os.environ, given, config=args.config)
        try:
            report = build(args.out, settings, settings.cache, progress=not args.quiet, wait=args.wait,
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
    written = report.written
    assert written is not None, "build() always says what it wrote"
    announced = _announce(settings, written.changed)
    _print_report(report, settings.records, f"read {report.records} records, wrote {report.feeds} feeds to {args.out} "
                  f"({written.written + written.unchanged} files: {written.written} changed, "
                  f"{written.removed} removed)", announced)
    return EXIT_REJECTED if args.strict and (report.rejected or report.dropped) else EXIT_OK


def _announce(settings: Settings, changed: Sequence[str]) -> str:
    """Tell the WebSub hubs of the feed files whose bytes the build changed: never a
    failure of the build (a hub away is a line of the summary), bounded in time."""
    if not settings.hub or not changed:
        return ""
    from frfeeds.announce import feed_files, urls

    files = feed_files(changed)
    if not files:
        return ""
    from frfeeds.hubclient import publish  # requests, only when there is something to tell

    return "".join(f"; {outcome.line()}" for outcome in publish(settings.hub, urls(settings.base_url, files)))


def _check(args: argparse.Namespace) -> int:
    from frfeeds.check import check_records

    given = {key: getattr(args, ROWS[key].dest) for key in ("records", "include_unpublished")}
    settings = load_settings(os.environ, given, config=args.config)
    report = check_records(settings, settings.clock())
    _print_report(report, settings.records, f"checked {report.records} records, which make {report.feeds} feeds")
    return EXIT_REJECTED if report.rejected or report.dropped else EXIT_OK


def _deploy(args: argparse.Namespace) -> int:
    """frfeeds deploy: its failures are FrfeedsErrors (one line, exit 1), main's to print."""
    from frfeeds.deploy.run import Limits, deploy
    from frfeeds.deploy.s3 import require_boto3
    from frfeeds.deploy.target import parse_target

    require_boto3()
    config = load_settings(os.environ, config=args.config).deploy
    given = {key: _option(key, value, label) for key, value, label in (
        ("deploy.target", args.target, "TARGET"), ("deploy.endpoint", args.endpoint, "--endpoint"),
        ("deploy.region", args.region, "--region")) if value is not None}
    target_text = given.get("deploy.target", config.target)
    if target_text is None:
        raise UsageError("deploy needs a TARGET (s3://bucket/prefix): give it, or set FRFEEDS_DEPLOY_TARGET "
                         "or deploy.target in the config file")
    target = parse_target(target_text)  # checked already
    limits = Limits(config.max_deletes, config.max_delete_percent, force=args.force)
    report = deploy(args.tree, target, endpoint=given.get("deploy.endpoint", config.endpoint),
                    region=given.get("deploy.region", config.region), limits=limits, everything=args.everything,
                    dry_run=args.dry_run,
                    progress=not args.quiet)
    plan = report.plan
    if report.dry_run:
        print(f"frfeeds: dry run: would deploy {args.tree} to {target}: {plan.upload_count:,} to upload, "
              f"{plan.unchanged:,} unchanged, {len(plan.deletes):,} to delete; nothing was changed")
    else:
        print(f"frfeeds: deployed {args.tree} to {target}: {report.uploaded:,} uploaded, {plan.unchanged:,} unchanged, "
              f"{report.deleted:,} deleted")
    return EXIT_OK


def _option(key: str, value: str, label: str) -> str:
    """A deploy option's value, checked by its settings row's converter."""
    try:
        return str(ROWS[key].convert(value, Source(label)))
    except ValueError as exc:
        raise UsageError(f"{label} {exc}") from None


def _print_report(report: BuildReport, records: Path, done: str, announced: str = "") -> None:
    """Each problem a line on stderr (and each story held back), then the summary line:
    what was done, the counts, then what the WebSub hubs were told."""
    # one fix (site.url) mends every site-relative logo: a few examples, not one line per feed
    shown_logos = report.logos[:LOGO_EXAMPLES]
    for rel, field_name, reason in report.rejected + report.dropped + shown_logos + report.scheduled:
        print(f"{os.path.join(str(records), rel)}: {field_name}: {reason}", file=sys.stderr)
    if len(report.logos) > len(shown_logos):
        _say(f"... and {len(report.logos) - len(shown_logos)} more provider feeds whose logo is site-relative: "
             "set site.url to resolve them all")
    scheduled = f", scheduled {len(report.scheduled)} (held until their publishedDateTime)" if report.scheduled else ""
    logos = f", provider logos left out {len(report.logos)} (site-relative, and no site.url)" if report.logos else ""
    print(
        f"frfeeds: {done}; "
        f"left out {report.unpublished} unpublished (published: false) and {report.removed} removed (removed: true), "
        f"merged {report.duplicates} duplicates (same webUrl), rejected {len(report.rejected)}, "
        f"values dropped {len(report.dropped)}, "
        # records.MAX_RELATED/MAX_TOPICS/MAX_IMAGES, written out: the no-change path loads no cleaning code
        f"long lists cut {report.capped} (related and topics to 50 items, images to 20){logos}{scheduled}{announced}"
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


_ADVICE: dict[int | None, str] = {  # by errno, which an OSError may lack
    errno.ENOSPC: "free some space and build again",
    errno.EDQUOT: "free some space and build again",
    errno.EFBIG: "a file size limit (ulimit -f) stopped it",
    errno.EROFS: "choose an OUT on a writable file system",
    errno.EACCES: "frfeeds needs to write in {folder}, beside OUT",
    errno.EPERM: "frfeeds needs to write in {folder}, beside OUT",
}


#: A path as a Path or as OSError.filename holds it.
_Path = str | bytes | os.PathLike[str]


def _inside(path: _Path, folder: _Path) -> bool:
    here, there = os.path.abspath(os.fsdecode(path)), os.path.abspath(os.fsdecode(folder))
    return here == there or here.startswith(there.rstrip(os.sep) + os.sep)


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, not {text!r}") from None
    if not 0 <= seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds, not {text!r}")
    return seconds


def _say(message: str) -> None:
    print(f"frfeeds: {message}", file=sys.stderr, flush=True)


def _warn(message: str) -> None:
    _say(f"warning: {message}")


def _serve(args: argparse.Namespace) -> int:
    from frfeeds.app import create_app  # Flask only when serving

    # the port is the base URL's default here: the environment and the config file still win
    settings = load_settings(os.environ, {"records": args.records}, config=args.config,
                             defaults={"base_url": f"http://localhost:{args.port}"})
    create_app(settings=settings).run(host=args.host, port=args.port, threaded=True)
    return EXIT_OK


def _init(path: Path) -> int:
    """Write the starter config file; never over an existing one."""
    from frfeeds.config.starter import starter_file

    if path.is_dir():
        path = path / CONFIG_FILE
    try:
        with open(path, "x", encoding="utf-8") as file:
            file.write(starter_file())
    except FileExistsError:
        raise UsageError(f"{path} exists already; frfeeds init never overwrites a file") from None
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    _say(f"wrote {path}: every key commented out with its default; uncomment what you change")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
