"""The served records' snapshot (serve/snapshot.py): what the load read, out of the heap,
in a read-only shared mapping."""

import sys
from pathlib import Path

import pytest
from helpers import SEEDS

from frfeeds.app import create_app
from frfeeds.plan import plan_site
from frfeeds.read.loader import load_records
from frfeeds.serve.snapshot import Snapshot
from frfeeds.settings import Settings


def test_the_snapshot_gives_what_the_load_read():
    loaded = load_records(SEEDS)
    paths = [summary.path for summary in loaded.summaries]
    snapshot = Snapshot.write(loaded, paths + paths[:1])
    assert len(snapshot) == len(paths) >= 5
    assert snapshot.encoded(reversed(paths)) == loaded.encoded(reversed(paths))
    assert snapshot.encoded([]) == {} and len(Snapshot.empty()) == 0
    with pytest.raises(KeyError):
        snapshot.encoded(["not/a/record.md"])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="memfd and /proc are Linux's")
def test_the_app_holds_the_published_records_in_a_read_only_shared_memory_file():
    app = create_app({"RECORDS": str(SEEDS), "RELOAD_INTERVAL": 3600, "CACHE": "off"})
    tree = app.extensions["frfeeds"].tree
    assert len(tree.held) == len(plan_site(Settings(records=SEEDS), load_records(SEEDS).summaries, None)
                                 .selection.records) > 0
    maps = [line.split() for line in Path("/proc/self/maps").read_text().splitlines() if "frfeeds-snapshot" in line]
    assert maps and all(fields[1] == "r--s" for fields in maps)  # read-only, shared: no copy at a fork
