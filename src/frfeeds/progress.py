"""Progress on the terminal for builds longer than a couple of seconds (tqdm)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

#: Seconds before a bar appears: short builds stay silent.
DELAY = 2.0


@contextlib.contextmanager
def progress_bar(total: int, label: str, enabled: bool) -> Iterator[Callable[[int], object]]:
    """A callback advancing a bar on stderr (what it returns means nothing); a no-op unless
    enabled and stderr is a terminal."""
    if not enabled or total == 0 or not sys.stderr.isatty():
        yield lambda count: None
        return
    from tqdm import tqdm  # ~20 ms of imports, for a terminal only

    with tqdm(total=total, desc=label, unit=" files", delay=DELAY, leave=False, file=sys.stderr,
              mininterval=0.5, dynamic_ncols=True) as bar:
        yield bar.update
