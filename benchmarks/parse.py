#!/usr/bin/env python3
"""CPU time of the parse side of a cold build, per record, in one process.

    python benchmarks/parse.py RECORDS [--runs N] [--baseline SRC]

Reads every record file under RECORDS as a cold build does, in this process (no worker
pool): read, YAML, validation, encoding, and the parse cache filled in one transaction
(``load_records(workers=1)`` into a new cache in a temporary folder). Each run is a new
process, so the memos start empty as in a build's workers; prints each run's CPU time
(user + sys of the process while it loads) per record, then the median.

``--baseline SRC`` runs the same with another checkout's ``src`` (a ``git worktree`` of
the commit to compare with) first in ``PYTHONPATH``, alternating the two run by run: on a
busy machine only paired runs compare.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

MEASURE = """
import gc, shutil, sys, tempfile, time
from pathlib import Path
from frfeeds.read.cache import ParseCache
from frfeeds.read.loader import load_records
from frfeeds.read.scan import scan_records
root = Path(sys.argv[1])
files = [item for item in scan_records(root) if not item.problem]
folder = tempfile.mkdtemp()
try:
    cache = ParseCache(Path(folder, "cache.sqlite3"))
    gc.disable()  # as the build's workers (gc_paused)
    start = time.process_time()
    loaded = load_records(root, cache, files=files, workers=1)
    spent = time.process_time() - start
    cache.close()
finally:
    shutil.rmtree(folder)
print(spent / max(loaded.files, 1) * 1e6)
"""


def run(records: str, src: str | None) -> float:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = src
    result = subprocess.run([sys.executable, "-c", MEASURE, records], env=env, check=True, capture_output=True,
                            text=True)
    return float(result.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("records")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", help="src folder of the checkout to compare with")
    args = parser.parse_args()
    names = ["baseline", "this"] if args.baseline else ["this"]
    times: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(args.runs):
        for name in names:
            spent = run(args.records, args.baseline if name == "baseline" else None)
            times[name].append(spent)
            print(f"{name}: {spent:.0f} us/record", flush=True)
    for name in names:
        print(f"median {name}: {statistics.median(times[name]):.0f} us/record CPU ({args.runs} runs)")


if __name__ == "__main__":
    main()
