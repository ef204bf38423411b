"""Entries' fragments are kept between builds (fragments.py): a rebuild renders only the
records that changed, and whatever happened to the store (damaged, truncated, another
version, compacted) the tree is byte for byte a fresh --no-cache build's."""

import marshal
import os
import shutil
from array import array

import pytest
from helpers import build, every_file

import frfeeds.fragments
from frfeeds.fragments import store_folder
from frfeeds.write.writer import state_file


def index_of(store):
    """The store's index as saved: (stamp, record path -> (digest, its places by row)),
    a place naming its data file."""
    _, stamp, paths, digests, names, _, columns = marshal.loads((store / "index").read_bytes())
    rows = {row: tuple(array(code, data) for code, data in zip("iqi", arrays, strict=True))
            for row, arrays in columns.items()}

    def places(at):
        return tuple((row, names[numbers[at]] if numbers[at] >= 0 else None, offsets[at], lengths[at])
                     for row, (numbers, offsets, lengths) in sorted(rows.items()))

    return stamp, {path: (digests[at], places(at)) for at, path in enumerate(paths)}


def published_record(records):
    return next(path for path in sorted(records.rglob("*.md"))
                if "published: false" not in path.read_text(encoding="utf-8") and "removed: true"
                not in path.read_text(encoding="utf-8") and 'title: "' in path.read_text(encoding="utf-8"))


def edit(path, words: str) -> None:
    path.write_text(path.read_text(encoding="utf-8").replace('title: "', f'title: "{words} ', 1), encoding="utf-8")
    os.utime(path, (1_600_000_100, 1_600_000_100))


def fresh(tmp_path, records, name="fresh"):
    out = tmp_path / name
    shutil.rmtree(out, ignore_errors=True)
    assert build(out, "--records", str(records), "--no-cache", "-q") == 0
    return every_file(out)


def edited_build_matches_fresh(tmp_path, out, records, words: str) -> None:
    """Edit the first published record, build out again (the store kept in the cache):
    the tree is the one a build without any cache makes."""
    edit(published_record(records), words)
    assert build(out, "--records", str(records), "-q") == 0
    assert every_file(out) == fresh(tmp_path, records)


def store_of(tmp_path, out):
    return store_folder(state_file(tmp_path / "cache", out))


def data_files(store):
    """The store's data files (all but its index)."""
    return sorted(path for path in store.iterdir() if path.name != "index")


def test_a_rebuild_renders_only_the_edited_record(tmp_path, records, monkeypatch):
    monkeypatch.setenv("FRFEEDS_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out"
    assert build(out, "--records", str(records), "-q") == 0
    _, before = index_of(store_of(tmp_path, out))
    assert len(before) > 100
    record = published_record(records)
    edit(record, "Edited")
    assert build(out, "--records", str(records), "-q") == 0
    _, after = index_of(store_of(tmp_path, out))
    # a fragment made now is appended: the edited record's places are new, no other's
    assert {path for path in after if after[path] != before.get(path)} == {record.relative_to(records).as_posix()}
    assert after.keys() == before.keys()
    assert every_file(out) == fresh(tmp_path, records)


@pytest.mark.parametrize("damage", ["index cut", "index gone", "data cut", "data gone", "junk index"])
def test_a_damaged_store_is_rendered_again(tmp_path, records, monkeypatch, damage):
    monkeypatch.setenv("FRFEEDS_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out"
    assert build(out, "--records", str(records), "-q") == 0
    store = store_of(tmp_path, out)
    data = data_files(store)
    assert data
    if damage == "index cut":
        (store / "index").write_bytes((store / "index").read_bytes()[:100])
    elif damage == "index gone":
        (store / "index").unlink()
    elif damage == "data cut":
        for path in data:
            path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "data gone":
        for path in data:
            path.unlink()
    else:
        (store / "index").write_bytes(b"\x00" * 64)
    edited_build_matches_fresh(tmp_path, out, records, "After damage")
    # and the store is whole again: the next edit renders one record
    edited_build_matches_fresh(tmp_path, out, records, "Again")


def test_other_render_settings_start_an_empty_store(tmp_path, records, monkeypatch):
    monkeypatch.setenv("FRFEEDS_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out"
    assert build(out, "--records", str(records), "-q") == 0
    stamp, before = index_of(store_of(tmp_path, out))
    # without AMP links, entries change: fragments kept from before would show
    assert build(out, "--records", str(records), "--no-amp", "-q") == 0
    other = tmp_path / "other"
    assert build(other, "--records", str(records), "--no-cache", "--no-amp", "-q") == 0
    assert every_file(out) == every_file(other)
    assert every_file(out) != fresh(tmp_path, records)
    new_stamp, after = index_of(store_of(tmp_path, out))
    assert new_stamp != stamp and after.keys() == before.keys()


def test_dead_fragments_are_compacted_away(tmp_path, records, monkeypatch):
    monkeypatch.setenv("FRFEEDS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(frfeeds.fragments, "_SLACK", 0)
    out = tmp_path / "out"
    assert build(out, "--records", str(records), "-q") == 0
    store = store_of(tmp_path, out)

    def data_bytes() -> int:
        return sum(path.stat().st_size for path in data_files(store))

    first = data_bytes()
    paths = sorted(records.rglob("*.md"))
    removed = paths.pop()
    removed.unlink()  # a record gone: its fragments leave the index
    for round_ in range(2):  # every record edited twice: without compaction, three times the bytes
        for path in paths:
            edit(path, f"Round {round_}")
        assert build(out, "--records", str(records), "-q") == 0
    assert data_bytes() < 1.3 * first
    assert every_file(out) == fresh(tmp_path, records)
    edited_build_matches_fresh(tmp_path, out, records, "After compaction")


def test_many_data_files_are_compacted_into_one_per_row(tmp_path, records, monkeypatch):
    monkeypatch.setenv("FRFEEDS_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out"
    assert build(out, "--records", str(records), "-q") == 0
    store = store_of(tmp_path, out)
    before = [path.name for path in data_files(store)]
    assert not any(name.startswith("compact-") for name in before)
    monkeypatch.setattr(frfeeds.fragments, "_MAX_FILES", 2)
    edit(published_record(records), "Compacted")
    assert build(out, "--records", str(records), "-q") == 0
    after = [path.name for path in data_files(store)]
    assert len(after) <= len(before) and all(name.startswith("compact-") for name in after)
    assert every_file(out) == fresh(tmp_path, records)
