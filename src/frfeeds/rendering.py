"""A build's stale documents rendered and staged, in worker processes when there are
many, in two steps that keep next to nothing in this process:

1. **Parts.** Each record some document holds is rendered once per row it needs
   (``plan.make_parts``: its Atom entry, RSS item, JSON item, page article), newest
   first, a chunk of records per task, unless the fragment store (``fragments.py``)
   holds that fragment of that version of the record from an earlier build. The worker
   appends the fragments to the store's data files (one per row and process) and
   answers where they are.
2. **Documents.** Each document is framed (``plan.make_frames``), joined from its
   entries' fragments read back from the data files, and staged
   (``writer.stage_file``) by a worker; this process records what was staged or kept.

This process holds the fragments' places (a few numbers per record), never their bytes
nor the documents': at 100,000 records, 600 MiB of fragments and 2 GiB of documents pass
through the page cache, not through its memory, and the workers write in parallel.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from frfeeds.catalog import Feed, newest_first
from frfeeds.fragments import FragmentStore, Place, Written
from frfeeds.plan import Encoded, batches, make_frames, make_parts, wanted_rows
from frfeeds.read.codec import decode_records
from frfeeds.render.outputs import document_outputs
from frfeeds.settings import RenderSettings
from frfeeds.workers import cores, gc_paused
from frfeeds.write.writer import stage_file

#: Records whose fragments a task makes.
PARTS_CHUNK = 250
#: Documents a task frames, joins and stages (fewer when they hold many entries).
DOCUMENTS_CHUNK = 40
DOCUMENT_ENTRIES = 4_000
#: Tasks handed to the pool ahead of the one awaited: enough to keep every worker busy,
#: few enough that the records' details sent with them stay a small part of memory.
AHEAD = 4

#: A documents task's answer: each file's path and what stage_file did (kept: size, mtime).
Staged = list[tuple[str, tuple[int, int] | None]]

T = TypeVar("T")


@dataclass(frozen=True)
class Target:
    """Where documents go: the tree (its current files compared) and the stage folder."""

    out: Path
    stage: Path


def render_documents(inputs: RenderSettings, documents: Sequence[Feed], fetch: Callable[[list[str]], Encoded],
                     target: Target, store: FragmentStore, pool: Executor | None = None
                     ) -> Iterator[tuple[Feed, Staged]]:
    """Render, join and stage every file of each document (in order), with the pool's
    workers or in this process; ``fetch`` gives records' encoded details by path, the
    store the fragments an earlier build made (and takes this build's)."""
    wanted = wanted_rows(documents)
    entries = newest_first({entry.path: entry for feed in documents for entry in feed.entries}.values())
    for entry in entries:
        store.expect(entry.path, entry.digest)
    # missing() is asked again per chunk rather than kept for every record: no dict of
    # 100,000 entries in this process at once
    paths = [entry.path for entry in entries if store.missing(entry.path, wanted[entry.path])]
    try:
        size = max(1, min(PARTS_CHUNK, -(-len(paths) // (4 * cores()))))  # four tasks a worker at least
        chunks = (paths[start:start + size] for start in range(0, len(paths), size))
        payloads = ((inputs, fetch(chunk), {path: store.missing(path, wanted[path]) for path in chunk},
                     str(store.folder)) for chunk in chunks)
        for written in _ordered(pool, _parts_task, payloads):
            store.add(written)
        # the fragments are made: what chose them goes before the documents are joined
        # (a dict and two lists of every record rendered: some 60 MB at 1,000,000 records)
        del wanted, entries, paths
        files = store.files()
        work = batches(documents, DOCUMENTS_CHUNK, DOCUMENT_ENTRIES)
        jobs = ((inputs, batch, [_places(store, feed) for feed in batch], files, target) for batch in work)
        done = _ordered(pool, _documents_task, jobs)
        for batch, staged in zip(work, done, strict=True):
            yield from zip(batch, staged, strict=True)
    finally:
        _close_scratch()  # this process's own, when it made parts itself


def _places(store: FragmentStore, feed: Feed) -> dict[str, list[Place]]:
    """Each row of the document: its entries' fragments' places, in order."""
    paths = [entry.path for entry in feed.entries]
    return {output.name: store.places(output.name, paths) for output in document_outputs(feed.archive)}


def _ordered(pool: Executor | None, task: Callable[[Any], T], payloads: Iterable[Any]) -> Iterator[T]:
    """task over payloads, results in order: in this process, or in the pool with at
    most AHEAD tasks waiting beyond the one awaited (payloads are made as needed)."""
    if pool is None:
        yield from map(task, payloads)
        return
    waiting: list[Future[T]] = []
    for payload in payloads:
        waiting.append(pool.submit(_in_worker, task, payload))
        if len(waiting) > AHEAD:
            yield waiting.pop(0).result()
    for future in waiting:
        yield future.result()


# --- in the workers (or this process) --------------------------------------------------


def _in_worker(task: Callable[[Any], T], payload: Any) -> T:
    """A task in a worker: the cyclic collector off while it makes its many objects,
    one collection after (this process's collector is the build's: left alone)."""
    with gc_paused():
        return task(payload)


#: This process's data files, by (folder, row): appended to, never read here.
_scratch: dict[tuple[str, str], BinaryIO] = {}
#: Data files opened for reading, by name.
_readers: dict[str, int] = {}


def _parts_task(payload: tuple[RenderSettings, Encoded, Mapping[str, frozenset[str]], str]) -> Written:
    inputs, encoded, wanted, scratch = payload
    parts = make_parts(inputs, decode_records(encoded), wanted)
    written: Written = []
    rows = {row for made in parts.values() for row in made}
    for row in sorted(rows):
        handle = _scratch.get((scratch, row))
        if handle is None:
            handle = _scratch[(scratch, row)] = open(os.path.join(scratch, f"{os.getpid()}.{row}"), "ab")
        start = handle.tell()
        paths = [path for path, made in parts.items() if row in made]
        fragments = [parts[path][row] for path in paths]
        handle.write(b"".join(fragments))
        handle.flush()  # read by other processes as soon as this task answers
        written.append((row, handle.name, start, paths, [len(fragment) for fragment in fragments]))
    return written


def _close_scratch() -> None:
    for handle in _scratch.values():
        handle.close()
    _scratch.clear()
    for descriptor in _readers.values():
        os.close(descriptor)
    _readers.clear()


def _documents_task(payload: tuple[RenderSettings, Sequence[Feed], list[dict[str, list[Place]]], list[str],
                                   Target]) -> list[Staged]:
    inputs, feeds, places, files, target = payload
    frames = make_frames(inputs, feeds)
    staged = []
    for feed, feed_frames, feed_places in zip(feeds, frames, places, strict=True):
        made: Staged = []
        for output in document_outputs(feed.archive):
            path = output.file(feed.path)
            data = feed_frames[path].join(_read(feed_places[output.name], files))
            made.append((path, stage_file(target.out, target.stage, path, data)))
        staged.append(made)
    return staged


def _read(places: list[Place], files: list[str]) -> list[bytes]:
    """The fragments at places, reading each run of adjacent ones at once."""
    fragments: list[bytes] = []
    start = 0
    while start < len(places):
        number, offset, _ = places[start]
        end, stop = start, offset
        while end < len(places) and places[end][0] == number and places[end][1] == stop:
            stop += places[end][2]
            end += 1
        descriptor = _readers.get(files[number])
        if descriptor is None:
            descriptor = _readers[files[number]] = os.open(files[number], os.O_RDONLY)
        data = memoryview(os.pread(descriptor, stop - offset, offset))
        if len(data) != stop - offset:
            raise OSError(f"{files[number]} is shorter than the fragment store says")
        at = 0
        for _, _, length in places[start:end]:
            fragments.append(bytes(data[at:at + length]))
            at += length
        start = end
    return fragments
