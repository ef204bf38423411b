"""What a build depends on besides its records: the output settings and the code."""

from __future__ import annotations

import functools
import hashlib
import os
import sys
from pathlib import Path

from frfeeds.config.table import TABLE, get
from frfeeds.settings import Settings


def build_digest(settings: Settings) -> str:
    """Digest of everything a build's output depends on besides its records: every
    setting the table marks as output, and the package's code. A changed renderer, a
    new setting or a new template re-renders what it touches, with no list to keep."""
    output = tuple((row.key, get(settings, row.key)) for row in TABLE if row.output)
    return hashlib.blake2b(repr((code_fingerprint(), output)).encode(), digest_size=16).hexdigest()


@functools.cache
def code_fingerprint() -> str:
    """A digest of the bytes of every .py, .html and .j2 file of the running package
    (and of Python's version): about 2 ms, once per process."""
    package = Path(__file__).parents[1]  # the frfeeds package, not this folder
    digest = hashlib.blake2b(sys.version.encode(), digest_size=16)
    found = []
    for folder, folders, files in os.walk(package):
        folders[:] = [name for name in folders if name != "__pycache__"]
        found += [os.path.join(folder, name) for name in files if name.endswith((".py", ".html", ".j2"))]
    for path in sorted(found):
        with open(path, "rb") as file:
            data = file.read()
        digest.update(f"{os.path.relpath(path, package)}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()
