"""Read a records folder: find the files, parse the ones the cache does not already hold.

Every file ends as a Summary (and full Record on demand) or as a RecordError naming it;
nothing in a file can stop the walk or reach the output unvalidated. Many files to
parse are spread over worker processes, one per core.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import operator
import os
import stat
import time
from array import array
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from pathlib import Path

from frfeeds.errors import RecordError
from frfeeds.read.cache import ParseCache, Row, stores
from frfeeds.read.codec import Decoder, decode_problems, decode_records, encode, encode_problems
from frfeeds.read.frontmatter import parse_front_matter, split_front_matter
from frfeeds.read.scan import RecordFile, scan_records
from frfeeds.records import Record, Summary, record_from_mapping
from frfeeds.workers import cores, gc_paused, process_pool

MAX_FILE_BYTES = 1 << 20
#: Fewer files than this to parse are parsed in this process, unless the workers run
#: already (workers.Workers.threshold): forking them and their first imports cost more.
POOL_MIN_FILES = 2_000
POOL_CHUNK = 256


#: Bytes of details of records parsed now that a load keeps in memory (with their
#: summaries' bytes); the rest, once in the parse cache, are read from it when rendered
#: (~6 us a record, against 0.5), as every cache hit's are.
HELD_DETAILS = 32 << 20

@dataclass(frozen=True)
class Loaded:
    """Everything read from a records folder."""

    #: One per valid record, sorted by path.
    summaries: tuple[Summary, ...]
    #: One error per rejected file.
    rejected: tuple[RecordError, ...]
    #: Values left out of records that were kept.
    dropped: tuple[RecordError, ...]
    #: Lists cut at their design cap (related, images, topics): counted, not reported.
    capped: tuple[RecordError, ...]
    #: How many files were parsed now (the rest came from the cache).
    parsed: int
    #: (summary, details) bytes of the records parsed now and held (see HELD_DETAILS),
    #: until release(); the others' are read from the cache when wanted (a million
    #: summaries' bytes held were 270 MB of a build's peak).
    _held: dict[str, tuple[bytes, bytes]] = field(repr=False)
    _cache: ParseCache | None = field(repr=False)
    #: The version scanned of each file, to read a record's bytes back from the cache.
    _versions: _Versions = field(repr=False, default_factory=lambda: _Versions([]))
    #: Files rejected because they could not be read (an I/O error, not their content):
    #: such a rejection is never cached, and a reader of the folder tries them again.
    transient: tuple[str, ...] = ()

    @classmethod
    def empty(cls) -> Loaded:
        return cls((), (), (), (), 0, {}, None)

    @property
    def files(self) -> int:
        return len(self.summaries) + len(self.rejected)

    def records(self, paths: Iterable[str]) -> dict[str, Record]:
        """Full records by path, decoded now (from this load's parses or the cache)."""
        return decode_records(self.encoded(paths))

    def encoded(self, paths: Iterable[str]) -> dict[str, tuple[bytes, bytes]]:
        """(summary, details) bytes of full records by path, for decode_records here or
        in a worker process."""
        paths = list(dict.fromkeys(paths))
        found = {path: self._held[path] for path in paths if path in self._held}
        missing = {path: self._versions.version(path) for path in paths if path not in found}
        if missing:  # from the cache's rows of the versions scanned, as the summaries came
            if self._cache is not None:
                found.update(self._cache.encoded(missing))
            for path in (path for path in paths if path not in found):  # damaged or replaced rows
                item = self._versions.file(path)
                row = parse_file(item)
                if row.summary is None or row.details is None or (row.size, row.mtime_ns) != (item.size,
                                                                                              item.mtime_ns):
                    # another version than the summary loaded: a record of two versions'
                    # parts, or one that differs from its summary, must not be rendered
                    raise RecordError(item.display, "file", "changed while being read; run again")
                found[path] = (row.summary, row.details)
        return {path: found[path] for path in paths}

    def release(self, paths: Iterable[str]) -> None:
        """Let go of the bytes held of these records (a build that has rendered them and
        will not ask again): asked again, they would be read from the cache, or parsed."""
        for path in paths:
            self._held.pop(path, None)


class _Versions:
    """The size and mtime scanned of each file, by path: three flat columns, where a
    million RecordFiles kept for the length of a build were some 150 MB."""

    def __init__(self, files: list[RecordFile]) -> None:
        if any(earlier.path >= later.path for earlier, later in itertools.pairwise(files)):
            files = sorted(files, key=_PATH)
        self._paths = [item.path for item in files]  # the scan's strings: the summaries hold them too
        self._sizes = array("q", [item.size for item in files])
        self._mtimes = array("q", [item.mtime_ns for item in files])
        self._root = files[0].root if files else ""

    def version(self, path: str) -> tuple[int, int]:
        """(size, mtime_ns) of the file scanned at path; KeyError for none."""
        at = bisect.bisect_left(self._paths, path)
        if at == len(self._paths) or self._paths[at] != path:
            raise KeyError(path)
        return self._sizes[at], self._mtimes[at]

    def file(self, path: str) -> RecordFile:
        size, mtime_ns = self.version(path)
        return RecordFile(path, size, mtime_ns, "", self._root)


def load_records(
    root: Path,
    cache: ParseCache | None = None,
    files: list[RecordFile] | None = None,
    workers: int | None = None,
    progress: Callable[[int], object] | None = None,
    pool: Callable[[], Executor] | None = None,
    pool_min: int | None = None,
) -> Loaded:
    """Read every record file under root (or those of a scan already made), parsing only
    what the cache lacks; ``pool`` gives the worker processes to parse pool_min or more
    files in (default POOL_MIN_FILES; without pool, they are started for the parse)."""
    files = scan_records(root) if files is None else files
    folders = [item for item in files if item.problem]  # subfolders that could not be listed
    if folders:
        files = [item for item in files if not item.problem]
    known = cache.rows() if cache is not None else {}
    # each file's summary is decoded as its row comes, a cache hit's or a parse's, and the
    # row's bytes go (but for the details held): at 1,000,000 records, every row kept
    # until all were in was most of the load's peak. A hit's row leaves ``known`` as it
    # is decoded; what is left there is of files gone from the folder.
    made = _Assembly()
    misses: list[RecordFile] = []
    for item in files:
        hit = known.pop(item.path, None)
        if hit is not None and hit[0] == item.size and hit[1] == item.mtime_ns:
            made.add(item, hit[2], None, hit[3])
        else:
            misses.append(item)
    unreadable: list[RecordFile] = []
    # past a budget, details are read back from the cache rather than held: not without one
    budget = HELD_DETAILS if cache is not None else None
    rows = _collect(parse_files(misses, workers, progress, pool, pool_min), misses, made, unreadable, budget)
    if cache is None:
        for _ in rows:  # parsed and assembled as they come: nothing to store
            pass
    else:  # rows go into the cache as they come, in one transaction
        cache.update(rows, list(known))
    del known  # the rows of files gone: forgotten by the cache
    transient = []
    for item in unreadable:  # looked at once more: see _settle
        settled = _settle(item)
        if settled is not None:
            made.add(item, settled.summary, settled.details, settled.problems, parsed=True)
            if not settled.cacheable:
                transient.append(settled.path)
    if not root.is_dir():  # moved away midway: its files read as gone, which they are not
        raise RecordError(str(root), "folder", "was moved or deleted while being read; run again")
    loaded = made.loaded(cache, files)
    if transient:
        loaded = replace(loaded, transient=tuple(sorted(transient)))
    if folders:  # reported like unreadable records, and counted with the rejected
        problems = tuple(RecordError(item.display, "folder", item.problem) for item in folders)
        loaded = replace(loaded, rejected=problems + loaded.rejected, transient=loaded.transient + tuple(
            item.path for item in folders))
    return loaded


def _settle(item: RecordFile) -> Row | None:
    """The row of a file that could not be read, looked at once more: a file deleted
    since the scan is gone (None: no record, nothing to report), one that is there again
    (its folder moved away and back, a file replaced) is read again."""
    return parse_file(item) if os.path.lexists(item.display) else None


def parse_files(
    items: list[RecordFile], workers: int | None = None, progress: Callable[[int], object] | None = None,
    pool: Callable[[], Executor] | None = None, pool_min: int | None = None,
) -> Iterator[list[Row]]:
    """Parse files, in worker processes when there are pool_min or more (default
    POOL_MIN_FILES; ``pool``'s, else started now): chunks of rows, in input order, at
    least four chunks a worker (the last ones end together)."""
    workers = workers or cores()
    if workers < 2 or len(items) < (POOL_MIN_FILES if pool_min is None else pool_min):
        for item in items:
            yield [parse_file(item)]
            if progress:
                progress(1)
        return
    size = max(1, min(POOL_CHUNK, -(-len(items) // (4 * workers))))
    chunks = [items[start:start + size] for start in range(0, len(items), size)]
    with contextlib.ExitStack() as stack:
        executor = pool() if pool is not None else stack.enter_context(process_pool(workers))
        for fields in executor.map(_parse_chunk, chunks):
            yield [Row(*row) for row in fields]
            if progress:
                progress(len(fields))


def _collect(chunks: Iterable[list[Row]], items: list[RecordFile], made: _Assembly,
             unreadable: list[RecordFile], budget: int | None) -> Iterator[list[Row]]:
    """The rows parsed (of items, in their order), yielded as they come (to the cache,
    if any), then added to ``made`` with the scan's path strings (a worker's rows come
    pickled); the files that could not be read go to ``unreadable``.

    Past ``budget`` bytes of details (HELD_DETAILS when there is a cache), a row the
    cache stores (cacheable, not too recent) of the version scanned is kept without its
    details: they are read back from the cache when needed, like a hit's, and a cold
    build does not hold every record's text (190 MiB at 100,000 records). Should the
    cache's transaction fail, they are parsed again. None: every row keeps its details.
    """
    held = 0
    scanned = iter(items)
    for rows in chunks:
        now = time.time_ns()  # the cache's clock for these rows is no earlier
        yield rows
        for row in rows:
            item = next(scanned)
            if item.path != row.path:
                raise AssertionError(f"rows out of order: {row.path} where {item.path} was expected")
            if not row.cacheable:
                unreadable.append(item)
                continue
            details = row.details
            if details is not None and budget is not None:
                # the cache stores the row, of the version scanned: its details can be
                # read back from there
                if held >= budget and stores(row, now) and (row.size, row.mtime_ns) == (item.size, item.mtime_ns):
                    details = None
                else:
                    held += len(details)
            made.add(item, row.summary, details, row.problems, parsed=True)


def _parse_chunk(items: list[RecordFile]) -> list[tuple[str, int, int, bytes | None, bytes | None, bytes, bool]]:
    """A worker's rows, as tuples: pickled both ways, a tuple costs a third of a Row."""
    with gc_paused():
        rows = [parse_file(item) for item in items]
    return [(row.path, row.size, row.mtime_ns, row.summary, row.details, row.problems, row.cacheable) for row in rows]


def parse_file(item: RecordFile) -> Row:
    """Read and validate one file; never raises for anything the file contains.

    The row is keyed by the size and mtime of the file as it was read (which may differ
    from the scan's, when it changed in between), so a cached parse always names the
    content it came from. A file that could not be read gives a row that is not cached:
    a rejection lasts as long as its cause.
    """
    try:
        raw, size, mtime_ns = _read(item.display)
    except _Unreadable as exc:
        return Row(item.path, item.size, item.mtime_ns, None, None, encode_problems([("file", exc.reason)]), False)
    try:
        record, dropped, capped = record_from_mapping(_front_matter(raw, item.display), item.path, item.display)
    except RecordError as exc:
        return Row(item.path, size, mtime_ns, None, None, encode_problems([(exc.field, exc.reason)]))
    summary, details = encode(record)
    return Row(item.path, size, mtime_ns, summary, details,
               encode_problems(((p.field, p.reason) for p in dropped), ((p.field, p.reason) for p in capped)))


class _Unreadable(Exception):
    """The file could not be read now: nothing is known of its content."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


def _read(display: str) -> tuple[bytes, int, int]:
    """The file's bytes (at most the limit, +1 to tell it is over) and the size and
    mtime it had while they were read."""
    try:
        # O_NONBLOCK: a FIFO put where a record was would block open() forever
        fd = os.open(display, _OPEN_FLAGS)
    except OSError as exc:
        raise _Unreadable(f"cannot be read: {exc.strerror or exc}") from None
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            raise _Unreadable("is not a regular file")
        # read(n) allocates n bytes first: ask for the file's size, not the limit, or
        # every 4 KB record costs a 1 MiB allocation (+1: a file over the limit shows
        # as such; one that grew shows in the second fstat)
        wanted = min(before.st_size, MAX_FILE_BYTES) + 1
        raw = os.read(fd, wanted)
        while len(raw) < wanted:  # a short read (rare on a regular file): read on to the end
            more = os.read(fd, wanted - len(raw))
            if not more:
                break
            raw += more
        after = os.fstat(fd)
    except OSError as exc:
        raise _Unreadable(f"cannot be read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns):
        raise _Unreadable("changed while being read")
    return raw, after.st_size, after.st_mtime_ns


def _front_matter(raw: bytes, display: str) -> object:
    if len(raw) > MAX_FILE_BYTES:
        raise RecordError(display, "file", f"is larger than {MAX_FILE_BYTES // 1024} KiB")
    if not raw.strip():
        raise RecordError(display, "file", "is empty")
    if b"\x00" in raw:
        raise RecordError(display, "file", "is binary, not text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RecordError(display, "file", f"is not UTF-8 text (bad byte at offset {exc.start})") from None
    return parse_front_matter(split_front_matter(text, display), display)


class _Assembly:
    """A load's outcome, made a file at a time in any order: its summary decoded at once
    (the bytes then go, but for the details held), its problems as RecordErrors."""

    def __init__(self) -> None:
        self.decoder = Decoder()
        self.summaries: list[Summary] = []
        #: (path, error) of rejected files, of values dropped, of lists cut.
        self.rejected: list[tuple[str, RecordError]] = []
        self.dropped: list[tuple[str, RecordError]] = []
        self.capped: list[tuple[str, RecordError]] = []
        self.held: dict[str, tuple[bytes, bytes]] = {}
        #: How many files were parsed now.
        self.parsed = 0

    def add(self, item: RecordFile, summary: bytes | None, details: bytes | None, problems: bytes,
            parsed: bool = False) -> None:
        """A file's row, parsed now or a cache hit; details None when they are to be read
        back from the cache when wanted (a hit's, a parse's past the budget)."""
        self.parsed += parsed
        path = item.path
        if problems != _NO_PROBLEMS:
            reported, cut = decode_problems(problems)
            (self.dropped if summary is not None else self.rejected).extend(
                (path, RecordError(item.display, field_name, reason)) for field_name, reason in reported)
            self.capped.extend((path, RecordError(item.display, field_name, reason)) for field_name, reason in cut)
        if summary is None:
            return
        self.summaries.append(self.decoder.summary(path, summary))
        if details is not None:
            self.held[path] = (summary, details)

    def loaded(self, cache: ParseCache | None, files: list[RecordFile]) -> Loaded:
        """The load, everything in path order (from a sorted scan, the hits and the
        parses came as sorted runs, which the sort merges)."""
        self.summaries.sort(key=_PATH)

        def errors(found: list[tuple[str, RecordError]]) -> tuple[RecordError, ...]:
            found.sort(key=_FIRST)  # stable: a file's own problems stay in their order
            return tuple(error for _, error in found)

        return Loaded(tuple(self.summaries), errors(self.rejected), errors(self.dropped), errors(self.capped),
                      self.parsed, self.held, cache, _Versions(files))


_PATH = operator.attrgetter("path")
_FIRST = operator.itemgetter(0)
_NO_PROBLEMS = encode_problems(())
