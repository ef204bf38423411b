"""``frfeeds check``: read and validate every record, as a build would, and write nothing.

For the people who edit records: a pre-commit hook or a CI step that prints the build's
``path: field: reason`` lines and counts without touching a feed tree or the parse cache.
"""

from __future__ import annotations

import datetime as dt

from frfeeds.plan import plan_site
from frfeeds.read.loader import load_records
from frfeeds.report import BuildReport, report_of
from frfeeds.settings import Settings
from frfeeds.workers import gc_off


def check_records(settings: Settings, now: dt.datetime | None = None) -> BuildReport:
    """The report a build of these settings would give at ``now``, from a fresh parse of
    every file (None: settings.now, else nothing is held back as scheduled)."""
    with gc_off():
        loaded = load_records(settings.records)
        return report_of(loaded, plan_site(settings, loaded.summaries, now or settings.now), settings.records)
