"""Find the record files of a folder, with their sizes and mtimes. Standard library only:
a rebuild with nothing to do needs no more than this."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from frfeeds.errors import UsageError

#: Files read as records; anything else in the folder (images, notes) is ignored.
RECORD_SUFFIXES = (".md", ".markdown", ".txt")


@dataclass(frozen=True, slots=True)
class RecordFile:
    #: Path inside the records folder, ``/``-separated: the record's identity.
    path: str
    #: The path as the user would open it (the records folder as given, joined).
    display: str
    size: int
    mtime_ns: int
    #: Why a folder could not be listed ("" for a record file): the loader reports it as
    #: a rejected record, and the build goes on without that folder's records.
    problem: str = ""


def check_records_folder(root: Path) -> None:
    if not root.is_dir():
        raise UsageError(f"records folder not found: {root}")


def scan_records(root: Path) -> list[RecordFile]:
    """Every record file under root, recursively, sorted by path; hidden names skipped.

    A subfolder that cannot be listed is an entry with its problem set; the records
    folder itself unreadable is an OSError (publishing it as empty would wipe the feeds).
    """
    check_records_folder(root)
    found: list[RecordFile] = []
    pending = [(str(root), "")]
    while pending:
        folder, prefix = pending.pop()
        try:
            entries = os.scandir(folder)
        except OSError as exc:
            if not prefix:
                raise
            found.append(RecordFile(prefix.rstrip("/"), folder, -1, -1, f"cannot be read: {exc.strerror or exc}"))
            continue
        with entries:
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
                        pending.append((entry.path, f"{prefix}{name}/"))
                elif name.lower().endswith(RECORD_SUFFIXES):
                    try:
                        info = entry.stat()
                        size, mtime_ns = info.st_size, info.st_mtime_ns
                    except OSError:
                        size = mtime_ns = -1  # a dangling link: parse_file reports it
                    found.append(RecordFile(prefix + name, entry.path, size, mtime_ns))
    found.sort(key=lambda item: item.path)
    return found


def signature(files: list[RecordFile]) -> str:
    """Digest of what changes when a record file is added, removed or edited: paths,
    sizes, mtimes. (A path holds no NUL, so the joined text spells out one list only.)"""
    text = "\n".join([f"{item.path}\0{item.size}\0{item.mtime_ns}" for item in files])
    return hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()
