"""Read a records folder: find the files, parse the ones the cache does not already hold.

Every file ends as a Summary (and full Record on demand) or as a RecordError naming it;
nothing in a file can stop the walk or reach the output unvalidated. Many files to
parse are spread over worker processes, one per core.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from frfeeds.cache import ParseCache, Row, decode_problems, encode_problems
from frfeeds.codec import Decoder, encode
from frfeeds.errors import RecordError, UsageError
from frfeeds.frontmatter import parse_front_matter, split_front_matter
from frfeeds.records import Record, Summary, record_from_mapping
from frfeeds.workers import cores, process_pool

#: Files read as records; anything else in the folder (images, notes) is ignored.
RECORD_SUFFIXES = (".md", ".markdown", ".txt")
MAX_FILE_BYTES = 1 << 20
#: Fewer files than this to parse are parsed in this process (starting workers costs ~1 s).
POOL_MIN_FILES = 2_000
POOL_CHUNK = 256


@dataclass(frozen=True, slots=True)
class RecordFile:
    #: Path inside the records folder, ``/``-separated: the record's identity.
    path: str
    #: The path as the user would open it (the records folder as given, joined).
    display: str
    size: int
    mtime_ns: int


def scan_records(root: Path) -> list[RecordFile]:
    """Every record file under root, recursively, sorted by path; hidden names skipped."""
    if not root.is_dir():
        raise UsageError(f"records folder not found: {root}")
    found: list[RecordFile] = []
    pending = [(str(root), "")]
    while pending:
        folder, prefix = pending.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                name = entry.name
                if name.startswith("."):
                    continue
                if entry.is_dir():  # follows links to folders, as os.walk lists them
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


def folder_signature(root: Path) -> tuple[tuple[str, int, int], ...]:
    """What changes when a record file is added, removed or edited: paths, sizes, mtimes."""
    return tuple((item.path, item.size, item.mtime_ns) for item in scan_records(root))


@dataclass(frozen=True)
class Loaded:
    """Everything read from a records folder."""

    #: One per valid record, sorted by path.
    summaries: tuple[Summary, ...]
    #: One error per rejected file.
    rejected: tuple[RecordError, ...]
    #: Values left out of records that were kept.
    dropped: tuple[RecordError, ...]
    #: How many files were parsed now (the rest came from the cache).
    parsed: int
    _summary_bytes: dict[str, bytes] = field(repr=False)
    _details: dict[str, bytes] = field(repr=False)
    _cache: ParseCache | None = field(repr=False)

    @classmethod
    def empty(cls) -> Loaded:
        return cls((), (), (), 0, {}, {}, None)

    @property
    def files(self) -> int:
        return len(self.summaries) + len(self.rejected)

    def records(self, paths: Iterable[str]) -> dict[str, Record]:
        """Full records by path, decoded now (from this load's parses or the cache)."""
        paths = list(dict.fromkeys(paths))
        details = {path: self._details[path] for path in paths if path in self._details}
        missing = [path for path in paths if path not in details]
        if missing and self._cache is not None:
            details.update(self._cache.details(missing))
        lost = [path for path in paths if path not in details]
        if lost:
            raise RuntimeError(f"parse cache lost the details of {len(lost)} records, e.g. {lost[0]}; run again")
        decoder = Decoder()
        return {path: decoder.record(self._summary_bytes[path], details[path], path) for path in paths}


def load_records(
    root: Path,
    cache: ParseCache | None = None,
    files: list[RecordFile] | None = None,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Loaded:
    """Read every record file under root (or those of a scan already made), parsing only
    what the cache lacks."""
    files = scan_records(root) if files is None else files
    known = cache.rows() if cache is not None else {}
    rows: list[Row] = []
    misses: list[RecordFile] = []
    for item in files:
        hit = known.get(item.path)
        if hit is not None and hit[0] == item.size and hit[1] == item.mtime_ns:
            rows.append(Row(item.path, item.size, item.mtime_ns, hit[2], None, hit[3]))
        else:
            misses.append(item)
    parsed = parse_files(misses, workers, progress)
    if cache is not None:
        present = {item.path for item in files}
        cache.update(parsed, [path for path in known if path not in present])
    rows.extend(parsed)
    rows.sort(key=lambda row: row.path)
    return _assemble(files, rows, len(parsed), cache)


def parse_files(
    items: list[RecordFile], workers: int | None = None, progress: Callable[[int], None] | None = None
) -> list[Row]:
    """Parse files, in worker processes when there are many; results in input order."""
    workers = workers or cores()
    if workers < 2 or len(items) < POOL_MIN_FILES:
        rows = []
        for item in items:
            rows.append(parse_file(item))
            if progress:
                progress(1)
        return rows
    chunks = [items[start:start + POOL_CHUNK] for start in range(0, len(items), POOL_CHUNK)]
    rows = []
    with process_pool(workers) as pool:
        for chunk_rows in pool.map(_parse_chunk, chunks):
            rows.extend(chunk_rows)
            if progress:
                progress(len(chunk_rows))
    return rows


def _parse_chunk(items: list[RecordFile]) -> list[Row]:
    return [parse_file(item) for item in items]


def parse_file(item: RecordFile) -> Row:
    """Read and validate one file; never raises for anything the file contains."""
    try:
        data = _read_front_matter(item.display)
        record, dropped = record_from_mapping(data, item.path, item.display)
    except RecordError as exc:
        return Row(item.path, item.size, item.mtime_ns, None, None, encode_problems([(exc.field, exc.reason)]))
    summary, details = encode(record)
    return Row(item.path, item.size, item.mtime_ns, summary, details,
               encode_problems((problem.field, problem.reason) for problem in dropped))


def _read_front_matter(display: str) -> object:
    try:
        if not stat.S_ISREG(os.stat(display).st_mode):  # a FIFO would block open() forever
            raise RecordError(display, "file", "is not a regular file")
        with open(display, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise RecordError(display, "file", f"cannot be read: {exc.strerror or exc}") from None
    if not raw.strip():
        raise RecordError(display, "file", "is empty")
    if len(raw) > MAX_FILE_BYTES:
        raise RecordError(display, "file", f"is larger than {MAX_FILE_BYTES // 1024} KiB")
    if b"\x00" in raw:
        raise RecordError(display, "file", "is binary, not text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RecordError(display, "file", f"is not UTF-8 text (bad byte at offset {exc.start})") from None
    return parse_front_matter(split_front_matter(text, display), display)


def _assemble(files: list[RecordFile], rows: list[Row], parsed: int, cache: ParseCache | None) -> Loaded:
    displays = {item.path: item.display for item in files}
    decoder = Decoder()
    summaries, rejected, dropped = [], [], []
    summary_bytes, details = {}, {}
    for row in rows:
        display = displays[row.path]
        problems = [RecordError(display, field_name, reason) for field_name, reason in decode_problems(row.problems)]
        if row.summary is None:
            rejected.extend(problems)
            continue
        dropped.extend(problems)
        summaries.append(decoder.summary(row.path, row.summary))
        summary_bytes[row.path] = row.summary
        if row.details is not None:  # parsed now; cache hits' details are read when needed
            details[row.path] = row.details
    return Loaded(tuple(summaries), tuple(rejected), tuple(dropped), parsed, summary_bytes, details, cache)
