"""Entries' fragments, kept between builds of a tree: a rebuild renders only the records
that changed, and joins every other entry of a stale document from what an earlier
build made.

A fragment (a record's Atom ``<entry>``, RSS item, JSON item or page article; see
``plan.make_parts``) is a pure function of the record and the RenderSettings, under the
package's code. The store holds, by record path, the record's digest and, by row, where
its fragment is: a data file, an offset, a length. The data files are appended to by
the processes that render (one file per process and row: ``<pid>.<row>``) and read by
the ones that join documents; the index is this process's, written whole and atomically
after the data it names (a build killed midway leaves the previous index, and bytes
nobody names). Its ``stamp`` (the code and the RenderSettings) must match, else the
store starts empty.

Without a folder to keep it in (``--no-cache``), the store lives in a temporary folder
for one build: the build's scratch, as before.

The index is columns (a list of paths, a list of digests, three arrays per row), which
marshal reads and writes in milliseconds at 100,000 records. Fragments of records that
changed or left the feeds stay in the data files until they make up half of them (or
the files are many: each build's processes start their own); then the live ones are
copied into new files, one per row (``compact``). The store's size is about that of the
fragments of every published record: 59 MB at 10,000 generated records, twice the
parse cache.
"""

from __future__ import annotations

import contextlib
import marshal
import os
from array import array
from collections.abc import Iterable, Iterator
from pathlib import Path

_FORMAT = 2
_INDEX = "index"
#: Data files are compacted when they hold more than twice the live fragments and this much more,
_SLACK = 32 * 1024 * 1024
#: or when there are more than this many (each build's processes start files of their own).
_MAX_FILES = 256

_NONE: frozenset[str] = frozenset()

#: A fragment's place: data file number, offset, length.
Place = tuple[int, int, int]
#: What a process rendering fragments answers: per row, its data file (a path), where
#: its fragments start, the records (in order) and each fragment's length.
Written = list[tuple[str, str, int, list[str], list[int]]]


class FragmentStore:
    """Where each record's fragment of each row is, and the folder the data files are in."""

    def __init__(self, folder: Path, stamp: str, rows: Iterable[str]) -> None:
        self.folder = folder
        self.stamp = stamp
        self.paths: list[str] = []
        self.digests: list[str] = []
        self.position: dict[str, int] = {}
        #: Data file names (in folder); a Place's first number indexes this list.
        self.names: list[str] = []
        #: Where the fragments the index names end in each data file (it must be that long).
        self.ends: list[int] = []
        self._numbers: dict[str, int] = {}
        self._rows = {row: (array("i"), array("q"), array("i")) for row in rows}

    # --- reading and writing the index ------------------------------------------------

    @classmethod
    def load(cls, folder: Path, stamp: str, rows: Iterable[str]) -> FragmentStore:
        """The store kept in folder; empty (and the folder cleared) when it has none, or
        one of another stamp, another format, or data files shorter than it says."""
        store = cls(folder, stamp, rows)
        try:
            data = (folder / _INDEX).read_bytes()
            version, kept_stamp, paths, digests, names, ends, columns = marshal.loads(data)
            if version != _FORMAT or kept_stamp != stamp or set(columns) != set(store._rows):
                raise ValueError("another store")
            for row, (numbers, offsets, lengths) in columns.items():
                arrays = store._rows[row]
                arrays[0].frombytes(numbers)
                arrays[1].frombytes(offsets)
                arrays[2].frombytes(lengths)
                if not len(arrays[0]) == len(arrays[1]) == len(arrays[2]) == len(paths):
                    raise ValueError("torn columns")
            store.paths, store.digests, store.names, store.ends = list(paths), list(digests), list(names), list(ends)
            if len(store.digests) != len(store.paths) or len(store.ends) != len(store.names):
                raise ValueError("torn columns")
            store._numbers = {name: number for number, name in enumerate(store.names)}
            store.position = {path: at for at, path in enumerate(store.paths)}
            store._check_sizes()
        except (OSError, ValueError, EOFError, TypeError):
            store = cls(folder, stamp, rows)
            _clear(folder)
        return store

    def _check_sizes(self) -> None:
        for name, end in zip(self.names, self.ends, strict=True):
            if os.stat(self.folder / name).st_size < end:
                raise ValueError(f"{name} is shorter than the index says")

    def save(self, alive: set[str]) -> None:
        """Keep only the records in alive, compact the data files if they are mostly
        dead, and write the index (after the data it names is in the data files)."""
        if any(path not in alive for path in self.paths):
            self._keep(alive)
        live = self._live_bytes()
        if len(self.names) > _MAX_FILES or self._file_bytes() - live > live + _SLACK:
            self._compact()
        columns = {row: (numbers.tobytes(), offsets.tobytes(), lengths.tobytes())
                   for row, (numbers, offsets, lengths) in self._rows.items()}
        data = marshal.dumps((_FORMAT, self.stamp, self.paths, self.digests, self.names, self.ends, columns), 4)
        partial = self.folder / (_INDEX + ".new")
        partial.write_bytes(data)
        os.replace(partial, self.folder / _INDEX)
        named = set(self.names) | {_INDEX}
        for entry in os.scandir(self.folder):  # data files of processes that wrote nothing kept
            if entry.name not in named:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)

    # --- what is there --------------------------------------------------------------

    def expect(self, path: str, digest: str) -> None:
        """The record at path now has this digest: forget its fragments if they are of
        another version."""
        at = self.position.get(path)
        if at is None:
            self.position[path] = len(self.paths)
            self.paths.append(path)
            self.digests.append(digest)
            for numbers, offsets, lengths in self._rows.values():
                numbers.append(-1)
                offsets.append(0)
                lengths.append(0)
        elif self.digests[at] != digest:
            self.digests[at] = digest
            for numbers, _, _ in self._rows.values():
                numbers[at] = -1

    def missing(self, path: str, rows: frozenset[str]) -> frozenset[str]:
        """The rows among rows without a fragment of the record (expect()ed first):
        rows itself when none has one (a cold build: no new set per record)."""
        at = self.position[path]
        missing = [row for row in rows if self._rows[row][0][at] < 0]
        if len(missing) == len(rows):
            return rows
        return frozenset(missing) if missing else _NONE

    def add(self, written: Written) -> None:
        """What a process rendering fragments answered: their places."""
        for row, file, start, paths, lengths in written:
            name = os.path.basename(file)
            number = self._numbers.get(name)
            if number is None:
                number = self._numbers[name] = len(self.names)
                self.names.append(name)
                self.ends.append(0)
            self.ends[number] = max(self.ends[number], start + sum(lengths))
            numbers, offsets, sizes = self._rows[row]
            offset = start
            for path, length in zip(paths, lengths, strict=True):
                at = self.position[path]
                numbers[at], offsets[at], sizes[at] = number, offset, length
                offset += length

    def places(self, row: str, paths: Iterable[str]) -> list[Place]:
        """The places of the records' fragments of row, in order."""
        numbers, offsets, lengths = self._rows[row]
        made = []
        for path in paths:
            at = self.position[path]
            if numbers[at] < 0:
                raise LookupError(f"no {row} fragment was made of {path}")
            made.append((numbers[at], offsets[at], lengths[at]))
        return made

    def files(self) -> list[str]:
        """The data files' paths, by number."""
        return [str(self.folder / name) for name in self.names]

    # --- keeping it small -------------------------------------------------------------

    def _live_bytes(self) -> int:
        return sum(sum(lengths) for _, _, lengths in self._rows.values())

    def _file_bytes(self) -> int:
        total = 0
        for name in self.names:
            with contextlib.suppress(OSError):
                total += os.stat(self.folder / name).st_size
        return total

    def _keep(self, alive: set[str]) -> None:
        keep = [at for at, path in enumerate(self.paths) if path in alive]
        self.paths = [self.paths[at] for at in keep]
        self.digests = [self.digests[at] for at in keep]
        self.position = {path: at for at, path in enumerate(self.paths)}
        for row, (numbers, offsets, lengths) in self._rows.items():
            self._rows[row] = (array("i", (numbers[at] for at in keep)), array("q", (offsets[at] for at in keep)),
                               array("i", (lengths[at] for at in keep)))

    def _compact(self) -> None:
        """Copy the live fragments into new data files (one per row that has any), in the
        order of the index, and point the index at them; the old files go at save()."""
        made: list[str] = []
        made_ends: list[int] = []
        handles: dict[int, int] = {}
        try:
            for row, (numbers, offsets, lengths) in self._rows.items():
                descriptor, name = _new_file(self.folder, f".{row}")
                with open(descriptor, "wb") as out:
                    position, live = 0, False
                    for at, number in enumerate(numbers):  # this row's numbers are still the old files'
                        if number < 0:
                            continue
                        live = True
                        if number not in handles:
                            handles[number] = os.open(self.folder / self.names[number], os.O_RDONLY)
                        out.write(_pread(handles[number], lengths[at], offsets[at]))
                        numbers[at] = len(made)
                        offsets[at] = position
                        position += lengths[at]
                if live:
                    made.append(os.path.basename(name))
                    made_ends.append(position)
                else:  # no live fragment of this row
                    os.unlink(name)
        finally:
            for handle in handles.values():
                os.close(handle)
        self.names, self.ends = made, made_ends  # the old files: no longer named, deleted by save()
        self._numbers = {name: number for number, name in enumerate(self.names)}


def store_folder(state: Path) -> Path:
    """Where the fragments of the tree whose state file is state are kept: beside it."""
    return state.with_suffix(".fragments")


@contextlib.contextmanager
def fragment_store(folder: Path | None, stamp: str, rows: Iterable[str]) -> Iterator[FragmentStore]:
    """The store kept in folder (made if need be), or one in a temporary folder for
    this build only (None)."""
    if folder is not None:
        folder.mkdir(exist_ok=True)
        yield FragmentStore.load(folder, stamp, rows)
        return
    import tempfile  # here: a rebuild with a kept store needs neither it nor what it imports

    with tempfile.TemporaryDirectory(prefix="frfeeds-parts-") as scratch:
        yield FragmentStore(Path(scratch), stamp, rows)


def _pread(descriptor: int, length: int, offset: int) -> bytes:
    data = os.pread(descriptor, length, offset)
    if len(data) != length:
        raise OSError(f"a fragment file is shorter than its index says ({offset}+{length})")
    return data


def _new_file(folder: Path, suffix: str) -> tuple[int, str]:
    """A new file in folder, opened for writing: (descriptor, path)."""
    for attempt in range(1000):
        path = os.path.join(folder, f"compact-{os.getpid()}-{attempt}{suffix}")
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644), path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free name for a compacted fragment file in {folder}")


def _clear(folder: Path) -> None:
    """Empty the folder (what a store of another stamp or a damaged one left)."""
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(folder):
            if entry.is_dir(follow_symlinks=False):
                import shutil

                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
