"""Write a feed tree to disk so that readers only ever see a whole tree.

Changed files are written into a staging folder beside the tree as they are rendered;
at commit the unchanged ones are hard-linked in (never rewritten) and the staged tree
is swapped in with one atomic rename-exchange. A build killed at any point leaves the
previous tree in place; the next build clears what it left.

The output folder belongs to frfeeds: its marker file (``.frfeeds-tree``) holds the
manifest of the build that wrote it (file sizes and mtimes, feed input digests, the
report), and a non-empty folder without one is refused.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import fcntl
import marshal
import os
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from frfeeds.errors import UsageError

MARKER = ".frfeeds-tree"
_MARKER_HEAD = b"This folder is written by frfeeds build; its contents are replaced on every build.\n"
_MANIFEST_FORMAT = 1
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


@dataclass(frozen=True)
class Manifest:
    """What the build that wrote a tree knew about it."""

    #: Digest of the inputs (settings, version, record files' sizes and mtimes); "" to never match.
    key: str = ""
    #: Feed path -> digest of what its files were made from.
    digests: dict[str, str] = field(default_factory=dict)
    #: Pages digest (index.html, feeds.opml).
    pages: str = ""
    #: The build's report, to repeat when nothing changed.
    report: tuple = ()
    #: Tree path -> (size, mtime_ns), as written.
    files: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WriteResult:
    written: int
    unchanged: int
    removed: int


class TreeWriter:
    """``with TreeWriter(out) as tree: tree.keep(...); tree.put(...); tree.commit(manifest)``."""

    def __init__(self, out: Path) -> None:
        out = Path(os.path.abspath(out))
        self.out = out.resolve() if out.is_symlink() else out
        self.manifest: Manifest | None = None
        self._stage = _sibling(self.out, "new")
        self._staged: set[str] = set()
        #: Kept path -> its (size, mtime_ns), which a hard link keeps.
        self._kept: dict[str, tuple[int, int]] = {}
        self._lock = None

    def __enter__(self) -> TreeWriter:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self._lock = open(_sibling(self.out, "lock"), "a+b")  # one build at a time per tree
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        _recover(self.out)
        _check_owned(self.out)
        self.manifest = read_manifest(self.out)
        return self

    def __exit__(self, *exc_info) -> None:
        shutil.rmtree(self._stage, ignore_errors=True)
        if self._lock is not None:
            self._lock.close()

    def is_current(self, key: str) -> bool:
        """Whether the tree was built from inputs with this key and is untouched since."""
        if not key or self.manifest is None or self.manifest.key != key:
            return False
        return _current_files(self.out) == set(self.manifest.files) and all(
            self.unchanged(path) for path in self.manifest.files
        )

    def unchanged(self, path: str) -> bool:
        """Whether the file is as the last build wrote it (size and mtime)."""
        if self.manifest is None or path not in self.manifest.files:
            return False
        try:
            return _stat(os.path.join(self.out, path)) == tuple(self.manifest.files[path])
        except OSError:
            return False

    def keep(self, path: str) -> None:
        """Carry the current file over unchanged; it must be unchanged()."""
        self._kept[path] = tuple(self.manifest.files[path])

    def put(self, path: str, data: bytes) -> None:
        """The file's new bytes: staged if they differ from the current file, else kept."""
        _check_tree_path(path)
        same = _same_bytes(os.path.join(self.out, path), data)
        if same is not None:
            self._kept[path] = same
            return
        target = self._stage / path
        if not self._staged:
            shutil.rmtree(self._stage, ignore_errors=True)
            self._stage.mkdir()  # mode from the umask, like any folder the user makes
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "xb") as handle:
            handle.write(data)
        self._staged.add(path)

    def commit(self, manifest: Manifest) -> WriteResult:
        """Make the tree exactly the kept and put files; record the manifest."""
        removed = _current_files(self.out) - self._kept.keys() - self._staged
        files = dict(self._kept)
        if not self._staged and not removed and self.out.is_dir():
            self._write_marker(self.out, replace(manifest, files=files), in_place=True)
            return WriteResult(0, len(files), 0)
        if not self._staged:
            self._stage.mkdir()
        out, stage = str(self.out), str(self._stage)
        made = {""}
        for path in self._kept:
            folder = path.rpartition("/")[0]
            if folder not in made:
                os.makedirs(os.path.join(stage, folder), exist_ok=True)
                made.add(folder)
            source, target = os.path.join(out, path), os.path.join(stage, path)
            try:
                os.link(source, target)
            except OSError:  # a file system without hard links
                shutil.copy2(source, target)
                files[path] = _stat(target)
        files.update((path, _stat(os.path.join(stage, path))) for path in self._staged)
        self._write_marker(self._stage, replace(manifest, files=files), in_place=False)
        _swap(self._stage, self.out)
        return WriteResult(len(self._staged), len(self._kept), len(removed))

    def _write_marker(self, folder: Path, manifest: Manifest, in_place: bool) -> None:
        data = _MARKER_HEAD + marshal.dumps(
            (_MANIFEST_FORMAT, manifest.key, manifest.digests, manifest.pages, manifest.report, manifest.files), 4
        )
        if in_place:
            if self.manifest is not None and (folder / MARKER).read_bytes() == data:
                return
            temporary = folder / f"{MARKER}.new"
            temporary.write_bytes(data)
            os.replace(temporary, folder / MARKER)
        else:
            (folder / MARKER).write_bytes(data)


def read_manifest(out: Path) -> Manifest | None:
    """The manifest in a tree's marker; None when absent, old or damaged (never trusted)."""
    try:
        data = (out / MARKER).read_bytes()
        if not data.startswith(_MARKER_HEAD):
            return None
        version, key, digests, pages, report, files = marshal.loads(data[len(_MARKER_HEAD):])
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if version != _MANIFEST_FORMAT or not isinstance(digests, dict) or not isinstance(files, dict):
        return None
    return Manifest(key, digests, pages, report, files)


def _check_tree_path(path: str) -> None:
    parts = PurePosixPath(path).parts
    if not parts or path.startswith("/") or any(part in ("", ".", "..") for part in parts) or "\\" in path:
        raise ValueError(f"not a path inside the feed tree: {path!r}")
    if path == MARKER:
        raise ValueError(f"{MARKER} is reserved")


def _sibling(out: Path, role: str) -> Path:
    return out.with_name(f".{out.name}.frfeeds-{role}")


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


def _current_files(out: Path) -> set[str]:
    """Every file in the tree but the marker, as ``/``-separated paths."""
    if not out.is_dir():
        return set()
    found = set()
    pending = [(str(out), "")]
    while pending:
        folder, prefix = pending.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    pending.append((entry.path, f"{prefix}{entry.name}/"))
                else:
                    found.add(prefix + entry.name)
    found.discard(MARKER)
    return found


def _stat(path: str | Path) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_size, info.st_mtime_ns


def _same_bytes(path: str, data: bytes) -> tuple[int, int] | None:
    """The file's (size, mtime_ns) if it holds exactly data, else None."""
    try:
        info = os.stat(path)
        if info.st_size != len(data):
            return None
        with open(path, "rb") as handle:
            return (info.st_size, info.st_mtime_ns) if handle.read() == data else None
    except OSError:
        return None


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
    return renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0


def _libc():
    name = ctypes.util.find_library("c")
    with contextlib.suppress(OSError):
        return ctypes.CDLL(name, use_errno=True) if name else None
    return None
