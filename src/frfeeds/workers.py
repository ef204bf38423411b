"""Worker processes, one per core, started the safe way for this process; and the
garbage collector settings for making many objects. (multiprocessing is imported when a
pool is made: a rebuild with nothing to do needs none.)"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
from collections.abc import Callable, Iterator

TYPE_CHECKING = False  # as typing's, which a no-change build does not import (mypy takes it as True)
if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

#: Modules that parsing records imports on first need (clean.py for a text to repair, a
#: date, a host or a slug to transliterate; frontmatter.py for a document the block
#: reader leaves to libyaml): imported before a pool forks, so that its workers inherit
#: them as the rest of the parent's modules rather than each importing them again.
FORK_PRELOADS = ("ftfy", "dateutil.parser", "idna", "anyascii", "frfeeds.read.yamlload")


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def can_fork() -> bool:
    """Forking is safe in a process with one thread (the CLI, gunicorn's master while it
    preloads); a threaded one (an app worker reloading) could deadlock its children."""
    import multiprocessing

    return threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()


@contextlib.contextmanager
def process_pool(workers: int, fork: bool | None = None) -> Iterator[ProcessPoolExecutor]:
    """A pool that forks when that is safe (fast, nothing imported again), else spawns.

    Before forking, FORK_PRELOADS are imported, and the parent's objects are frozen out
    of the cyclic collector (as the gc module's documentation advises): collections in
    the children then never walk, nor copy-on-write, the 100,000 summaries and file
    entries they inherit.
    """
    import importlib
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    fork = can_fork() if fork is None else fork
    if fork:
        for name in FORK_PRELOADS:
            importlib.import_module(name)
        gc.freeze()
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork" if fork else "spawn"),
                                 initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
            yield pool
    finally:
        if fork:
            gc.unfreeze()


#: Work items (files to parse, entries to render) from which a pool already running
#: takes the work: below, its messages cost more than the second core gives back.
POOL_MIN_RUNNING = 200


class Workers:
    """A build's worker processes: started on first use (``pool()``), shared by its
    steps (parsing, rendering), ended with the build.

    A cold build starts them for its parse, while this process is small: forked later,
    after 100,000 records are loaded, every worker would map (and its RSS count) the
    whole heap. ``prepare`` runs once before they start (imports the workers will need,
    so that each does not import them again)."""

    def __init__(self, size: int, prepare: Callable[[], None] | None = None) -> None:
        self.size = size
        self._prepare = prepare
        self._stack = contextlib.ExitStack()
        self._pool: ProcessPoolExecutor | None = None

    def pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            if self._prepare is not None:
                self._prepare()
            self._pool = self._stack.enter_context(process_pool(self.size))
        return self._pool

    @property
    def running(self) -> bool:
        return self._pool is not None

    def threshold(self, to_start: int) -> int:
        """How many items of work go to the pool: to_start when it would be started for
        them (forking and the workers' first imports cost), fewer once it runs (a cold
        build starts it first: then 1,000 records are parsed and rendered on every core)."""
        return min(to_start, POOL_MIN_RUNNING) if self.running else to_start

    def wanted(self, items: int, to_start: int) -> bool:
        """Whether items of work are worth the pool (see threshold)."""
        return self.size > 1 and items >= self.threshold(to_start)

    def start(self) -> None:
        """Start the worker processes now (a pool forks them on its first task)."""
        if self.size > 1:
            self.pool().submit(int).result()

    def stop(self) -> None:
        """End the worker processes now (a later pool() starts new ones): a build's last
        steps (pages, state, the swap) need none, and idle workers still hold memory."""
        self._stack.close()
        self._pool = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()


def die_with_parent(parent: int) -> None:
    """Pool initializer: end this worker when the process that started it ends.

    A build killed outright (SIGKILL, the OOM killer, a cancelled CI job) runs no exit
    handlers, and its workers, blocked on a queue whose other end they hold themselves,
    would live on as orphans. Linux's PR_SET_PDEATHSIG has the kernel kill the worker
    when its parent dies; the getppid check covers a parent that died before the call.
    Elsewhere this does nothing more than that check.
    """
    import ctypes
    import ctypes.util
    import signal

    name = ctypes.util.find_library("c")
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(name, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


_PR_SET_PDEATHSIG = 1


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic collector off for a worker's burst of allocation (a chunk of YAML
    documents or feeds makes millions of short-lived objects, next to no cycles), then
    one collection of the young generations, where all the burst's objects are, so that
    garbage stays bounded. Parsing runs ~15% faster.

    Not a full collection: that walks every object the worker holds for good (its
    modules, the codec's shared providers and topics, the YAML reader's memo), which grow
    with the records seen. After every task, the workers of a cold build of 1,000,000
    records spent 36 s of CPU in it (py-spy: 725 samples at 20 Hz), 18x what 100,000
    records cost; the old generation is left to the collector's own schedule."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect(1)


@contextlib.contextmanager
def gc_off() -> Iterator[None]:
    """Python's cyclic collector off for a build in this process, and no collection
    after: a build's data (file list, summaries, plan) is ~1,000,000 objects with no
    cycles, which the collector would walk again and again as they are made (~12% of a
    rebuild's time at 100,000 records), and a CLI process ends right after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
