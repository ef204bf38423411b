"""The machinery of fast builds gives the same bytes as a cold build, and never trusts a
cache it should not: corrupt, from another version, damaged rows, killed writes."""

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import SEEDS, build, every_file, record_text, tree, write_record

from frfeeds.plan import entry_paths, plan_site, render_tree
from frfeeds.read.cache import ParseCache, cache_file
from frfeeds.read.loader import load_records
from frfeeds.settings import Settings
from frfeeds.write.writer import MARKER, state_file


def cold_tree(tmp_path: Path, records: Path) -> dict[str, bytes]:
    out = tmp_path / "cold"
    assert build(out, "--records", str(records), "--no-cache") == 0
    return every_file(out)


@pytest.mark.slow
def test_cold_cached_and_incremental_builds_give_the_same_bytes(tmp_path, records):
    cold = cold_tree(tmp_path, records)
    cache = tmp_path / "cache"
    for name in ("fills-cache", "from-cache"):
        out = tmp_path / name
        assert build(out, "--records", str(records), "--cache", str(cache)) == 0
        assert every_file(out) == cold, name

    # incremental: change a record, rebuild in place; must equal a cold build of the same records
    out = tmp_path / "from-cache"
    target = next(path for path in sorted(records.rglob("*.md")) if "published: true" in path.read_text())
    original = target.read_text()
    target.write_text(original.replace('title: "', 'title: "Changed ', 1))
    assert build(out, "--records", str(records), "--cache", str(cache)) == 0
    assert every_file(out) == cold_tree(tmp_path / "changed", records)
    assert every_file(out) != cold

    target.write_text(original)
    assert build(out, "--records", str(records), "--cache", str(cache)) == 0
    assert every_file(out) == cold


@pytest.mark.slow
def test_warm_cache_parses_nothing_and_changed_files_only(tmp_path, records):
    settings = Settings(records=records)
    cache = ParseCache(tmp_path / "cache.sqlite3")
    first = load_records(settings.records, cache)
    assert first.parsed == first.files == 305
    assert load_records(settings.records, cache).parsed == 0
    write_record(records, "new.md", record_text(url="https://example.com/new"))
    (records / "seeds" / "000_0caf8a9d4d505239.txt").unlink()
    again = load_records(settings.records, cache)
    assert again.parsed == 1 and again.files == 305
    assert tree_of(settings, again) == tree_of(settings, load_records(settings.records))


def tree_of(settings: Settings, loaded) -> dict[str, bytes]:
    """Every file of the tree of a load, its details fetched first (as a build does)."""
    plan = plan_site(settings, loaded.summaries, None)
    return render_tree(plan, loaded.encoded(entry_paths(plan.documents)))  # the archives too


POOLED = """
import os, sys
from frfeeds import build, rendering
from frfeeds.read import loader
from frfeeds.cli import main

marks, parent = sys.argv.pop(1), os.getpid()
loader.POOL_MIN_FILES, build.RENDER_POOL_MIN_ENTRIES = 1, 1
rendering.PARTS_CHUNK, rendering.DOCUMENTS_CHUNK = 7, 3


def watch(module, name, label):
    # what a worker runs, marked when it runs in a worker (pickled by name: the worker,
    # forked after this, finds this function under the real one's name)
    real = getattr(module, name)

    def task(*args):
        if os.getpid() != parent:
            with open(marks, "a") as handle:
                handle.write(label + "\\n")
        return real(*args)

    task.__module__, task.__qualname__ = module.__name__, name
    setattr(module, name, task)


watch(loader, "_parse_chunk", "parse")
watch(rendering, "_parts_task", "parts")
watch(rendering, "_documents_task", "documents")
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_worker_processes_give_what_one_process_gives(tmp_path, records):
    expected = cold_tree(tmp_path, records)
    out, marks = tmp_path / "pooled", tmp_path / "marks"
    result = subprocess.run([sys.executable, "-c", POOLED, str(marks), "build", str(out), "--records", str(records),
                             "--no-cache"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    # the records parsed, their fragments made and the documents joined by the workers
    assert set(marks.read_text().split()) == {"parse", "parts", "documents"}
    assert every_file(out) == expected


def filled_cache(tmp_path: Path, records: Path) -> Path:
    cache_dir = tmp_path / "cache"
    assert build(tmp_path / "fill", "--records", str(records), "--cache", str(cache_dir)) == 0
    path = cache_file(cache_dir, records)
    assert path.is_file()
    return path


def parsed_with(path: Path, records: Path) -> int:
    cache = ParseCache(path)
    try:
        loaded = load_records(records, cache)
        tree_of(Settings(records=records), loaded)  # details come from the cache: must still render
        return loaded.parsed
    finally:
        cache.close()


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "not-sqlite"])
def test_corrupt_cache_file_is_rebuilt(tmp_path, records, damage):
    cold = cold_tree(tmp_path, records)
    path = filled_cache(tmp_path, records)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    data = path.read_bytes()
    path.write_bytes({"garbage": os.urandom(len(data)), "truncated": data[: len(data) // 3], "empty": b"",
                      "not-sqlite": b"SQLite format 3\x00" + b"\xff" * 200}[damage])
    assert parsed_with(path, records) == 305  # nothing trusted
    assert parsed_with(path, records) == 0  # and rebuilt
    out = tmp_path / "after"
    assert build(out, "--records", str(records), "--cache", str(path.parent)) == 0
    assert every_file(out) == cold


@pytest.mark.slow
def test_cache_from_another_version_is_emptied(tmp_path, records):
    path = filled_cache(tmp_path, records)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = 'format=0 frfeeds=0.0.0' WHERE key = 'stamp'")
    assert parsed_with(path, records) == 305
    assert parsed_with(path, records) == 0


EXTENDED = """
import dataclasses, sys
import frfeeds.records as records


@dataclasses.dataclass(frozen=True, slots=True)
class Record(records.Record):
    added_field: str | None = None


records.Record = Record  # before the codec is made: as if the field had been added to the model
from frfeeds.read import codec
from frfeeds.cli import main

assert "added_field" in codec.SOURCE
sys.exit(main(sys.argv[1:]))
"""


def test_cache_from_before_a_model_change_is_rebuilt_not_a_crash(tmp_path, records):
    cold = cold_tree(tmp_path, records)
    path = filled_cache(tmp_path, records)
    out = tmp_path / "after"  # a new tree: every feed rendered from the cache's rows
    result = subprocess.run([sys.executable, "-c", EXTENDED, "build", str(out), "--records", str(records),
                             "--cache", str(path.parent)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "read 305 records" in result.stdout and every_file(out) == cold
    assert parsed_with(path, records) == 305  # the extended model's rows are stale for this one in turn
    assert parsed_with(path, records) == 0


@pytest.mark.slow
@pytest.mark.parametrize("table, column", [("records", "summary"), ("records", "problems"), ("details", "data")])
def test_damaged_rows_are_parsed_again(tmp_path, records, table, column):
    cold = cold_tree(tmp_path, records)
    path = filled_cache(tmp_path, records)
    with sqlite3.connect(path) as db:
        victims = [row[0] for row in db.execute(f"SELECT path FROM {table} ORDER BY path LIMIT 3")]
        for victim in victims:  # same length, one byte flipped: only the CRC can tell
            data = bytearray(db.execute(f"SELECT {column} FROM {table} WHERE path = ?", (victim,)).fetchone()[0])
            data[len(data) // 2] ^= 0xFF
            db.execute(f"UPDATE {table} SET {column} = ? WHERE path = ?", (bytes(data), victim))
    expected = 3 if table == "records" else 0  # a bad details row is re-read when rendering
    assert parsed_with(path, records) == expected
    out = tmp_path / "after"
    assert build(out, "--records", str(records), "--cache", str(path.parent)) == 0
    assert every_file(out) == cold


KILLER = """
import os, signal, sys
import frfeeds.read.cache as cache
from frfeeds.cli import main

when, calls = sys.argv[1], [0]
real_db = cache.ParseCache._db


class Dying:
    def __init__(self, db):
        self.db = db

    def execute(self, sql, *args):
        if sql == "COMMIT" and when == "commit":
            os.kill(os.getpid(), signal.SIGKILL)  # every row written, no COMMIT
        return self.db.execute(sql, *args)

    def executemany(self, sql, rows):
        calls[0] += 1
        if when == "midway" and calls[0] == 3:
            os.kill(os.getpid(), signal.SIGKILL)  # some chunks written
        return self.db.executemany(sql, rows)

    def __getattr__(self, name):
        return getattr(self.db, name)


cache.ParseCache._db = property(lambda self: Dying(real_db.fget(self)))
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.slow
@pytest.mark.parametrize("when", ["commit", "midway"])
@pytest.mark.parametrize("before", ["empty", "filled"])
def test_cache_written_by_a_killed_build_is_not_trusted(tmp_path, records, before, when):
    cold = cold_tree(tmp_path, records)
    cache_dir = tmp_path / "cache"
    if before == "filled":
        filled_cache(tmp_path, records)
        for index in range(3):  # a few new files, for more than one chunk to write
            write_record(records, f"new-{index}.md", record_text(url=f"https://example.com/new-{index}"))
            os.utime(records / f"new-{index}.md", (1_600_000_000, 1_600_000_000))
    result = subprocess.run(
        [sys.executable, "-c", KILLER, when, "build", str(tmp_path / "killed"), "--records", str(records),
         "--cache", str(cache_dir)], capture_output=True, text=True,
    )
    assert result.returncode == -9, result.stderr
    path = cache_file(cache_dir, records)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = db.execute("SELECT count(*) FROM records").fetchone()[0]
    assert rows == (0 if before == "empty" else 305)  # the killed build's rows were rolled back
    out = tmp_path / "after"
    assert build(out, "--records", str(records), "--cache", str(cache_dir)) == 0
    assert every_file(out) == (cold if before == "empty" else cold_tree(tmp_path / "with-new", records))


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["state", "marker"])
def test_damaged_state_or_marker_means_a_full_build_that_rewrites_nothing(tmp_path, records, damage):
    out = tmp_path / "out"
    assert build(out, "--records", str(records)) == 0
    stamps = {path: (os.stat(out / path).st_ino, os.stat(out / path).st_mtime_ns) for path in tree(out)}
    expected = every_file(out)
    damaged = state_file(tmp_path / "frfeeds-cache", out) if damage == "state" else out / MARKER
    damaged.write_bytes(damaged.read_bytes()[:-40] + os.urandom(40))
    assert build(out, "--records", str(records)) == 0
    assert {path: (os.stat(out / path).st_ino, os.stat(out / path).st_mtime_ns) for path in tree(out)} == stamps
    assert every_file(out) == expected  # the marker too is back to its one text


@pytest.mark.slow
@pytest.mark.parametrize("touch", ["edited", "same size", "stray", "removed", "emptied folder"])
def test_edited_output_file_is_restored(tmp_path, records, touch):
    """Each way a hand can touch the tree, alone, is seen by the no-change check."""
    out = tmp_path / "out"
    assert build(out, "--records", str(records)) == 0
    expected = every_file(out)
    atom = out / "feeds" / "ai.atom"
    if touch == "edited":
        atom.write_text("tampered")
    elif touch == "same size":  # the same size, another mtime
        data, mtime_ns = atom.read_bytes(), atom.stat().st_mtime_ns
        atom.write_bytes(data.replace(b"<feed", b"<FEED", 1))
        os.utime(atom, ns=(mtime_ns + 1_000_000, mtime_ns + 1_000_000))
    elif touch == "stray":
        (out / "feeds" / "stray.txt").write_text("stray")
    elif touch == "removed":
        atom.unlink()
    else:
        shutil.rmtree(out / "feeds" / "ai" / "archive")
    assert build(out, "--records", str(records)) == 0
    assert every_file(out) == expected


def test_no_cache_writes_no_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FRFEEDS_CACHE", "off")
    assert build(tmp_path / "a", "--records", str(SEEDS)) == 0
    monkeypatch.setenv("FRFEEDS_CACHE", str(tmp_path / "cache"))
    assert build(tmp_path / "b", "--records", str(SEEDS), "--no-cache") == 0
    assert not (tmp_path / "cache").exists()
    assert build(tmp_path / "c", "--records", str(SEEDS)) == 0
    assert len(list((tmp_path / "cache").glob("records-*.sqlite3"))) == 1


PROGRESS = """
import sys
import frfeeds.progress
frfeeds.progress.DELAY = 0
from frfeeds.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
@pytest.mark.parametrize("quiet", [False, True])
def test_progress_shows_on_a_terminal_only_and_quiet_silences_it(tmp_path, generated, quiet):
    import fcntl
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal has a size
    args = [sys.executable, "-c", PROGRESS, "build", str(tmp_path / "out"), "--records", str(generated), "--no-cache"]
    process = subprocess.Popen(args + (["--quiet"] if quiet else []), stdout=subprocess.PIPE, stderr=follower)
    os.close(follower)
    stdout, _ = process.communicate(timeout=120)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert process.returncode == 0 and b"read 305 records" in stdout
    if quiet:
        assert b"parsing" not in seen and b"rendering" not in seen
    else:
        assert b"parsing" in seen and b"rendering" in seen
