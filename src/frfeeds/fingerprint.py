"""A digest of the running package's code: what every digest of an output starts from,
so that a changed renderer or template re-renders what it touches, with no list to keep."""

from __future__ import annotations

import functools
import hashlib
import os
import sys
import time

from frfeeds.read.scan import RACY_NS

#: The package's files that make its output: code and templates.
_SOURCES = (".py", ".html", ".j2")


@functools.cache
def code_fingerprint() -> str:
    """A digest of the bytes of every .py, .html and .j2 file of the running package
    (and of Python's version): about 2 ms, once per process."""
    package = os.path.dirname(__file__)
    digest = hashlib.blake2b(sys.version.encode(), digest_size=16)
    for path, _ in _sources(package):
        with open(os.path.join(package, path), "rb") as file:
            data = file.read()
        digest.update(f"{path}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def code_stamp() -> str:
    """What changes whenever the code_fingerprint may: Python's version and the names,
    sizes and mtimes of the same files, read in a tenth of the time, without opening
    one. "" when a file is too fresh for its mtime to prove its bytes (see RACY_NS)."""
    package = os.path.dirname(__file__)
    found = _sources(package)
    now = time.time_ns()
    if any(now - mtime_ns < RACY_NS for _, (_, mtime_ns) in found):
        return ""
    return hashlib.blake2b(repr((sys.version, found)).encode(), digest_size=16).hexdigest()


def _sources(package: str) -> list[tuple[str, tuple[int, int]]]:
    """The package's source files, sorted: (path inside the package, (size, mtime_ns))."""
    found = []
    pending = [(package, "")]
    while pending:
        folder, prefix = pending.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir():  # as os.walk: links to folders are not followed
                    if entry.name != "__pycache__" and not entry.is_symlink():
                        pending.append((entry.path, f"{prefix}{entry.name}{os.sep}"))
                elif entry.name.endswith(_SOURCES):
                    info = entry.stat()
                    found.append((prefix + entry.name, (info.st_size, info.st_mtime_ns)))
    found.sort()
    return found
