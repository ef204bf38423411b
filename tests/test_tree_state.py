"""OUT holds only what a static host should publish: the feeds, the pages and one fixed
line of marker text. Build state lives beside the parse cache; a refused build leaves
nothing anywhere."""

import io
import marshal
import os
import shutil

import pytest
from helpers import SEEDS, build, every_file, record_text, tree, write_record

from frfeeds.fragments import store_folder
from frfeeds.write.writer import MARKER, MARKER_TEXT, state_file


def test_every_kind_of_build_gives_the_same_tree_hidden_files_included(tmp_path, records, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("FRFEEDS_CACHE", str(cache))
    site = tmp_path / "site"
    runs = [  # (OUT, extra options): cold cache, warm, no-change, --no-cache, over each other
        ("a", []), ("b", []), ("a", []), ("a", ["--no-cache"]), ("c", ["--no-cache"]), ("c", []), ("c", []),
        ("b", ["--no-cache"]),
    ]
    reference = None
    for name, options in runs:
        out = site / name
        assert build(out, "--records", str(records), *options) == 0
        files = every_file(out)
        reference = reference or files
        assert files == reference, (name, options)
    assert files[MARKER] == MARKER_TEXT
    # beside the trees: their stages, kept for the next build (no lock, nothing else)
    assert sorted(os.listdir(site)) == [".a.frfeeds-new", ".b.frfeeds-new", ".c.frfeeds-new", "a", "b", "c"]
    states = sorted(path.name for path in cache.iterdir() if path.name.startswith("tree-"))
    kept = [state_file(cache, site / name) for name in "abc"]
    assert states == sorted([state.name for state in kept] + [store_folder(state).name for state in kept])


SECRET_REJECTED = "Rejected-story-title-q7x"
SECRET_UNPUBLISHED = "Unpublished-draft-title-k3w"


def test_the_tree_holds_no_data_of_rejected_or_unpublished_records(tmp_path):
    records = tmp_path / "records"
    shutil.copytree(SEEDS, records)
    write_record(records, "rejected-draft-file.md", record_text(title=SECRET_REJECTED, url="javascript:alert(4)"))
    write_record(records, "unpublished-draft-file.md",
                 record_text(title=SECRET_UNPUBLISHED, url="https://example.com/unpub-q9z", extra="published: false"))
    out = tmp_path / "out"
    for options in ([], [], ["--no-cache"]):
        assert build(out, "--records", str(records), *options) == 0
        blob = b"\n".join(path.encode() + b"\0" + data for path, data in every_file(out).items())
        for secret in (SECRET_REJECTED, SECRET_UNPUBLISHED, "javascript:alert(4)", "unpub-q9z",
                       "rejected-draft-file", "unpublished-draft-file", str(records)):
            assert secret.encode() not in blob, secret
    assert build(out, "--records", str(records), "--include-unpublished") == 0
    assert SECRET_UNPUBLISHED.encode() in tree(out)["feeds/all.atom"]  # the check above can fail


@pytest.mark.parametrize("case", ["foreign folder", "a file", "no records"])
def test_a_refused_build_leaves_no_file_anywhere(tmp_path, case, capsys):
    out = tmp_path / "site" / "src"
    records = SEEDS
    if case == "foreign folder":
        out.mkdir(parents=True)
        (out / "main.py").write_text("print('mine')\n")
    elif case == "a file":
        out.parent.mkdir(parents=True)
        out.write_text("not a folder")
    else:
        records = tmp_path / "no-such-records"
        out = tmp_path / "new" / "deep" / "out"
    before = every_file(tmp_path)
    assert build(out, "--records", str(records)) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert every_file(tmp_path) == before  # not a lock, a staging folder, a parent, nor a cache file


def test_a_tree_written_by_an_older_frfeeds_is_taken_over_and_its_marker_rewritten(tmp_path):
    out = tmp_path / "out"
    assert build(out, "--records", str(SEEDS), "--no-cache") == 0
    expected = every_file(out)
    (out / MARKER).write_bytes(MARKER_TEXT + marshal.dumps((1, "key", {}, "", ("javascript:alert(4)",), {})))
    assert build(out, "--records", str(SEEDS)) == 0
    assert every_file(out) == expected


def test_no_state_without_a_cache_and_still_only_changed_files_written(tmp_path, monkeypatch):
    monkeypatch.setenv("FRFEEDS_CACHE", str(tmp_path / "cache"))
    records = tmp_path / "records"
    shutil.copytree(SEEDS, records)
    out = tmp_path / "out"
    assert build(out, "--records", str(records), "--no-cache") == 0
    stamps = {path: os.stat(out / path).st_ino for path in tree(out)}
    write_record(records, "new.md", record_text(url="https://example.com/new", topics=("Fresh",)))
    assert build(out, "--records", str(records), "--no-cache") == 0
    assert not (tmp_path / "cache").exists()
    after = {path: os.stat(out / path).st_ino for path in tree(out)}
    kept = {path for path in stamps if after.get(path) == stamps[path]}
    assert "feeds/computer-vision.atom" in kept and "feeds/all.atom" not in kept


def test_state_is_keyed_by_the_real_path_of_out(tmp_path, records, capsys):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "alias").symlink_to(real)
    assert build(real / "out", "--records", str(records)) == 0
    capsys.readouterr()
    assert build(tmp_path / "alias" / "out", "--records", str(records)) == 0
    assert " 0 changed, 0 removed" in capsys.readouterr().out
    state = state_file(tmp_path / "frfeeds-cache", real / "out")
    assert sorted(p.name for p in (tmp_path / "frfeeds-cache").iterdir() if p.name.startswith("tree-")) == [
        store_folder(state).name, state.name
    ]


def test_a_no_change_rebuild_opens_the_state_and_the_marker_only(tmp_path, records, monkeypatch):
    out = tmp_path / "out"
    assert build(out, "--records", str(records)) == 0
    opened = []
    real_open = io.open

    def recording_open(file, *args, **kwargs):
        opened.append(os.fsdecode(file) if isinstance(file, (str, bytes, os.PathLike)) else file)
        return real_open(file, *args, **kwargs)

    import frfeeds.read.cache

    def no_sqlite(*args, **kwargs):
        raise AssertionError("the parse cache was opened")

    monkeypatch.setattr(io, "open", recording_open)
    monkeypatch.setattr("builtins.open", recording_open)
    monkeypatch.setattr(frfeeds.read.cache.sqlite3, "connect", no_sqlite)
    assert build(out, "--records", str(records)) == 0
    assert sorted(opened) == sorted([str(state_file(tmp_path / "frfeeds-cache", out)), str(out / MARKER)])
