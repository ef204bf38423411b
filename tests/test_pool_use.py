"""A cold build starts its worker processes first, and then gives them every step with
work enough for two processes (a few hundred records); a rebuild of one edited record
starts none and does it all in the build's own process."""

import os
import shutil

import pytest
from helpers import build

import frfeeds.read.loader
import frfeeds.rendering
from frfeeds.workers import POOL_MIN_RUNNING, Workers, cores

pytestmark = pytest.mark.skipif(cores() < 2, reason="one core: no worker processes")


@pytest.fixture
def watched(tmp_path, monkeypatch):
    """The processes that parsed and rendered: each call of the real parse_file and
    make_parts appends its pid to a file (worker processes are forked: they inherit this)."""
    log = tmp_path / "pids"
    real_parse, real_parts = frfeeds.read.loader.parse_file, frfeeds.rendering.make_parts

    def note(step):
        with open(log, "a") as handle:
            handle.write(f"{step} {os.getpid()}\n")

    def parse_file(item):
        note("parse")
        return real_parse(item)

    def make_parts(*args):
        note("render")
        return real_parts(*args)

    monkeypatch.setattr(frfeeds.read.loader, "parse_file", parse_file)
    monkeypatch.setattr(frfeeds.rendering, "make_parts", make_parts)

    def steps() -> dict[str, set[int]]:
        found: dict[str, set[int]] = {}
        for line in log.read_text().splitlines() if log.exists() else ():
            step, pid = line.split()
            found.setdefault(step, set()).add(int(pid))
        log.unlink(missing_ok=True)
        return found

    return steps


def test_a_small_cold_build_parses_and_renders_in_the_workers(tmp_path, generated, watched, monkeypatch):
    monkeypatch.setenv("FRFEEDS_CACHE", str(tmp_path / "cache"))
    records = tmp_path / "records"
    shutil.copytree(generated, records)
    assert POOL_MIN_RUNNING <= sum(1 for _ in records.rglob("*.md")) < frfeeds.read.loader.POOL_MIN_FILES
    assert build(tmp_path / "out", "--records", str(records), "-q") == 0
    steps = watched()
    assert steps["parse"] and os.getpid() not in steps["parse"]
    assert steps["render"] and os.getpid() not in steps["render"]
    edited = next(path for path in sorted(records.rglob("*.md")) if 'title: "' in path.read_text(encoding="utf-8"))
    edited.write_text(edited.read_text(encoding="utf-8").replace('title: "', 'title: "Edited ', 1), encoding="utf-8")
    assert build(tmp_path / "out", "--records", str(records), "-q") == 0
    assert watched() == {"parse": {os.getpid()}, "render": {os.getpid()}}


def test_a_running_pool_takes_less_work_than_one_to_start():
    with Workers(2) as workers:
        assert workers.threshold(2_000) == 2_000 and not workers.wanted(POOL_MIN_RUNNING, 2_000)
        workers.start()
        assert workers.running
        assert workers.threshold(2_000) == POOL_MIN_RUNNING and workers.wanted(POOL_MIN_RUNNING, 2_000)
        assert workers.threshold(50) == 50
