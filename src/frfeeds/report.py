"""What a build read and left out: ``BuildReport``, the summary line and the problem lines
that ``frfeeds build`` and ``frfeeds check`` print, and the tree's state replays."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import astuple, dataclass, fields
from pathlib import Path

from frfeeds.errors import RecordError

TYPE_CHECKING = False  # as typing's, which a no-change build does not import (mypy takes it as True)
if TYPE_CHECKING:  # a no-change build replays a report without planning anything
    from frfeeds.plan import Plan
    from frfeeds.read.loader import Loaded

#: What the tree's state keeps of a build's report (writer.Manifest): what marshal stores of it.
Fact = int | str | tuple["Fact", ...]
Facts = tuple[Fact, ...]


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What a build wrote: files changed, files kept as they were, files removed."""

    written: int
    unchanged: int
    removed: int
    #: The tree paths whose bytes changed (written), sorted: what a WebSub hub is told of.
    changed: tuple[str, ...] = ()


#: One reported problem: (path inside the records folder, field, reason).
Problem = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build read and wrote: the summary line and the problem lines."""

    #: Record files read (valid and rejected).
    records: int
    feeds: int
    #: Left out for ``published: false``.
    unpublished: int
    #: Left out for ``removed: true``.
    removed: int
    #: Records merged into another with the same webUrl.
    duplicates: int
    #: Lists cut at their design cap (counted, never reported per record).
    capped: int
    #: Files rejected, and values dropped from records that were kept.
    rejected: tuple[Problem, ...]
    dropped: tuple[Problem, ...]
    #: Provider feeds whose logo was left out: site-relative, and no site.url to resolve
    #: it against. Reported, but no fault of the record: --strict and check pass them.
    logos: tuple[Problem, ...] = ()
    #: Records held back until their publication date (``held until ...``): not a fault,
    #: --strict and check pass them.
    scheduled: tuple[Problem, ...] = ()
    #: When the first of them is due (RFC 3339), "": none. A build replaying this report
    #: from then on would miss it: build() builds again.
    next_publication: str = ""
    #: What was written this time; None in the state a no-change build replays.
    written: WriteResult | None = None

    def facts(self) -> Facts:
        """The report without what was written: what the tree's state keeps."""
        return astuple(self)[:-1]

    def due(self, now: dt.datetime) -> bool:
        """Whether a story this report held back is due at now."""
        return bool(self.next_publication) and dt.datetime.fromisoformat(self.next_publication) <= now

    @classmethod
    def from_facts(cls, facts: Facts, written: WriteResult) -> BuildReport:
        names = [field.name for field in fields(cls)][:-1]
        if len(facts) != len(names):
            raise ValueError("a report of another shape")
        return cls(**dict(zip(names, facts, strict=True)), written=written)  # type: ignore[arg-type]  # checked by shape


def report_of(loaded: Loaded, plan: Plan, records: Path) -> BuildReport:
    """What a load of the records folder and its plan found, as a report (nothing written yet)."""
    selection, root = plan.selection, str(records)

    def problems(found: Iterable[RecordError]) -> tuple[Problem, ...]:
        return tuple((os.path.relpath(p.path, root).replace(os.sep, "/"), p.field, p.reason) for p in found)

    return BuildReport(
        records=loaded.files, feeds=len(plan.feeds), unpublished=selection.unpublished, removed=selection.removed,
        duplicates=selection.duplicates, capped=len(loaded.capped),
        rejected=problems(loaded.rejected), dropped=problems(loaded.dropped), logos=_logos_left_out(plan),
        scheduled=tuple(sorted((record.path, "publishedDateTime", f"held until {_rfc3339(record.published_at)}")
                               for record in selection.scheduled)),
        next_publication=selection.next_publication.isoformat() if selection.next_publication else "",
    )


def _rfc3339(when: dt.datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def _logos_left_out(plan: Plan) -> tuple[Problem, ...]:
    """One line per provider feed that shows no logo, or another one, because the logo it
    would show (its newest entry's) is site-relative and site.url is unset: the record
    to look at and the fix (set site.url, or make the URL absolute). One per feed, not
    per record: a generated 20,000-record folder has 1,174 such records in 146 feeds."""
    from frfeeds.render.masthead import unresolved_logos

    lines = []
    for feed in plan.feeds:
        if feed.kind != "provider":
            continue
        with_logo = [entry for entry in feed.entries if entry.provider.logo]
        left_out = list(unresolved_logos(with_logo, plan.render.site))
        if left_out and left_out[0] is with_logo[0]:
            more = f" (and from {len(left_out) - 1} more of its entries)" if len(left_out) > 1 else ""
            lines.append((left_out[0].path, "provider.images",
                          f"site-relative logo {left_out[0].provider.logo!r} left out of {feed.path}{more}: "
                          "set site.url to resolve it against, or give an absolute URL"))
    return tuple(sorted(lines))
