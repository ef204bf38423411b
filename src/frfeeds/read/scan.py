"""Find the record files of a folder, with their sizes and mtimes. Standard library only:
a rebuild with nothing to do needs no more than this."""

from __future__ import annotations

import hashlib
import os
from array import array
from dataclasses import dataclass
from pathlib import Path

from frfeeds.errors import UsageError
from frfeeds.pickling import picklable

#: Files read as records; anything else in the folder (images, notes) is ignored.
RECORD_SUFFIXES = (".md", ".markdown", ".txt")
#: A file modified less than this long ago (ns) may change again within the same mtime
#: tick, so its size and mtime do not prove its bytes yet: neither the parse cache nor a
#: build's state trusts them.
RACY_NS = 2_000_000_000
_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


@picklable
@dataclass(frozen=True, slots=True)
class RecordFile:
    #: Path inside the records folder, ``/``-separated: the record's identity.
    path: str
    size: int
    mtime_ns: int
    #: Why a folder could not be listed ("" for a record file): the loader reports it as
    #: a rejected record, and the build goes on without that folder's records.
    problem: str = ""
    #: The records folder as given, with a separator at its end (one string shared by
    #: every file of a listing: a million paths held twice were 140 MB).
    root: str = ""

    @property
    def display(self) -> str:
        """The path as the user would open it (the records folder as given, joined)."""
        return self.root + self.path


#: A RecordFile's fields but its root, as a listing holds them: (path, size, mtime_ns, problem).
Row = tuple[str, int, int, str]


@dataclass(frozen=True, slots=True)
class Listing:
    """A records folder's files as found, sorted by path: rows, made RecordFiles only
    when asked (a build with nothing to do needs no more than the signature)."""

    rows: list[Row]
    #: The records folder as given, with a separator at its end.
    root: str

    def files(self) -> list[RecordFile]:
        root = self.root
        return [RecordFile(*row, root) for row in self.rows]

    def take_files(self) -> list[RecordFile]:
        """files(), emptying the listing: the rows are the files' own fields (a million of
        them are 80 MB), which a build needs no more once it has the files."""
        files = self.files()
        self.rows.clear()
        return files

    def signature(self) -> str:
        return _digest(self.root, self.rows)

    def newest_ns(self) -> int:
        """The latest mtime of a file (-1: no file)."""
        return max((row[2] for row in self.rows), default=-1)


def check_records_folder(root: Path) -> None:
    if not root.is_dir():
        raise UsageError(f"records folder not found: {root}")


def scan_records(root: Path) -> list[RecordFile]:
    """Every record file under root, recursively, sorted by path (see list_records)."""
    return list_records(root).files()


def list_records(root: Path) -> Listing:
    """Every record file under root, recursively, sorted by path; hidden names skipped.

    A subfolder that cannot be listed is an entry with its problem set; the records
    folder itself unreadable is an OSError (publishing it as empty would wipe the feeds).
    """
    check_records_folder(root)
    top = _with_separator(str(root))
    found: list[Row] = []
    pending = [(str(root), "")]
    while pending:
        folder, prefix = pending.pop()
        try:
            # listed through a descriptor, each file is looked up by name in the open
            # folder, not by its whole path again: a quarter fewer kernel steps per stat
            fd = os.open(folder, _FOLDER)
        except OSError as exc:
            if not prefix:
                raise
            found.append((prefix.rstrip("/"), -1, -1, f"cannot be read: {exc.strerror or exc}"))
            continue
        base = _with_separator(folder)
        try:
            with os.scandir(fd) as entries:
                for entry in entries:
                    name = entry.name
                    if name.startswith("."):
                        continue
                    try:
                        is_folder = entry.is_dir()
                    except OSError:  # a link to a place it cannot look into
                        is_folder = False
                    if is_folder:  # follows links to folders, as os.walk lists them
                        if not entry.is_symlink():
                            pending.append((base + name, f"{prefix}{name}/"))
                    elif name.lower().endswith(RECORD_SUFFIXES):
                        try:
                            info = entry.stat()
                        except OSError:  # a dangling link: parse_file reports it
                            found.append((prefix + name, -1, -1, ""))
                        else:
                            found.append((prefix + name, info.st_size, info.st_mtime_ns, ""))
        finally:
            os.close(fd)
    found.sort()  # by path: paths are unique
    return Listing(found, top)


def signature(files: list[RecordFile]) -> str:
    """Digest of what changes when a record file is added, removed or edited: the
    folder, paths, sizes, mtimes (the same as the listing's ``signature()``)."""
    root = files[0].root if files else ""
    return _digest(root, [(item.path, item.size, item.mtime_ns, item.problem) for item in files])


def _with_separator(folder: str) -> str:
    return folder if folder.endswith(os.sep) else folder + os.sep


def _digest(root: str, rows: list[Row]) -> str:
    if not rows:
        return hashlib.blake2b(b"", digest_size=16).hexdigest()
    paths, sizes, mtimes, problems = zip(*rows, strict=True)
    digest = hashlib.blake2b(digest_size=16)
    digest.update(root.encode("utf-8", "surrogateescape") + b"\0")
    # a path holds no NUL, so the joined text spells out one list only; a problem is one line
    digest.update("\0".join(paths).encode("utf-8", "surrogateescape"))
    digest.update("\n".join(problems).encode("utf-8", "surrogateescape"))
    digest.update(array("q", sizes).tobytes())
    digest.update(array("q", mtimes).tobytes())
    return digest.hexdigest()
