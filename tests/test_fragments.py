"""Entries' fragments are kept between builds (fragments.py): a rebuild renders only the
records that changed, and whatever happened to the store (damaged, truncated, another
version, compacted) the tree is byte for byte a fresh --no-cache build's."""

import os
import shutil

import pytest
from helpers import build, every_file

import frfeeds.fragments
import frfeeds.plan
import frfeeds.rendering
from frfeeds.fragments import store_folder
from frfeeds.write.writer import state_file


@pytest.fixture
def records(tmp_path, generated):
    folder = tmp_path / "records"
    shutil.copytree(generated, folder)
    old = 1_600_000_000  # older than the "too fresh to trust" window, so the state is used
    for path in folder.rglob("*"):
        os.utime(path, (old, old))
    return folder


@pytest.fixture
def rendered(tmp_path, monkeypatch):
    """The records whose fragments each build makes: the real make_parts, watched; each
    call appends its records to a file (worker processes are forked: they inherit this).
    rendered() gives them and starts a new list."""
    log = tmp_path / "rendered"
    real = frfeeds.plan.make_parts

    def watched(inputs, records, wanted):
        with open(log, "a", encoding="utf-8") as handle:
            handle.writelines(f"{path}\n" for path in records)
        return real(inputs, records, wanted)

    monkeypatch.setattr(frfeeds.rendering, "make_parts", watched)

    def made() -> list[str]:
        paths = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
        log.unlink(missing_ok=True)
        return paths

    return made


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


def store_of(tmp_path, out):
    return store_folder(state_file(tmp_path / "cache", out))


def test_a_rebuild_renders_only_the_edited_record(tmp_path, records, rendered, monkeypatch):
    monkeypatch.setenv("FRFEEDS_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out"
    assert build(out, "--records", str(records), "-q") == 0
    assert len(rendered()) > 100
    record = published_record(records)
    edit(record, "Edited")
    assert build(out, "--records", str(records), "-q") == 0
    assert rendered() == [record.relative_to(records).as_posix()]
    assert every_file(out) == fresh(tmp_path, records)
    assert store_of(tmp_path, out).is_dir()


@pytest.mark.parametrize("damage", ["index cut", "index gone", "data cut", "data gone", "junk index"])
def test_a_damaged_store_is_rendered_again(tmp_path, records, monkeypatch, damage):
    monkeypatch.setenv("FRFEEDS_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out"
    assert build(out, "--records", str(records), "-q") == 0
    store = store_of(tmp_path, out)
    data = sorted(path for path in store.iterdir() if path.name != "index")
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
    edit(published_record(records), "After damage")
    assert build(out, "--records", str(records), "-q") == 0
    assert every_file(out) == fresh(tmp_path, records)
    # and the store is whole again: the next edit renders one record
    edit(published_record(records), "Again")
    assert build(out, "--records", str(records), "-q") == 0
    assert every_file(out) == fresh(tmp_path, records)


def test_other_render_settings_start_an_empty_store(tmp_path, records, rendered, monkeypatch):
    monkeypatch.setenv("FRFEEDS_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out"
    assert build(out, "--records", str(records), "-q") == 0
    cold = sorted(rendered())
    assert build(out, "--records", str(records), "--language", "fr", "-q") == 0
    assert sorted(rendered()) == cold, "every fragment is made again under other settings"
    other = tmp_path / "other"
    assert build(other, "--records", str(records), "--no-cache", "--language", "fr", "-q") == 0
    assert every_file(out) == every_file(other)


def test_dead_fragments_are_compacted_away(tmp_path, records, monkeypatch):
    monkeypatch.setenv("FRFEEDS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(frfeeds.fragments, "_SLACK", 0)
    out = tmp_path / "out"
    assert build(out, "--records", str(records), "-q") == 0
    store = store_of(tmp_path, out)

    def data_bytes() -> int:
        return sum(path.stat().st_size for path in store.iterdir() if path.name != "index")

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
    edit(published_record(records), "After compaction")
    assert build(out, "--records", str(records), "-q") == 0
    assert every_file(out) == fresh(tmp_path, records)


def test_many_data_files_are_compacted_into_one_per_row(tmp_path, records, monkeypatch):
    monkeypatch.setenv("FRFEEDS_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out"
    assert build(out, "--records", str(records), "-q") == 0
    store = store_of(tmp_path, out)
    before = sorted(path.name for path in store.iterdir() if path.name != "index")
    assert not any(name.startswith("compact-") for name in before)
    monkeypatch.setattr(frfeeds.fragments, "_MAX_FILES", 2)
    edit(published_record(records), "Compacted")
    assert build(out, "--records", str(records), "-q") == 0
    after = sorted(path.name for path in store.iterdir() if path.name != "index")
    assert len(after) <= len(before) and all(name.startswith("compact-") for name in after)
    assert every_file(out) == fresh(tmp_path, records)
