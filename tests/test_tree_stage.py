"""The stage kept beside OUT between builds (``.OUT.frfeeds-new``): after a swap it holds
the previous tree, and the next build brings it up to date a file at a time, writing,
linking and deleting only what changed. Nothing in it is trusted: what a killed or
failed build, or a person, left there never reaches the tree, and every tree is exactly
a fresh build's."""

import builtins
import errno
import os
import re
import shutil
import subprocess
import zlib

import pytest
from helpers import build, every_file, record_text, tree, write_record

from frfeeds.write import writer

OLD = 1_600_000_000  # older than the "too fresh to trust" window, so the state is used
LIMIT = ("--limit", "1")  # a feed of two stories has an archive folder


def story(records, name, title, topics, domain="example.com"):
    text = record_text(title=title, url=f"https://{domain}/{name}", topics=topics).replace("example.com", domain)
    path = write_record(records, f"{name}.md", text)
    stamp = OLD + zlib.crc32(text.encode()) % 1_000_000  # old, and another for other bytes
    os.utime(path, (stamp, stamp))


def version(records, number):
    """R1: five stories; R2: a's title edited; R3: e's too, b and c gone (with them a
    provider's feeds and the Robots archive folder). The Fresh feed (d) never changes."""
    story(records, "a", "A1" if number == 1 else "A2", ("AI", "Robots"))
    story(records, "d", "D1", ("Fresh",))
    story(records, "e", "E3" if number == 3 else "E1", ("Vision",))
    if number < 3:
        story(records, "b", "B1", ("Robots",))
        story(records, "c", "C1", ("Robots",), domain="c.example")
    else:
        for name in "bc":
            (records / f"{name}.md").unlink(missing_ok=True)


def fresh(tmp_path, records):
    """Every file of a fresh --no-cache build of the records."""
    out = tmp_path / "fresh"
    shutil.rmtree(out, ignore_errors=True)
    assert build(out, "--records", str(records), "--no-cache", *LIMIT) == 0
    found = every_file(out)
    shutil.rmtree(out)
    return found


def stage_of(out):
    return out.with_name(f".{out.name}.frfeeds-new")


@pytest.fixture
def site(tmp_path):
    """OUT built from R1 then from R2: it holds R2's tree, its stage R1's."""
    records = tmp_path / "records"
    out = tmp_path / "site" / "out"
    for number in (1, 2):
        version(records, number)
        assert build(out, "--records", str(records), *LIMIT) == 0
    assert tree(stage_of(out)) != tree(out)
    assert any(os.path.samestat(os.stat(out / path), os.stat(stage_of(out) / path)) for path in tree(out))
    return records, out


def test_the_stage_holds_the_previous_tree_and_each_rebuild_is_a_fresh_builds_tree(tmp_path, site):
    records, out = site
    previous = every_file(out)
    version(records, 3)
    assert build(out, "--records", str(records), *LIMIT) == 0
    assert every_file(out) == fresh(tmp_path, records)
    assert every_file(stage_of(out)) == previous
    assert not (out / "feeds" / "robots").exists() and not (out / "feeds" / "providers" / "c.example.atom").exists()
    version(records, 2)  # back: the stage, R2's tree, is brought to R2 again
    assert build(out, "--records", str(records), *LIMIT) == 0
    assert every_file(out) == previous
    assert build(out, "--records", str(records), "--no-cache", *LIMIT) == 0
    assert every_file(out) == previous


class Calls:
    """The file-system calls a build makes in the tree's folder: os.link, os.unlink,
    os.rmdir, shutil.rmtree, and open() for writing (the lock's aside)."""

    def __init__(self, monkeypatch, folder):
        self.made = {"link": [], "unlink": [], "rmdir": [], "rmtree": [], "write": []}
        folder = str(folder)

        def counting(name, function):
            def wrapper(*args, **kwargs):
                path = os.fsdecode(args[1] if name == "link" else args[0])
                mode = args[1] if name == "write" and len(args) > 1 else kwargs.get("mode", "r")
                if (path.startswith(folder) and not path.endswith(".frfeeds-lock")
                        and (name != "write" or set(mode) & set("wxa+"))):
                    self.made[name].append(path)
                return function(*args, **kwargs)
            return wrapper

        for module, attribute, name in ((os, "link", "link"), (os, "unlink", "unlink"), (os, "rmdir", "rmdir"),
                                        (shutil, "rmtree", "rmtree"), (builtins, "open", "write")):
            monkeypatch.setattr(module, attribute, counting(name, getattr(module, attribute)))


def test_a_rebuild_links_writes_and_deletes_only_what_changed(tmp_path, site, capsys):
    records, out = site
    stage = stage_of(out)
    for number in range(40):  # feeds no edit below touches: 160 files
        story(records, f"other-{number}", f"Other {number}", (f"Other {number}",), domain="other.example")
    assert build(out, "--records", str(records), *LIMIT) == 0
    story(records, "a", "A4", ("AI", "Robots"))
    assert build(out, "--records", str(records), *LIMIT) == 0  # the stage holds the 160 files now
    files = tree(out)
    # the paths whose stage copy is not the tree's file: the ones the R2 build wrote
    differ = {path for path in files
              if not (stage / path).exists() or not os.path.samestat(os.stat(out / path), os.stat(stage / path))}
    story(records, "c", "C2", ("Robots",), domain="c.example")
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as patch:
        calls = Calls(patch, out.parent)
        assert build(out, "--records", str(records), *LIMIT) == 0
    changed = int(re.search(r"(\d+) changed", capsys.readouterr().out).group(1))
    made = calls.made
    assert every_file(out) == fresh(tmp_path, records)
    # written: each changed file and the marker; linked: some of the files the R2 build
    # wrote, kept now (their stage copies were R1's); deleted: what the stage held at
    # those paths; no folder deleted, nor any file of it one by one
    assert 0 < changed and len(made["write"]) == changed + 1
    assert made["link"] and set(made["link"]) <= {str(stage / path) for path in differ}
    assert len(made["unlink"]) <= len(made["write"]) + len(made["link"])
    assert made["rmtree"] == [] and made["rmdir"] == []
    assert len(made["write"]) + len(made["link"]) + len(made["unlink"]) < len(files) / 3, (made, len(files))


def test_a_rebuild_with_nothing_changed_touches_nothing(site):
    records, out = site
    before = every_file(out.parent)
    with pytest.MonkeyPatch.context() as patch:
        calls = Calls(patch, out.parent)
        assert build(out, "--records", str(records), *LIMIT) == 0
    assert calls.made == {"link": [], "unlink": [], "rmdir": [], "rmtree": [], "write": []}
    assert every_file(out.parent) == before


def tamper_replace(path, data):
    """A file replaced by a new one (an editor's save): a new inode."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


@pytest.mark.parametrize("change", [
    "linked file replaced", "old file edited", "file added", "empty folder added", "file removed",
    "folder removed", "folder made a link", "file where a folder is", "file where a needed folder is",
    "folder where a file is",
    "marker edited", "stage a file", "stage a link",
])
def test_a_stage_changed_by_a_person_never_reaches_the_tree(tmp_path, site, change):
    records, out = site
    stage = stage_of(out)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    linked = stage / "feeds" / "fresh.atom"
    if change == "linked file replaced":
        assert os.path.samestat(os.stat(linked), os.stat(out / "feeds" / "fresh.atom"))
        tamper_replace(linked, b"tampered")
    elif change == "old file edited":  # an R1 copy (not the tree's): edited in place
        assert not os.path.samestat(os.stat(stage / "feeds" / "ai.atom"), os.stat(out / "feeds" / "ai.atom"))
        with open(stage / "feeds" / "ai.atom", "r+b") as handle:
            handle.write(b"tampered")
    elif change == "file added":
        (stage / "feeds" / "stray.atom").write_bytes(b"stray")
    elif change == "empty folder added":
        (stage / "feeds" / "empty" / "deeper").mkdir(parents=True)
    elif change == "file removed":
        (stage / "feeds" / "fresh.rss").unlink()
    elif change == "folder removed":
        shutil.rmtree(stage / "feeds" / "providers")
    elif change == "folder made a link":  # writes there must not land outside the stage
        shutil.rmtree(stage / "feeds" / "providers")
        (stage / "feeds" / "providers").symlink_to(outside)
    elif change == "file where a folder is":
        shutil.rmtree(stage / "feeds" / "robots")
        (stage / "feeds" / "robots").write_bytes(b"a file")
    elif change == "file where a needed folder is":  # R3's All feed has an archive too
        shutil.rmtree(stage / "feeds" / "all")
        (stage / "feeds" / "all").write_bytes(b"a file")
    elif change == "folder where a file is":
        (stage / "index.html").unlink()
        (stage / "index.html").mkdir()
        (stage / "index.html" / "inner").write_bytes(b"inner")
    elif change == "marker edited":
        (stage / writer.MARKER).write_bytes(b"not the marker")
    elif change == "stage a file":
        shutil.rmtree(stage)
        stage.write_bytes(b"a file")
    else:
        shutil.rmtree(stage)
        stage.symlink_to(outside)
    version(records, 3)
    assert build(out, "--records", str(records), *LIMIT) == 0
    assert every_file(out) == fresh(tmp_path, records)
    assert every_file(outside) == {"keep.txt": b"mine"}
    assert build(out, "--records", str(records), *LIMIT) == 0  # and the stage after that, R2's tree, too
    assert every_file(out) == fresh(tmp_path, records)


def test_a_tree_file_replaced_by_a_person_is_taken_as_the_tree_has_it(tmp_path, site):
    """A file the R2 build kept is one inode in tree and stage; replaced in the tree by a
    new file holding what R3 will make of it, it is kept by the R3 build (same bytes):
    the stage's copy, the old inode, must not be what is published."""
    records, out = site
    version(records, 3)
    expected = fresh(tmp_path, records)
    path = "feeds/vision.atom"
    assert os.path.samestat(os.stat(out / path), os.stat(stage_of(out) / path))
    assert expected[path] != tree(out)[path]
    tamper_replace(out / path, expected[path])
    assert build(out, "--records", str(records), *LIMIT) == 0
    assert every_file(out) == expected


def test_without_hard_links_files_are_copied(tmp_path, monkeypatch):
    records = tmp_path / "records"
    out = tmp_path / "site" / "out"

    def no_link(*args, **kwargs):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_link)
    for number in (1, 2, 3, 2, 3):
        version(records, number)
        assert build(out, "--records", str(records), *LIMIT) == 0
        assert every_file(out) == fresh(tmp_path, records)
        assert all(os.stat(out / path).st_nlink == 1 for path in tree(out))


class Killed(BaseException):
    """A kill: no except clause catches it, and no clean-up runs (see stopping_at)."""


STEPS = [(os, "link"), (os, "unlink"), (os, "rmdir"), (os, "rename"), (os, "replace"), (os, "makedirs"),
         (os, "mkdir"), (shutil, "rmtree"), (shutil, "copyfileobj"), (writer, "_exchange")]


def stopping_at(patch, limit, fallback):
    """Make the limit-th file-system step of a build a kill: os calls, writes (open for
    "x"), the swap; clean-up (_remove) does nothing, as none runs after a SIGKILL."""
    count = [0]

    def step(function):
        def wrapper(*args, **kwargs):
            count[0] += 1
            if count[0] == limit:
                raise Killed
            return function(*args, **kwargs)
        return wrapper

    for module, name in STEPS:
        patch.setattr(module, name, step(getattr(module, name)))
    if fallback:
        patch.setattr(writer, "_exchange", step(lambda a, b: False))
    real_open = builtins.open
    opening = step(real_open)
    patch.setattr(writer, "open", lambda path, mode="r", *args, **kwargs: (
        opening if "x" in mode else real_open)(path, mode, *args, **kwargs), raising=False)
    patch.setattr(writer, "_remove", lambda folder: None)
    swapped = [False]
    swap = writer._swap

    def swapping(stage, out):
        swapped[0] = True
        swap(stage, out)

    patch.setattr(writer, "_swap", swapping)
    return count, swapped


@pytest.mark.parametrize("fallback", [False, True], ids=["exchange", "two renames"])
def test_a_build_killed_at_any_step_of_a_stage_update_leaves_the_old_tree_and_the_next_one_is_fresh(
        tmp_path, site, fallback):
    records, out = site
    work = out.parent
    version(records, 3)
    new = fresh(tmp_path, records)
    old = every_file(out)
    base = tmp_path / "base"
    shutil.copytree(tmp_path / "frfeeds-cache", base / "frfeeds-cache")
    subprocess.run(["cp", "-a", str(work), str(base / "site")], check=True)  # hard links kept
    seen = set()
    for limit in range(1, 1000):
        with pytest.MonkeyPatch.context() as patch:
            count, swapped = stopping_at(patch, limit, fallback)
            try:
                finished = build(out, "--records", str(records), *LIMIT) == 0
            except Killed:
                finished = False
        if finished:
            assert every_file(out) == new
            break
        assert count[0] >= limit
        moved = out.with_name(f".{out.name}.frfeeds-old")
        now = every_file(out) if out.exists() else every_file(moved)
        assert now in (old, new), f"killed at step {limit}: a mixed tree"
        assert now == old or swapped[0], f"killed at step {limit}: a new tree before the swap"
        seen.add("old" if now == old else "new")
        assert build(out, "--records", str(records), *LIMIT) == 0
        assert every_file(out) == new, f"killed at step {limit}: the next build is not a fresh build's"
        assert not moved.exists()
        shutil.rmtree(work)
        shutil.rmtree(tmp_path / "frfeeds-cache")
        shutil.copytree(base / "frfeeds-cache", tmp_path / "frfeeds-cache")
        subprocess.run(["cp", "-a", str(base / "site"), str(work)], check=True)
    assert finished and limit > 10
    assert seen == {"old", "new"}  # killed after the swap (in it, without renameat2): the new tree
