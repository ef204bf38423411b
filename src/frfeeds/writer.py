"""Write a feed tree to disk so that readers only ever see a whole tree.

The new tree is staged in a sibling folder (unchanged files hard-linked from the
current tree, so they are never rewritten), then swapped in with one atomic
rename-exchange. A build killed at any point leaves the previous tree in place;
its leftovers are cleared by the next build. The output folder belongs to frfeeds:
a marker file says so, and a non-empty folder without it is refused.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import fcntl
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from frfeeds.errors import UsageError

MARKER = ".frfeeds-tree"
MARKER_TEXT = b"This folder is written by frfeeds build; its contents are replaced on every build.\n"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


@dataclass(frozen=True, slots=True)
class WriteResult:
    written: int
    unchanged: int
    removed: int


def write_tree(out: Path, files: Mapping[str, bytes]) -> WriteResult:
    """Make the folder ``out`` hold exactly ``files`` (tree path -> bytes)."""
    for path in files:
        _check_tree_path(path)
    out = Path(os.path.abspath(out))
    if out.is_symlink():
        out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with _lock(out):
        _recover(out)
        _check_owned(out)
        current = _current_files(out)
        changed = [path for path, data in files.items() if not _same_bytes(out / path, data)]
        removed = [path for path in current if path not in files]
        unchanged = len(files) - len(changed)
        if out.is_dir() and not changed and not removed:
            return WriteResult(0, unchanged, 0)
        stage = _sibling(out, "new")
        try:
            _stage(stage, out, files, set(changed))
            _swap(stage, out)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    return WriteResult(len(changed), unchanged, len(removed))


def _check_tree_path(path: str) -> None:
    parts = PurePosixPath(path).parts
    if not parts or path.startswith("/") or any(part in ("", ".", "..") for part in parts) or "\\" in path:
        raise ValueError(f"not a path inside the feed tree: {path!r}")


def _sibling(out: Path, role: str) -> Path:
    return out.with_name(f".{out.name}.frfeeds-{role}")


@contextlib.contextmanager
def _lock(out: Path):
    """One build at a time per output folder (cron runs can overlap)."""
    with open(_sibling(out, "lock"), "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _recover(out: Path) -> None:
    """Clear what a killed build left; bring back a tree moved aside but not replaced."""
    old = _sibling(out, "old")
    if old.is_dir() and not out.exists():
        os.rename(old, out)
    for leftover in (old, _sibling(out, "new")):
        shutil.rmtree(leftover, ignore_errors=True)


def _check_owned(out: Path) -> None:
    if not out.exists():
        return
    if not out.is_dir():
        raise UsageError(f"output {out} exists and is not a folder")
    if (out / MARKER).is_file() or not any(out.iterdir()):
        return
    raise UsageError(f"output {out} is not empty and was not written by frfeeds; choose an empty or new folder")


def _current_files(out: Path) -> list[str]:
    if not out.is_dir():
        return []
    found = []
    for folder, _, names in os.walk(out):
        for name in names:
            rel = Path(folder, name).relative_to(out).as_posix()
            if rel != MARKER:
                found.append(rel)
    return found


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except OSError:
        return False


def _stage(stage: Path, out: Path, files: Mapping[str, bytes], changed: set[str]) -> None:
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir()  # mode from the umask, like any folder the user makes
    made = {stage}
    for path, data in files.items():
        target = stage / path
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        if path not in changed:
            try:
                os.link(out / path, target)
                continue
            except OSError:
                pass  # a file system without hard links: write it
        with open(target, "xb") as handle:
            handle.write(data)
    (stage / MARKER).write_bytes(MARKER_TEXT)


def _swap(stage: Path, out: Path) -> None:
    """Put stage at out in one step; stage then holds the old tree (or nothing)."""
    if not out.exists():
        os.rename(stage, out)
        return
    if _exchange(stage, out):
        return
    old = _sibling(out, "old")
    os.rename(out, old)  # a kill between these two renames is undone by _recover
    os.rename(stage, out)
    os.rename(old, stage)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths with renameat2(RENAME_EXCHANGE), where the system has it."""
    renameat2 = getattr(_libc(), "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0


def _libc():
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name, use_errno=True) if name else None
    except OSError:
        return None
