"""The published records a served tree renders from, in one read-only shared mapping.

Each load writes every published record (its encoded summary and its details, zlib
compressed) into an anonymous memory file (``memfd``) and maps it read-only. Workers
forked from the --preload master map the same pages: nothing is copied at the fork, a
page counts in a worker's RSS only once the worker reads it, and reading it writes
nothing (no reference count), so it stays shared. The records live outside the Python
heap: a worker holds only the index (path -> position) and what it rendered. No
request reads the disk: the file is memory, and the load read what it holds.
"""

from __future__ import annotations

import mmap
import os
import tempfile
import zlib
from array import array
from collections.abc import Iterable
from typing import IO

from frfeeds.read.loader import Loaded

#: Records read from the load (the parse cache) and written at a time: the uncompressed
#: details of every record at once would raise the process's RSS for good.
CHUNK = 2_000


class Snapshot:
    """``encoded(paths)``: (summary, details) bytes by path, as Loaded.encoded gives them."""

    def __init__(self, mapping: mmap.mmap | bytes, index: dict[str, int], offsets: array[int]) -> None:
        self._mapping = mapping
        #: Path -> its number: its summary is at offsets[2n]:offsets[2n+1], its
        #: compressed details at offsets[2n+1]:offsets[2n+2].
        self._index = index
        self._offsets = offsets

    @classmethod
    def empty(cls) -> Snapshot:
        return cls(b"", {}, array("Q", [0]))

    @classmethod
    def write(cls, loaded: Loaded, paths: Iterable[str]) -> Snapshot:
        """The records at paths, read from the load now; RecordError when one changed
        while being read (Loaded.encoded)."""
        paths = list(dict.fromkeys(paths))
        index: dict[str, int] = {}
        offsets = array("Q", [0])
        with _memory_file() as file:
            for start in range(0, len(paths), CHUNK):
                for path, (summary, details) in loaded.encoded(paths[start:start + CHUNK]).items():
                    packed = zlib.compress(details, 1)
                    file.write(summary)
                    file.write(packed)
                    index[path] = len(index)
                    offsets.append(offsets[-1] + len(summary))
                    offsets.append(offsets[-1] + len(packed))
            file.flush()
            size = offsets[-1]
            mapping = mmap.mmap(file.fileno(), size, prot=mmap.PROT_READ) if size else b""
        return cls(mapping, index, offsets)

    def __len__(self) -> int:
        return len(self._index)

    def encoded(self, paths: Iterable[str]) -> dict[str, tuple[bytes, bytes]]:
        encoded = {}
        mapping, offsets = self._mapping, self._offsets
        for path in dict.fromkeys(paths):
            number = 2 * self._index[path]
            summary, details, end = offsets[number], offsets[number + 1], offsets[number + 2]
            encoded[path] = (bytes(mapping[summary:details]), zlib.decompress(memoryview(mapping)[details:end]))
        return encoded


def _memory_file() -> IO[bytes]:
    """An anonymous file in memory (Linux: memfd), else an unlinked temporary file."""
    if hasattr(os, "memfd_create"):
        return open(os.memfd_create("frfeeds-snapshot", os.MFD_CLOEXEC), "wb")
    return tempfile.TemporaryFile()
