"""The ``frfeeds`` command: ``main(argv) -> exit status``; never a traceback for bad input."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from frfeeds import __version__
from frfeeds.config import load_settings
from frfeeds.errors import UsageError
from frfeeds.site import Site, build_site
from frfeeds.writer import WriteResult, write_tree

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
    build.add_argument("--strict", action="store_true", help="exit 1 if any record was rejected or any value left out")
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
        )
        site = build_site(settings)
        result = write_tree(args.out, site.files)
    except UsageError as exc:
        print(f"frfeeds: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for problem in site.loaded.rejected + site.loaded.dropped:
        print(problem, file=sys.stderr)
    print(summary(site, result, args.out))
    problems = site.loaded.rejected or site.loaded.dropped
    return EXIT_REJECTED if args.strict and problems else EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    from frfeeds.app import create_app  # Flask only when serving

    config = {"RECORDS": args.records}
    if not os.environ.get("FRFEEDS_BASE_URL"):
        config["BASE_URL"] = f"http://localhost:{args.port}"
    create_app(config).run(host=args.host, port=args.port, threaded=True)
    return EXIT_OK


def summary(site: Site, result: WriteResult, out: Path) -> str:
    loaded, selection = site.loaded, site.selection
    return (
        f"frfeeds: read {loaded.files} records, wrote {len(site.feeds)} feeds to {out} "
        f"({len(site.files)} files: {result.written} changed, {result.removed} removed); "
        f"left out {selection.unpublished} unpublished (published: false), "
        f"merged {selection.duplicates} duplicates (same webUrl), "
        f"rejected {len(loaded.rejected)}, values dropped {len(loaded.dropped)}"
    )


if __name__ == "__main__":
    sys.exit(main())
