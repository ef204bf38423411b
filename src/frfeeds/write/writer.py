"""Write a feed tree to disk so that readers only ever see a whole tree.

The next tree is made in a staging folder beside the tree, ``.<out>.frfeeds-new``, and
swapped in with one atomic rename-exchange. A build killed at any point leaves the
previous tree in place; the next build starts from whatever it left.

The stage is kept between builds: after a swap it holds the previous tree, whose files
are, for every file that build kept, hard links to the same inodes as the current tree's.
So the next build brings it up to date instead of making it anew: it writes the files
whose bytes changed (always as new files, never into an existing one: a staged file may
be a link to a live one), links from the tree the kept files whose inode in the stage is
not the tree's (the ones the last build wrote, and any a person replaced), and deletes
what the new tree must not hold. Nothing in the stage is trusted: both folders are
listed (names and inode numbers, no per-file stat) and every file is compared by inode,
so a half-updated stage, or one a person changed, is repaired, not published. A rebuild
that changes a few files links, writes and deletes a few files, where a stage made anew
would link every file and the old tree be deleted file by file. The cost is disk: the
kept stage holds, besides its hard links, the previous versions of the files the last
build replaced (and the files it removed), until the next build.

The tree holds nothing but what a static host should publish. Its one hidden file, the
marker ``.frfeeds-tree``, is a fixed line of text that says frfeeds owns the folder (a
non-empty folder without it is refused, before anything is created). What a build knows
about the tree it wrote (feed input digests, file sizes and mtimes, the report) is its
*state*, kept outside the tree, beside the parse cache, in a file named after the tree's
real path; without one (``--no-cache``) every feed is rendered and only files whose bytes
changed are written.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import marshal
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from frfeeds.errors import FrfeedsError, UsageError
from frfeeds.report import Facts, WriteResult

TYPE_CHECKING = False  # as typing's, which a no-change build does not import (mypy takes it as True)
if TYPE_CHECKING:  # ctypes and shutil are imported when a tree is swapped or cleared: a no-change build does not
    import ctypes

MARKER = ".frfeeds-tree"
#: The marker's bytes, the same in every tree: no record data, no build data.
MARKER_TEXT = b"This folder is written by frfeeds build; its contents are replaced on every build.\n"
_STATE_FORMAT = 2
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
#: How often a build waiting for another one's lock tries again, in seconds.
_LOCK_POLL = 0.1
_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


class TreeError(FrfeedsError):
    """The tree could not be built (its lock stayed taken, the disk failed); the message
    is the whole line to show, and the previous tree stands."""


@dataclass(frozen=True)
class Manifest:
    """What the build that wrote a tree knew about it (its state)."""

    #: Digest of the inputs (settings, version, record files' sizes and mtimes); "" to never match.
    key: str = ""
    #: Feed path -> digest of what its files were made from.
    digests: dict[str, str] = field(default_factory=dict)
    #: Pages digest (index.html, feeds.opml).
    pages: str = ""
    #: The build's report, to repeat when nothing changed.
    report: Facts = ()
    #: Tree path -> (size, mtime_ns), as written.
    files: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Listing:
    """A folder's files and subfolders as listed (readdir only: no file is stat'ed)."""

    #: File's ``/``-separated path -> its inode number, as the folder lists it; -1 for
    #: an entry on another file system, whose numbers cannot be compared with this one's.
    files: dict[str, int] = field(default_factory=dict)
    #: Every subfolder's path.
    folders: set[str] = field(default_factory=set)
    #: The subfolders that held nothing.
    empty: set[str] = field(default_factory=set)
    #: Entries that are neither files nor folders (symbolic links, sockets...).
    other: set[str] = field(default_factory=set)
    #: The file system (st_dev) of the folder itself; inode numbers are its own.
    device: int = -1


def state_file(folder: Path, out: Path) -> Path:
    """Where the state of the tree at out lives in a cache folder: one file per tree,
    named after the tree's real path."""
    key = hashlib.sha256(os.fsencode(os.path.realpath(out))).hexdigest()[:16]
    return Path(folder, f"tree-{key}.state")


class TreeWriter:
    """``with TreeWriter(out, state) as tree: tree.keep(...); tree.put(...); tree.commit(manifest)``.

    ``state`` is the state file (None: no state, every file compared by its bytes);
    ``wait`` bounds, in seconds, the wait for another build of the same tree (None: no
    bound), and ``on_wait`` is called once if there is a wait at all.
    """

    def __init__(self, out: Path, state: Path | None = None, wait: float | None = None,
                 on_wait: Callable[[], None] | None = None) -> None:
        out = Path(os.path.abspath(out))
        self.out = out.resolve() if out.is_symlink() else out
        self.state = state
        self.manifest: Manifest | None = None
        #: Whether the last commit (if any) could save its state; an OSError if not.
        self.state_error: OSError | None = None
        self._wait, self._on_wait = wait, on_wait
        self._stage = _sibling(self.out, "new")
        self._staged: set[str] = set()
        #: The stage as found, once stage() made it ready (None before).
        self._found: Listing | None = None
        #: Kept path -> its (size, mtime_ns), which a hard link keeps.
        self._kept: dict[str, tuple[int, int]] = {}
        self._lock: int | None = None

    def __enter__(self) -> TreeWriter:
        check_owned(self.out)  # before anything is created: a refused build leaves nothing
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self._lock = _acquire(_sibling(self.out, "lock"), self._wait, self._on_wait)
        if self._lock is None:
            raise TreeError(f"cannot build {self.out}: another build of it still runs after {self._wait:g} s "
                           f"(its lock is {_sibling(self.out, 'lock')}); nothing was written")
        try:
            _recover(self.out)
            check_owned(self.out)  # again: another build or a person may have been at it meanwhile
        except BaseException:
            self._release()
            raise
        self.manifest = read_state(self.state, self.out) if self.state is not None else None
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc_info: object) -> None:
        if kind is not None:  # a failed build's stage goes (a full disk gets its space back)
            _remove(self._stage)
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            with contextlib.suppress(OSError):  # unlinked while held: see _acquire
                os.unlink(_sibling(self.out, "lock"))
            os.close(self._lock)
            self._lock = None

    def is_current(self, key: str) -> bool:
        """Whether the tree was built from inputs with this key and is untouched since:
        the same files, each of the size and mtime it was written with."""
        if not key or self.manifest is None or self.manifest.key != key or not _marker_ok(self.out):
            return False
        try:
            return _tree_stats(self.out) == self.manifest.files
        except OSError:  # a file or folder gone while listed
            return False

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
        if self.manifest is None:
            raise ValueError(f"{path}: no earlier build to keep it from")
        size, mtime_ns = self.manifest.files[path]  # a pair, as unchanged() found
        self._kept[path] = (size, mtime_ns)

    def put(self, path: str, data: bytes) -> None:
        """The file's new bytes: staged if they differ from the current file, else kept."""
        self.record(path, stage_file(self.out, self.stage(), path, data))

    def stage(self) -> Path:
        """The folder new files are staged in: put() writes there, and so may other
        processes (stage_file), whose results record() takes. On first use the stage is
        made, or the one kept from the last build listed (what commit() compares) and
        cleared of anything but files and folders (a link could lead writes out of it)."""
        if self._found is None:
            self._found = _prepare_stage(self._stage)
        return self._stage

    def record(self, path: str, kept: tuple[int, int] | None) -> None:
        """What stage_file did with a path: kept the current file (its size and mtime), or staged new bytes."""
        if kept is not None:
            self._kept[path] = kept
        else:
            self._staged.add(path)

    def commit(self, manifest: Manifest) -> WriteResult:
        """Make the tree exactly the kept and put files (and the marker); save the state."""
        current = _list(self.out) if self.out.is_dir() else Listing()
        removed = (current.files.keys() | current.other) - self._kept.keys() - self._staged - {MARKER}
        files = dict(self._kept)
        if not self._staged and not removed and self.out.is_dir() and _marker_ok(self.out):
            self._save(replace(manifest, files=files))
            return WriteResult(0, len(files), 0)
        out, stage = str(self.out), str(self.stage())
        found = self._found or Listing()
        # first what the new tree must not hold: files only (where the stage had a file, a
        # staged file's folder may be now), so that no folder of this build's files goes
        gone = found.files.keys() - self._kept.keys() - self._staged - {MARKER}
        for path in gone:
            _unlink_file(os.path.join(stage, path))
        linked = _linked(current, found, self._kept, out, stage)
        made = found.folders | {""}
        for path in self._kept.keys() - linked:
            target = os.path.join(stage, path)
            if path in found.files or path in found.folders:
                _clear(target)
            folder = path.rpartition("/")[0]
            if folder not in made:
                _make_folder(stage, folder)
                made.add(folder)
            source = os.path.join(out, path)
            try:
                os.link(source, target)
            except OSError:  # a file system without hard links (a full disk fails the copy too)
                _copy(source, target)
                files[path] = _stat(target)
        _remove_empty(stage, {path.rpartition("/")[0] for path in gone | found.other} | found.empty)
        files.update((path, _stat(os.path.join(stage, path))) for path in self._staged)
        marker = os.path.join(stage, MARKER)
        _clear(marker)  # the stage's marker may be the live tree's (a link): a new file
        with open(marker, "xb") as handle:
            handle.write(MARKER_TEXT)
        _swap(self._stage, self.out)
        self._save(replace(manifest, files=files))
        return WriteResult(len(self._staged), len(self._kept), len(removed), tuple(sorted(self._staged)))

    def _save(self, manifest: Manifest) -> None:
        """Save the state, atomically; a failure (the cache's disk full) costs the next
        build its shortcuts only, so it is remembered in state_error, not raised."""
        if self.state is None or manifest == self.manifest:
            return
        data = marshal.dumps((_STATE_FORMAT, os.path.realpath(self.out), manifest.key, manifest.digests,
                              manifest.pages, manifest.report, manifest.files), 4)
        temporary = self.state.with_name(self.state.name + ".new")  # builds of this tree take turns
        try:
            temporary.write_bytes(data)
            os.replace(temporary, self.state)
        except OSError as exc:
            self.state_error = exc
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            with contextlib.suppress(OSError):
                os.unlink(self.state)  # a stale state is safe (files are checked), but useless


def read_state(path: Path, out: Path) -> Manifest | None:
    """The state saved for the tree at out; None when absent, old, damaged or another
    tree's (never trusted: every file it names is checked against the disk before use)."""
    try:
        data = path.read_bytes()
        version, real, key, digests, pages, report, files = marshal.loads(data)
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if version != _STATE_FORMAT or real != os.path.realpath(out):
        return None
    if not isinstance(key, str) or not isinstance(digests, dict) or not isinstance(files, dict):
        return None
    return Manifest(key, digests, pages, report, files)


def check_owned(out: Path) -> None:
    """Refuse an output that exists and is not a tree frfeeds wrote (nor an empty folder)."""
    out = Path(os.path.abspath(out))
    if not out.exists():
        return
    if not out.is_dir():
        raise UsageError(f"output {out} exists and is not a folder")
    if (out / MARKER).is_file() or not any(out.iterdir()):
        return
    raise UsageError(f"output {out} is not empty and was not written by frfeeds; choose an empty or new folder")


def _check_tree_path(path: str) -> None:
    parts = PurePosixPath(path).parts
    if not parts or path.startswith("/") or any(part in ("", ".", "..") for part in parts) or "\\" in path:
        raise ValueError(f"not a path inside the feed tree: {path!r}")
    if path == MARKER:
        raise ValueError(f"{MARKER} is reserved")


def _sibling(out: Path, role: str) -> Path:
    return out.with_name(f".{out.name}.frfeeds-{role}")


def _acquire(path: Path, wait: float | None, on_wait: Callable[[], None] | None) -> int | None:
    """Take the tree's lock file; wait for another build holding it, up to wait seconds
    (then None).

    A POSIX record lock (``lockf``), not ``flock``: forked worker processes do not
    inherit it, so a killed build's orphans can never hold up the next build, and the
    kernel drops it when its process dies. The holder unlinks the file when done; a
    waiter that then gets a lock on the unlinked file sees that it is no longer the
    file at path and tries again. (A record lock belongs to a process: builds take turns
    between processes, and a process runs one build at a time.)
    """
    started = None
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EACCES, errno.EAGAIN):
                raise
            first = started is None
            if started is None:
                started = time.monotonic()
            if wait is not None and time.monotonic() - started >= wait:
                return None
            if first and on_wait is not None:
                on_wait()
            time.sleep(_LOCK_POLL)
            continue
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)


def _recover(out: Path) -> None:
    """Bring back a tree moved aside but not replaced (a kill between the two renames of
    a swap without renameat2), else clear it. The stage is left as it is: it is never
    trusted, only compared (TreeWriter.commit)."""
    old = _sibling(out, "old")
    if old.is_dir() and not out.exists():
        os.rename(old, out)
    _remove(old)


def _remove(folder: Path) -> None:
    """Delete a folder and what it holds, if it is there; what cannot be deleted stays."""
    if os.path.lexists(folder):
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


def _clear(path: str) -> None:
    """Delete what is at path (a file, a link, a folder and what it holds), if anything:
    the way to replace a file of the stage without writing into its inode."""
    try:
        os.unlink(path)
    except (FileNotFoundError, NotADirectoryError):  # nothing there (a folder on the way gone)
        pass
    except (IsADirectoryError, PermissionError):  # a folder (Linux says EISDIR; POSIX allows EPERM)
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            raise
        import shutil

        shutil.rmtree(path)


def _unlink_file(path: str) -> None:
    """Delete the file at path, if a file is there still (not a folder made since)."""
    try:
        os.unlink(path)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        pass
    except PermissionError:  # a folder, where POSIX allows EPERM
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            raise


def _make_folder(stage: str, folder: str) -> None:
    """Make a folder of the stage, deleting any file or link in its way (the stage may
    hold a file where the new tree has a folder)."""
    try:
        os.makedirs(os.path.join(stage, folder), exist_ok=True)
        return
    except (FileExistsError, NotADirectoryError):
        pass
    path = stage
    for part in folder.split("/"):
        path = os.path.join(path, part)
        with contextlib.suppress(FileNotFoundError):  # another worker may have deleted it
            if not stat.S_ISDIR(os.lstat(path).st_mode):
                os.unlink(path)
    os.makedirs(os.path.join(stage, folder), exist_ok=True)


def _remove_empty(stage: str, folders: set[str]) -> None:
    """Delete those of the stage's folders (and their parents) that hold nothing now,
    deepest first: a feed gone leaves no empty folder in the next tree."""
    pending = set()
    for folder in folders:
        while folder:
            pending.add(folder)
            folder = folder.rpartition("/")[0]
    for folder in sorted(pending, key=lambda path: path.count("/"), reverse=True):
        try:
            os.rmdir(os.path.join(stage, folder))
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT, errno.ENOTDIR):
                raise


def _copy(source: str, target: str) -> None:
    """Copy a file with its mtime, as a new file (never into an existing one)."""
    import shutil

    with open(source, "rb") as reader, open(target, "xb") as writer:
        shutil.copyfileobj(reader, writer)
    shutil.copystat(source, target)


def _prepare_stage(stage: Path) -> Listing:
    """Make the stage ready for files: made if missing, else listed and cleared of what
    is neither a file nor a folder (nothing written there may end up outside it)."""
    try:
        mode = os.lstat(stage).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISDIR(mode):
        os.unlink(stage)
        mode = None
    if mode is None:
        stage.mkdir()  # mode from the umask, like any folder the user makes
        return Listing()
    found = _list(stage)
    for path in found.other:
        _clear(os.path.join(stage, path))
    return found


def _linked(tree: Listing, stage: Listing, kept: dict[str, tuple[int, int]], out: str, staged: str) -> set[str]:
    """The kept files the stage holds already: the same inode as the tree's.

    Inode numbers as folders list them are compared only when they can be trusted to
    tell files apart: distinct within each listing (some FUSE file systems list one
    number for every file), of one file system, and, for one file found linked, those
    stat gives.
    """
    if tree.device != stage.device:
        return set()
    linked = {path for path in kept if stage.files.get(path, -1) >= 0 and stage.files[path] == tree.files.get(path)}
    if not linked:
        return linked
    for listing in (tree, stage):
        numbers = [number for number in listing.files.values() if number >= 0]
        if len(set(numbers)) != len(numbers):
            return set()
    sample = min(linked)
    try:
        if not os.path.samestat(os.stat(os.path.join(out, sample)), os.stat(os.path.join(staged, sample))):
            return set()
    except OSError:
        return set()
    return linked


def _marker_ok(out: Path) -> bool:
    try:
        with open(out / MARKER, "rb") as handle:
            return handle.read(len(MARKER_TEXT) + 1) == MARKER_TEXT
    except OSError:
        return False


def _list(root: Path) -> Listing:
    """List a folder: its files' inode numbers, its folders, the empty ones, anything
    else; the marker is a file like any other here."""
    files: dict[str, int] = {}
    folders: set[str] = set()
    empty: set[str] = set()
    other: set[str] = set()
    pending = [(str(root), "")]
    device = None
    while pending:
        folder, prefix = pending.pop()
        fd = os.open(folder, _FOLDER | os.O_NOFOLLOW)
        try:
            here = os.fstat(fd).st_dev
            device = here if device is None else device
            nothing = True
            with os.scandir(fd) as entries:
                for entry in entries:
                    nothing = False
                    path = prefix + entry.name
                    if entry.is_dir(follow_symlinks=False):
                        folders.add(path)
                        pending.append((os.path.join(folder, entry.name), path + "/"))
                    elif entry.is_file(follow_symlinks=False):
                        files[path] = entry.inode() if here == device else -1
                    else:
                        other.add(path)
            if nothing and prefix:
                empty.add(prefix[:-1])
        finally:
            os.close(fd)
    return Listing(files, folders, empty, other, -1 if device is None else device)


def _tree_stats(out: Path) -> dict[str, tuple[int, int]]:
    """Every file in the tree but the marker: its ``/``-separated path -> (size, mtime_ns)."""
    return _walk(out, stat=True)


def _walk(out: Path, stat: bool) -> dict[str, tuple[int, int]]:
    found = {}
    pending = [(str(out), "")]
    while pending:
        folder, prefix = pending.pop()
        fd = os.open(folder, _FOLDER)  # each file looked up by name in the open folder (read.scan)
        try:
            with os.scandir(fd) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        pending.append((os.path.join(folder, entry.name), f"{prefix}{entry.name}/"))
                    elif stat:
                        info = entry.stat()
                        found[prefix + entry.name] = (info.st_size, info.st_mtime_ns)
                    else:
                        found[prefix + entry.name] = (-1, -1)
        finally:
            os.close(fd)
    found.pop(MARKER, None)
    return found


def _stat(path: str | Path) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_size, info.st_mtime_ns


def stage_file(out: Path, stage: Path, path: str, data: bytes) -> tuple[int, int] | None:
    """Stage a file of the tree: None once data is written under stage, or the current
    file's (size, mtime_ns) when it holds exactly data already (nothing written).
    What the stage held at path is deleted first, never written into (it may be a hard
    link to the live tree's file). Pure over its arguments and the disk: a worker process
    can stage files too."""
    _check_tree_path(path)
    same = _same_bytes(os.path.join(out, path), data)
    if same is not None:
        return same
    target = os.path.join(stage, path)
    folder = path.rpartition("/")[0]
    if folder:
        _make_folder(str(stage), folder)
    _clear(target)
    with open(target, "xb") as handle:
        handle.write(data)
    return None


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
    try:
        os.rename(stage, out)
    except OSError:
        os.rename(old, out)
        raise
    os.rename(old, stage)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths with renameat2(RENAME_EXCHANGE); False where the system
    or the file system lacks it, an OSError for any other failure."""
    import ctypes

    renameat2 = getattr(_libc(), "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _libc() -> ctypes.CDLL | None:
    """The C library, as the process has it loaded (no ldconfig run to find it)."""
    import ctypes

    with contextlib.suppress(OSError):
        return ctypes.CDLL(None, use_errno=True)
    return None
