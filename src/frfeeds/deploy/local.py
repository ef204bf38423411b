"""The files of a built tree as a deploy sees them: path, size and MD5 (what S3's ETag is
for an object put in one part)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from frfeeds.errors import UsageError

# the marker every tree frfeeds builds holds: deploy refuses a folder without it, so
# that a typo never publishes a home folder
from frfeeds.write.writer import MARKER


@dataclass(frozen=True)
class LocalFile:
    path: str
    size: int
    md5: str


def scan_tree(folder: Path) -> dict[str, LocalFile]:
    """Every file of the tree by ``/``-separated relative path, hidden ones (the marker)
    left out: they are frfeeds' own, not the site's. UsageError for a folder that is
    not a built tree; OSError from reading."""
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder: give the folder frfeeds build wrote")
    if not (folder / MARKER).is_file():
        raise UsageError(f"{folder} is not a feed tree (it has no {MARKER}): give the folder frfeeds build wrote")
    found: dict[str, LocalFile] = {}
    for parent, folders, files in os.walk(folder):
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            full = os.path.join(parent, name)
            path = os.path.relpath(full, folder).replace(os.sep, "/")
            with open(full, "rb") as file:
                data = file.read()
            found[path] = LocalFile(path, len(data), hashlib.md5(data, usedforsecurity=False).hexdigest())
    return found
