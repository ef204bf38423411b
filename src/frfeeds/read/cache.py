"""The parse cache: what each record file gave, keyed by path, size and mtime.

An SQLite file per records folder (in settings.cache, default ``~/.cache/frfeeds``; safe to delete). It is
never trusted blindly:

- a file from another format (its tables', or the codec's, which follows the record
  model), frfeeds or Python version is emptied and refilled;
- a file SQLite cannot read (corrupt, truncated, not a database) is deleted and rebuilt;
- every row carries a CRC of its bytes; a row that fails it is parsed again;
- all of a build's changes go in one transaction, so a killed build leaves the cache as
  it was (SQLite rolls the unfinished transaction back);
- files modified in the last two seconds are not stored: an edit within the file
  system's timestamp granularity could leave size and mtime unchanged.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import sqlite3
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from frfeeds import __version__

#: The tables' layout: bump by hand when they change. What the rows hold is the
#: codec's, whose own format follows the model (see stamp()).
FORMAT = 3
RACY_NS = 2_000_000_000

log = logging.getLogger("frfeeds")


@dataclass(frozen=True, slots=True)
class Row:
    """One record file's parse: summary and details bytes (None when rejected), problems."""

    path: str
    size: int
    mtime_ns: int
    summary: bytes | None
    details: bytes | None
    #: codec.encode_problems(): (field, reason) of values dropped (or of the rejection), and of lists cut at their cap.
    problems: bytes
    #: False when the file could not be read: nothing to cache, it is read again next time.
    cacheable: bool = True


def open_cache(records: Path, folder: Path | None, warn: Callable[[str], None] | None = None) -> ParseCache | None:
    """The parse cache of a records folder in folder (settings.cache), or None for none.

    A cache that cannot be used (its folder not writable, its file not openable, a
    read-only or full disk) is one warning, to ``warn`` or the log, and no cache: a build
    or an app runs without one rather than fail.
    """
    if folder is None:
        return None
    path = cache_file(folder, records)
    try:
        return ParseCache(path)
    except (OSError, sqlite3.Error) as exc:
        reason = f"{exc.strerror}: {exc.filename}" if isinstance(exc, OSError) and exc.strerror else str(exc)
        (warn or log.warning)(f"parse cache {path} cannot be used ({reason}); going on without a cache")
        return None


def stamp() -> str:
    """Everything a row's meaning depends on; any difference empties the cache. The
    codec's format is a digest of the model's fields, so a field added to a record
    empties it by itself; the rules' digest does the same for a changed validation rule.

    The codec (with the model and the cleaning code it imports: some 10 ms) is
    imported here, when a cache is opened, not with this module: a rebuild in which
    nothing changed opens no cache and needs none of them.
    """
    from frfeeds.read import codec

    return (f"format={FORMAT} codec={codec.FORMAT} rules={rules_digest()} frfeeds={__version__} "
            f"python={sys.version_info[0]}.{sys.version_info[1]} marshal={codec.MARSHAL_VERSION}")


@functools.cache
def rules_digest() -> str:
    """Digest of the source of the validation rules (records.py, clean.py): a row holds
    what they made of a file, its problems included, so a changed rule (a date before
    1991 now reported) empties the cache rather than replaying an old verdict."""
    from frfeeds import clean, records

    digest = hashlib.blake2b(digest_size=8)
    for module in (records, clean):
        with open(module.__file__ or "", "rb") as file:
            digest.update(file.read())
    return digest.hexdigest()


def storable(path: str) -> bool:
    """Whether a record's path can be a key of the cache: SQLite's text is UTF-8, and a
    file name that is not (``caf\\xe9.md`` from a Latin-1 system, held with surrogate
    escapes) cannot be; such a file is parsed on every build instead."""
    if path.isascii():
        return True
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def stores(row: Row, now_ns: int) -> bool:
    """Whether update() stores a row at now_ns: one of a file read whole, modified two
    seconds or more before, with a name SQLite can hold."""
    return row.cacheable and now_ns - row.mtime_ns >= RACY_NS and storable(row.path)


def cache_file(cache_dir: Path, records: Path) -> Path:
    """One cache per records folder, named after its absolute path."""
    key = hashlib.sha256(os.fsencode(os.path.abspath(records))).hexdigest()[:16]
    return Path(cache_dir, f"records-{key}.sqlite3")


class ParseCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._open()
        except sqlite3.OperationalError:  # cannot open (permissions, read-only, locked): not damage
            raise
        except sqlite3.DatabaseError as exc:
            log.warning("parse cache %s unreadable (%s): rebuilding it", path, exc)
            self._delete_files()
            self._open()

    @property
    def _db(self) -> sqlite3.Connection:
        """This thread's connection (SQLite connections cross neither threads nor forks)."""
        if getattr(self._local, "pid", None) != os.getpid():
            self._open()
        db: sqlite3.Connection = self._local.db
        return db

    def _open(self) -> None:
        db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            # a cache need not survive a power cut: if one damages it, it is rebuilt
            db.execute("PRAGMA synchronous=OFF")
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            db.execute(
                "CREATE TABLE IF NOT EXISTS records (path TEXT PRIMARY KEY, size INTEGER NOT NULL,"
                " mtime_ns INTEGER NOT NULL, summary BLOB, problems BLOB NOT NULL, crc INTEGER NOT NULL)"
            )
            db.execute("CREATE TABLE IF NOT EXISTS details "
                       "(path TEXT PRIMARY KEY, data BLOB NOT NULL, crc INTEGER NOT NULL)")
            found = db.execute("SELECT value FROM meta WHERE key = 'stamp'").fetchone()
            expected = stamp()
            if found is None or found[0] != expected:
                with _transaction(db):
                    db.execute("DELETE FROM records")
                    db.execute("DELETE FROM details")
                    db.execute("INSERT OR REPLACE INTO meta VALUES ('stamp', ?)", (expected,))
        except sqlite3.DatabaseError:
            db.close()
            raise
        self._local.db, self._local.pid = db, os.getpid()

    def _delete_files(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{self.path}{suffix}")

    def rows(self) -> dict[str, tuple[int, int, bytes | None, bytes]]:
        """path -> (size, mtime_ns, summary, problems) for every row that passes its CRC."""
        found = {}
        try:
            for path, size, mtime_ns, summary, problems, crc in self._db.execute(
                "SELECT path, size, mtime_ns, summary, problems, crc FROM records"
            ):
                if zlib.crc32(problems, zlib.crc32(summary or b"")) == crc:
                    found[path] = (size, mtime_ns, summary, problems)
        except sqlite3.OperationalError as exc:  # locked, I/O error: not damage; the cache may be shared
            log.warning("parse cache %s not readable now (%s): parsing every record", self.path, exc)
            return {}
        except sqlite3.DatabaseError as exc:
            log.warning("parse cache %s unreadable (%s): rebuilding it", self.path, exc)
            self.reset()
            return {}
        return found

    def encoded(self, wanted: dict[str, tuple[int, int]]) -> dict[str, tuple[bytes, bytes]]:
        """(summary, details) bytes by path, of the file versions given as (size,
        mtime_ns): those whose summary this process read. A row that is missing, damaged,
        or since replaced by another process's parse of a newer version is simply absent."""
        found = {}
        paths = [path for path in wanted if storable(path)]
        expected = stamp()
        for start in range(0, len(paths), 500):
            chunk = paths[start:start + 500]
            marks = ",".join("?" * len(chunk))
            # the stamp read in the same statement (one snapshot): a process of another
            # version may have emptied the cache and stored rows of its own format since
            query = ("SELECT details.path, data, details.crc, size, mtime_ns, summary, problems, records.crc"
                     f" FROM details JOIN records ON records.path = details.path WHERE details.path IN ({marks})"
                     " AND (SELECT value FROM meta WHERE key = 'stamp') = ?")
            try:
                for path, data, crc, size, mtime_ns, summary, problems, row_crc in self._db.execute(
                        query, [*chunk, expected]):
                    if (zlib.crc32(data) == crc and wanted[path] == (size, mtime_ns) and summary is not None
                            and zlib.crc32(problems, zlib.crc32(summary)) == row_crc):
                        found[path] = (summary, data)
            except sqlite3.DatabaseError:
                return found
        return found

    def update(self, chunks: Iterable[list[Row]], removed: Iterable[str], now_ns: int | None = None) -> None:
        """Store new parses (chunks of rows, consumed as they come) and forget removed
        files, all in one transaction: a build killed meanwhile changes nothing."""
        db = self._db
        failed = None
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            failed = exc
        for rows in chunks:  # consumed whatever happens: the build needs every row
            if failed:
                continue
            now = time.time_ns() if now_ns is None else now_ns
            stored = [row for row in rows if stores(row, now)]
            try:
                db.executemany(
                    "INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, ?, ?)",
                    ((r.path, r.size, r.mtime_ns, r.summary, r.problems,
                      zlib.crc32(r.problems, zlib.crc32(r.summary or b""))) for r in stored),
                )
                db.executemany(
                    "INSERT OR REPLACE INTO details VALUES (?, ?, ?)",
                    ((r.path, r.details, zlib.crc32(r.details)) for r in stored if r.details is not None),
                )
            except sqlite3.DatabaseError as exc:
                failed = exc
        if not failed:
            try:
                gone = [(path,) for path in removed]
                db.executemany("DELETE FROM records WHERE path = ?", gone)
                db.executemany("DELETE FROM details WHERE path = ?", gone)
                db.execute("COMMIT")
                return
            except sqlite3.DatabaseError as exc:
                failed = exc
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")
        log.warning("parse cache %s not updated: %s", self.path, failed)  # a full disk, a damaged file

    def reset(self) -> None:
        self.close()
        self._delete_files()
        self._open()

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None and self._local.pid == os.getpid():
            with contextlib.suppress(sqlite3.Error):
                db.close()
        self._local.pid = None


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
