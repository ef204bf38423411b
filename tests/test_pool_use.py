"""A cold build starts its worker processes first, and then gives them every step with
work enough for two processes (a few hundred records); a rebuild of one edited record
starts none and does it all in the build's own process.

The builds run in a process of their own (a script): forked workers inherit its watched
functions, where this process's leftover threads (an app's reloaders, from other tests)
would have the build spawn its workers instead."""

import json
import os
import shutil
import subprocess
import sys

import pytest

import frfeeds.read.loader
from frfeeds.workers import POOL_MIN_RUNNING, Workers, cores

pytestmark = pytest.mark.skipif(cores() < 2, reason="one core: no worker processes")

SCRIPT = """
import json, os, sys
import frfeeds.read.loader, frfeeds.rendering
from frfeeds.cli import main

log, records, out, edited = sys.argv[1:]
real_parse, real_parts = frfeeds.read.loader.parse_file, frfeeds.rendering.make_parts

def note(step):
    with open(log, "a") as handle:
        handle.write(f"{step} {os.getpid()}\\n")

def parse_file(item):
    note("parse")
    return real_parse(item)

def make_parts(*args):
    note("render")
    return real_parts(*args)

frfeeds.read.loader.parse_file, frfeeds.rendering.make_parts = parse_file, make_parts

def steps():
    found = {}
    for line in open(log).read().splitlines():
        step, pid = line.split()
        found.setdefault(step, set()).add(int(pid))
    os.unlink(log)
    return {step: sorted(pids) for step, pids in found.items()}

assert main(["build", out, "--records", records, "-q"]) == 0
cold = steps()
with open(edited, encoding="utf-8") as handle:
    text = handle.read()
with open(edited, "w", encoding="utf-8") as handle:
    handle.write(text.replace('title: "', 'title: "Edited ', 1))
assert main(["build", out, "--records", records, "-q"]) == 0
print(json.dumps({"pid": os.getpid(), "cold": cold, "edit": steps()}))
"""


def test_a_small_cold_build_parses_and_renders_in_the_workers(tmp_path, generated):
    records = tmp_path / "records"
    shutil.copytree(generated, records)
    assert POOL_MIN_RUNNING <= sum(1 for _ in records.rglob("*.md")) < frfeeds.read.loader.POOL_MIN_FILES
    edited = next(path for path in sorted(records.rglob("*.md")) if 'title: "' in path.read_text(encoding="utf-8"))
    run = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "log"), str(records), str(tmp_path / "out"),
                          str(edited)], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "FRFEEDS_CACHE": str(tmp_path / "cache")})
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.splitlines()[-1])
    pid = seen["pid"]
    assert seen["cold"]["parse"] and pid not in seen["cold"]["parse"]
    assert seen["cold"]["render"] and pid not in seen["cold"]["render"]
    assert seen["edit"] == {"parse": [pid], "render": [pid]}


def test_a_running_pool_takes_less_work_than_one_to_start():
    with Workers(2) as workers:
        assert workers.threshold(2_000) == 2_000 and not workers.wanted(POOL_MIN_RUNNING, 2_000)
        workers.start()
        assert workers.running
        assert workers.threshold(2_000) == POOL_MIN_RUNNING and workers.wanted(POOL_MIN_RUNNING, 2_000)
        assert workers.threshold(50) == 50
