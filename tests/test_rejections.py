"""A rejection lives as long as its cause: I/O errors are never cached, and a cached
parse always names the content it came from."""

import os
import shutil
import subprocess
import sys
import time

import pytest
from helpers import OBEY_PERMISSIONS, SEEDS, record_text, write_record

from frfeeds.errors import RecordError
from frfeeds.read.cache import open_cache
from frfeeds.read.loader import load_records
from frfeeds.read.scan import scan_records

OLD = time.time() - 100  # older than the cache's racy window


def aged_seeds(tmp_path):
    """tmp_path/records: a copy of the seeds, each older than the cache's racy window."""
    folder = tmp_path / "records"
    shutil.copytree(SEEDS, folder)
    for path in folder.iterdir():
        os.utime(path, (OLD, OLD))
    return folder


def test_a_record_replaced_between_scan_and_read_is_cached_as_read(tmp_path):
    """A sync tool restores a file, mtime and all, that was caught half-written: the
    half-written parse must not be taken for the restored file."""
    folder = tmp_path / "records"
    good = record_text(title="Whole story")
    path = write_record(folder, "story.md", good)
    os.utime(path, (OLD, OLD))
    cache = open_cache(folder, tmp_path / "cache")
    scanned = scan_records(folder)
    broken = good[: len(good) // 2].ljust(len(good), " ")  # same size, cut mid-write
    path.write_text(broken)
    os.utime(path, (OLD + 50, OLD + 50))
    first = load_records(folder, cache, files=scanned)
    assert [problem.field for problem in first.rejected] == ["front matter"] and not first.summaries
    path.write_text(good)
    os.utime(path, (OLD, OLD))  # back as the scan saw it
    second = load_records(folder, cache)
    assert not second.rejected and [summary.url for summary in second.summaries] == ["https://example.com/story"]
    cache.close()


def test_a_record_changing_while_read_is_rejected_and_not_cached(tmp_path, monkeypatch):
    import frfeeds.read.loader

    folder = tmp_path / "records"
    os.utime(write_record(folder, "story.md", record_text()), (OLD, OLD))
    cache = open_cache(folder, tmp_path / "cache")
    real_fstat, calls = os.fstat, []

    def fstat_seeing_a_write(fd):  # the look after each read sees the file grown
        info = real_fstat(fd)
        calls.append(fd)
        if len(calls) % 2 == 0:  # every read, the one looked at again included
            return os.stat_result((*info[:6], info.st_size + 1, *info[7:]))
        return info

    monkeypatch.setattr(frfeeds.read.loader.os, "fstat", fstat_seeing_a_write)
    first = load_records(folder, cache)
    monkeypatch.undo()
    assert [str(problem) for problem in first.rejected] == [f"{folder}/story.md: file: changed while being read"]
    assert first.transient == ("story.md",)
    assert "story.md" not in cache.rows()
    again = load_records(folder, cache)
    assert not again.rejected and len(again.summaries) == 1 and again.parsed == 1
    cache.close()


def test_an_unreadable_record_made_readable_is_published_by_the_next_build(tmp_path):
    records = tmp_path / "records"
    shutil.copytree(SEEDS, records)
    locked = records / "000_0caf8a9d4d505239.txt"
    for path in records.iterdir():
        os.utime(path, (OLD, OLD))
    locked.chmod(0)
    build = [sys.executable, "-m", "frfeeds.cli", "build", str(tmp_path / "out"), "--records", str(records), "--quiet"]
    env = {**os.environ, "FRFEEDS_CACHE": str(tmp_path / "cache")}
    first = subprocess.run(build, capture_output=True, text=True, env=env, timeout=120, preexec_fn=OBEY_PERMISSIONS)
    assert first.returncode == 0, first.stderr
    assert f"{locked}: file: cannot be read: Permission denied" in first.stderr
    assert "rejected 1" in first.stdout
    locked.chmod(0o644)  # a chmod changes neither size nor mtime
    second = subprocess.run(build, capture_output=True, text=True, env=env, timeout=120, preexec_fn=OBEY_PERMISSIONS)
    assert second.returncode == 0 and "Permission denied" not in second.stderr, second.stderr
    assert "rejected 0" in second.stdout
    assert b"https://www.cbsnews.com/video/facial-recognition" in (tmp_path / "out/feeds/all.atom").read_bytes()


RELOAD_SCRIPT = """
import os, sys
from frfeeds.app import create_app
app = create_app({"RECORDS": sys.argv[1], "BASE_URL": "https://feeds.example.org", "RELOAD_INTERVAL": 3600})
reloader = app.extensions["frfeeds"]
before = reloader.tree.rejected
os.chmod(sys.argv[2], 0o644)
reloaded = reloader.check()
served = app.test_client().get("/feeds/all.atom").data
print(before, reloaded, reloader.tree.rejected, b"facial-recognition-video" in served)
"""


def test_an_unreadable_record_made_readable_is_published_by_the_next_reload(tmp_path):
    records = tmp_path / "records"
    shutil.copytree(SEEDS, records)
    locked = records / "000_0caf8a9d4d505239.txt"
    locked.chmod(0)
    command = [sys.executable, "-c", RELOAD_SCRIPT, str(records), str(locked)]
    env = {**os.environ, "FRFEEDS_CACHE": str(tmp_path / "cache")}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, preexec_fn=OBEY_PERMISSIONS)
    assert result.stdout.split() == ["1", "True", "0", "True"], result.stdout + result.stderr


def test_a_summary_is_never_joined_to_the_details_of_another_version(tmp_path):
    """Two processes share the cache: one loaded a record's summary, then the record was
    edited and the other process stored the new parse. The first must not render the old
    URL and dates with the new title: it sees the change, and reads the folder again."""
    folder = tmp_path / "records"
    path = write_record(folder, "story.md", record_text(title="Old title", url="https://example.com/old"))
    os.utime(path, (OLD, OLD))
    first = open_cache(folder, tmp_path / "cache")
    assert load_records(folder, first).parsed == 1  # stores the row
    loaded = load_records(folder, first)  # the summary from the cache, details to be read later
    assert loaded.parsed == 0
    write_record(folder, "story.md", record_text(title="New title", url="https://example.com/new"))
    os.utime(path, (OLD + 5, OLD + 5))
    other = open_cache(folder, tmp_path / "cache")
    assert load_records(folder, other).parsed == 1  # the other process's reload replaces the rows
    other.close()
    with pytest.raises(RecordError, match="changed while being read"):
        loaded.records(["story.md"])
    again = load_records(folder, first)
    record = again.records(["story.md"])["story.md"]
    assert (record.url, record.title) == ("https://example.com/new", "New title")
    first.close()


def test_rows_stored_by_another_version_are_not_rendered_as_this_loads(tmp_path):
    """A process of another frfeeds version shares the cache: it empties it (another
    stamp) and stores rows of its own for the same file versions. This load's summaries
    came from the old rows; what it renders must be read from the files again, not
    taken from rows of another format (here: two records' rows swapped)."""
    import sqlite3

    folder = tmp_path / "records"
    for name, title in (("a.md", "Title A"), ("b.md", "Title B")):
        path = write_record(folder, name, record_text(title=title, url=f"https://example.com/{name[0]}"))
        os.utime(path, (OLD, OLD))
    cache = open_cache(folder, tmp_path / "cache")
    load_records(folder, cache)  # stores the rows
    loaded = load_records(folder, cache)  # summaries from the cache, the rest read when rendered
    assert loaded.parsed == 0
    with sqlite3.connect(cache.path) as db:
        rows = {path: row for path, *row in db.execute("SELECT path, summary, problems, crc FROM records")}
        details = {path: row for path, *row in db.execute("SELECT path, data, crc FROM details")}
        db.execute("UPDATE meta SET value = 'another version' WHERE key = 'stamp'")
        for path, other in (("a.md", "b.md"), ("b.md", "a.md")):
            db.execute("UPDATE records SET summary = ?, problems = ?, crc = ? WHERE path = ?", (*rows[other], path))
            db.execute("UPDATE details SET data = ?, crc = ? WHERE path = ?", (*details[other], path))
    records = loaded.records(["a.md", "b.md"])
    assert [(records[p].title, records[p].url) for p in ("a.md", "b.md")] == [
        ("Title A", "https://example.com/a"), ("Title B", "https://example.com/b")]
    cache.close()


def test_a_folder_moved_away_while_read_is_an_error_not_an_empty_load(tmp_path, monkeypatch):
    """Its files would all read as gone: publishing that would empty every feed."""
    from frfeeds.read import loader

    folder = tmp_path / "records"
    shutil.copytree(SEEDS, folder)
    real = loader.parse_file

    def parse_while_moving(item):
        if folder.exists():
            folder.rename(tmp_path / "away")
        return real(item)

    monkeypatch.setattr(loader, "parse_file", parse_while_moving)
    with pytest.raises(RecordError, match="was moved or deleted while being read; run again"):
        load_records(folder)


def test_a_record_deleted_while_read_is_simply_gone(tmp_path, monkeypatch):
    from frfeeds.read import loader

    folder = tmp_path / "records"
    shutil.copytree(SEEDS, folder)
    doomed = folder / "000_0caf8a9d4d505239.txt"
    real = loader.parse_file

    def parse_after_a_deletion(item):
        doomed.unlink(missing_ok=True)
        return real(item)

    monkeypatch.setattr(loader, "parse_file", parse_after_a_deletion)
    loaded = load_records(folder)
    assert not loaded.rejected and len(loaded.summaries) == 4 and "000_0caf8a9d4d505239.txt" not in {
        summary.path for summary in loaded.summaries}


def test_a_cold_load_past_its_budget_reads_details_back_from_the_cache(tmp_path, monkeypatch):
    """Past HELD_DETAILS, the details of records just parsed and stored are not kept in
    memory but read from the cache when wanted: the same records; and a record that
    changed between the scan and its parse keeps its parsed details, since the cache's
    row is of another version than the scan's."""
    from frfeeds.read import loader

    folder = aged_seeds(tmp_path)
    expected = load_records(folder)
    expected_records = expected.records(summary.path for summary in expected.summaries)
    monkeypatch.setattr(loader, "HELD_DETAILS", 0)
    scanned = scan_records(folder)
    changed = folder / "000_0caf8a9d4d505239.txt"
    os.utime(changed, (OLD + 50, OLD + 50))  # after the scan: the row is of another version
    cache = open_cache(folder, tmp_path / "cache")
    loaded = load_records(folder, cache, files=scanned)
    assert loaded.parsed == len(scanned) and list(loaded._held) == [changed.name]
    assert loaded.records(summary.path for summary in loaded.summaries) == expected_records
    cache.close()


def test_a_load_of_files_in_any_order_is_the_load_of_the_sorted_files(tmp_path, monkeypatch):
    """Summaries and problems come in path order, and every record is read back from the
    cache by the version scanned, whatever the order the files were given in: hits and
    parses are assembled as they come."""
    from frfeeds.read import loader

    folder = tmp_path / "records"
    shutil.copytree(SEEDS, folder)
    write_record(folder, "zz-broken.md", record_text(title=""))
    write_record(folder, "aa-dropped.md", record_text(url="https://example.com/dropped",
                                                    extra="ampWebUrl: javascript:alert(1)"))
    for path in folder.iterdir():
        os.utime(path, (OLD, OLD))
    expected = load_records(folder)
    monkeypatch.setattr(loader, "HELD_DETAILS", 0)  # every record read back from the cache
    cache = open_cache(folder, tmp_path / "cache")
    scanned = scan_records(folder)
    first_half = load_records(folder, cache, files=scanned[::2])  # half in the cache: hits and parses mixed
    assert first_half.parsed == len(scanned[::2])
    loaded = load_records(folder, cache, files=scanned[::-1])
    assert loaded.parsed == len(scanned) - len(scanned[::2])
    assert [s.path for s in loaded.summaries] == sorted(s.path for s in expected.summaries)
    assert loaded.summaries == expected.summaries
    assert [str(e) for e in loaded.rejected] == [str(e) for e in expected.rejected] and loaded.rejected
    assert [str(e) for e in loaded.dropped] == [str(e) for e in expected.dropped] and loaded.dropped
    assert loaded.records(s.path for s in loaded.summaries) == expected.records(s.path for s in expected.summaries)
    cache.close()


def test_without_a_cache_every_record_is_read_once_and_held(tmp_path, monkeypatch):
    """The details budget is the cache's: without one, a record past it would be parsed
    again when rendered, and fail the load if it was saved since."""
    from frfeeds.read import loader

    folder = aged_seeds(tmp_path)
    monkeypatch.setattr(loader, "HELD_DETAILS", 0)
    parses, real_parse = [], loader.parse_file

    def counted(item):
        parses.append(item.path)
        return real_parse(item)

    monkeypatch.setattr(loader, "parse_file", counted)
    loaded = load_records(folder)
    for path in folder.iterdir():  # saved again since the load: what the load read is rendered
        path.write_text(path.read_text() + "\n")
    records = loaded.records(summary.path for summary in loaded.summaries)
    assert sorted(parses) == sorted(summary.path for summary in loaded.summaries) and len(records) == 5


def test_the_cache_forgets_the_records_gone_and_keeps_the_others(tmp_path):
    folder = aged_seeds(tmp_path)
    cache = open_cache(folder, tmp_path / "cache")
    first = load_records(folder, cache)
    gone = first.summaries[0].path
    (folder / gone).unlink()
    again = load_records(folder, cache)
    assert again.parsed == 0 and [s.path for s in again.summaries] == [s.path for s in first.summaries[1:]]
    assert sorted(cache.rows()) == sorted(s.path for s in again.summaries)
    cache.close()


def test_held_details_released_are_read_back_from_the_cache(tmp_path):
    """A record parsed now is held until released, then read back from the cache (it is
    stored) or parsed again (saved in the last two seconds: not stored)."""
    folder = tmp_path / "records"
    shutil.copytree(SEEDS, folder)
    paths = sorted(path.name for path in folder.iterdir())
    for name in paths[1:]:
        os.utime(folder / name, (OLD, OLD))
    os.utime(folder / paths[0])  # saved just now: not stored
    cache = open_cache(folder, tmp_path / "cache")
    loaded = load_records(folder, cache)
    first = loaded.encoded(paths)
    loaded.release(paths)
    assert not loaded._held
    assert loaded.encoded(paths) == first
    cache.close()


def test_a_build_renders_its_newest_stories_as_loaded_whatever_happens_to_the_cache(tmp_path, monkeypatch):
    """While a build renders, the author saves its stories again and a server sharing
    the parse cache reads them: the index still shows what the build loaded (the cache
    no longer has it), and the build ends."""
    from frfeeds import rendering
    from frfeeds.build import build
    from frfeeds.settings import Settings

    folder = aged_seeds(tmp_path)
    real = rendering.render_documents

    def racing(*args, **kwargs):
        yield from real(*args, **kwargs)
        for path in sorted(folder.iterdir()):
            path.write_text(path.read_text().replace("title: ", "title: Saved again ", 1))
            os.utime(path, (OLD + 9, OLD + 9))
        other = open_cache(folder, tmp_path / "cache")
        load_records(folder, other)  # the server's reload: the cache holds the new versions
        other.close()

    monkeypatch.setattr(rendering, "render_documents", racing)
    build(tmp_path / "out", Settings(records=folder), tmp_path / "cache")
    index = (tmp_path / "out" / "index.html").read_text()
    assert "Saved again" not in index and "wrongful arrests" in index
