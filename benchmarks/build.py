#!/usr/bin/env python3
"""Build benchmark: frfeeds beside Hugo on the same records, as issue 18 measures them.

    python benchmarks/build.py [N ...] [--runs R] [--keep]     (default: 1000 10000 100000; R = 3)

For each N, generates N records with ../shared/bench/make_corpus.py (kept in bench-data/
for reuse), converts them for Hugo with ../shared/bench/hugo_site.py (bench-data/hugo-N),
then times, R runs each, every run its own process as a user runs it:

1. Hugo cold: ``hugo --quiet -s bench-data/hugo-N``, into an empty destination and cache
   folder (Hugo writes RSS only; frfeeds Atom, RSS and JSON Feed, pages, OPML, an index).
   Without ``hugo`` on the PATH, a line says so and frfeeds' figures stand alone;
2. cold: ``frfeeds build`` with an empty parse cache and no tree, each run;
3. nothing changed: the same command again; checks that no file was rewritten;
4. one edited: the newest published record's title edited (another title each run);
   checks that exactly the files of the feeds holding it changed (and index.html);
5. one added: a copy of the newest record with a new link and a later date, removed
   again after each run (that rebuild untimed); checks that exactly the heads of its
   feeds and their newest archive documents changed (at a block boundary, the now full
   block's Atom and RSS too: its next-archive link), and index.html and feeds.opml.

Each figure is the median of the runs: wall seconds, CPU seconds (user + system, the
workers' included) and the ratio to Hugo's cold build, beside the issue's target. Peak
memory is the largest over the runs of the build's process tree (the command and its
workers): the summed RSS of its processes, which the issue's target is about, sampled
every 20 ms from /proc/PID/statm, and PSS beside it (shared pages divided among their
sharers: what the tree really holds), sampled every half second, or sooner when RSS
grew by a tenth, from smaps_rollup, which costs the kernel a walk of every page table
(read every 20 ms, it took ~40% of a core from a large build and from Hugo: the
measured programs' own time on a 2-core machine). Last, the disk used by the records,
the parse cache and the tree.

The package is byte-compiled first, as an installed one is: a PYTHONDONTWRITEBYTECODE
environment would otherwise compile every module on every run.

Nothing is deleted while runs are timed: a cold run's previous tree and cache are moved
aside (``discard``) and deleted after the last size. On ext4 without a journal (this
project's benchmark machine), an inode freed in the last one to six minutes is not
reused, and each new file's inode search steps past every such inode
(``recently_deleted`` in ext4's ialloc.c): deleting a 2,680-file tree before the next
cold run made that run's file creations ~20x slower (0.9 ms instead of 0.04 ms each; perf
shows the time in ``find_inode_bit``), a cost of the benchmark, not of a build (a CI
runner or a first deploy starts without a tree just deleted).
"""

from __future__ import annotations

import argparse
import compileall
import html
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO.parent / "shared" / "bench"
DATA = REPO / "bench-data"
FRFEEDS = Path(sys.executable).parent / "frfeeds"
MIB = 1024 * 1024


@dataclass
class Runs:
    """One kind of build's runs: wall and CPU seconds, peak memory (KiB)."""

    label: str
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)
    pss: list[int] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)


def targets(n: int) -> dict[str, float]:
    """The issue's targets, as ratios to Hugo's cold build at the same size (and the
    peak of summed RSS in MiB)."""
    if n <= 1_000:
        return {"cold": 1.5, "no change": 0.5, "one edited": 0.5}
    if n < 100_000:
        return {"cold": 0.8, "no change": 0.05, "one edited": 0.1}
    return {"cold": 0.8, "no change": 0.05, "one edited": 0.05, "rss": 1024 if n >= 1_000_000 else 400}


def corpus(n: int) -> Path:
    folder = DATA / f"records-{n}"
    if not folder.is_dir():
        subprocess.run([sys.executable, str(BENCH / "make_corpus.py"), str(n), str(folder)], check=True)
    return folder


def hugo_site(n: int, records: Path) -> Path:
    """bench-data/hugo-N, converted once (into a temporary folder, renamed when whole)."""
    site = DATA / f"hugo-{n}"
    if not (site / "config.toml").is_file():
        partial = Path(tempfile.mkdtemp(prefix=f".hugo-{n}-", dir=DATA))
        subprocess.run([sys.executable, str(BENCH / "hugo_site.py"), str(records), str(partial)], check=True)
        try:
            partial.rename(site)
        except OSError:  # converted meanwhile by another run
            shutil.rmtree(partial)
    return site


PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024
#: Seconds between two PSS samples; RSS is sampled every 20 ms.
PSS_EVERY = 0.5


def tree_pids(pid: int) -> list[int]:
    """A process and all its descendants."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(child) for child in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return found


def tree_rss_kib(pids: list[int]) -> int:
    """Summed RSS of processes, in KiB: /proc/PID/statm, a few counters the kernel keeps
    (cheap to read every 20 ms, unlike smaps)."""
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KIB
        except (OSError, IndexError, ValueError):
            continue
    return total


def tree_pss_kib(pids: list[int]) -> int:
    """Summed PSS of processes, in KiB: /proc/PID/smaps_rollup, which walks every page
    table of the process (at 100,000 records, reading it every 20 ms took ~40% of a
    core from the 2-core machine's build: hence sampled every PSS_EVERY seconds)."""
    total = 0
    for pid in pids:
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text().split()
            total += int(rollup[rollup.index("Pss:") + 1])
        except (OSError, IndexError, ValueError):
            continue
    return total


def timed(runs: Runs, command: list[str], env: dict[str, str] | None = None) -> str:
    """Run a command, add its wall and CPU seconds and peak tree memory to runs; return
    the last line it printed."""
    peak, done = [0, 0], threading.Event()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, **(env or {})})

    def sample() -> None:
        last_pss, rss_at_pss = 0.0, 0
        while not done.is_set():
            pids = tree_pids(process.pid)
            rss = tree_rss_kib(pids)
            peak[0] = max(peak[0], rss)
            # PSS again after PSS_EVERY, or sooner when RSS grew by a tenth since (a short build)
            if time.perf_counter() - last_pss >= PSS_EVERY or rss > rss_at_pss * 1.1:
                peak[1] = max(peak[1], tree_pss_kib(pids))
                last_pss, rss_at_pss = time.perf_counter(), rss
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({process.returncode}):\n{stderr}")
    runs.wall.append(elapsed)
    runs.cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    runs.rss.append(peak[0])
    runs.pss.append(peak[1])
    lines = stdout.strip().splitlines()
    return lines[-1] if lines else ""


def snapshot(out: Path) -> dict[str, tuple[int, int, int]]:
    found = {}
    for folder, _, files in os.walk(out):
        for name in files:
            info = os.stat(os.path.join(folder, name))
            found[os.path.relpath(os.path.join(folder, name), out)] = (info.st_ino, info.st_mtime_ns, info.st_size)
    found.pop(".frfeeds-tree", None)
    return found


def changed_since(out: Path, before: dict[str, tuple[int, int, int]]) -> set[str]:
    after = snapshot(out)
    return {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}


def heads(out: Path) -> list[Path]:
    """Every feed's JSON head (not its archive documents)."""
    return [path for path in out.rglob("*.json") if "archive" not in path.relative_to(out).parts]


def holding(out: Path, url: str) -> list[str]:
    """The feeds (``feeds/ai``) whose head holds the story."""
    return [str(path.relative_to(out))[: -len(".json")] for path in heads(out)
            if any(item["id"] == url for item in json.loads(path.read_text())["items"])]


def edited_expected(out: Path, url: str) -> set[str]:
    """The files an edit of the newest story changes: the four of each feed holding it
    (Atom, RSS, JSON, its page), and index.html, which shows the newest stories."""
    expected = {f"{feed}.{ext}" for feed in holding(out, url) for ext in ("atom", "rss", "json", "html")}
    if f'href="{html.escape(url)}"' in (out / "index.html").read_text():
        expected.add("index.html")
    return expected


def archives_of(out: Path, feed: str) -> list[int]:
    """The numbers of a feed's archive documents (``feeds/ai`` -> [1, 2, ...])."""
    folder = out / feed / "archive"
    return sorted(int(p.stem) for p in folder.glob("*.atom")) if folder.is_dir() else []


def added_expected(out: Path, url: str, before: dict[str, list[int]]) -> set[str]:
    """The files a new story changes: its feeds' heads and newest archive documents
    (and, when a new block started, the full one's Atom and RSS), the site pages."""
    expected = {"index.html", "feeds.opml"}
    for feed in holding(out, url):
        expected |= {f"{feed}.{ext}" for ext in ("atom", "rss", "json", "html")}
        numbers = archives_of(out, feed)
        if numbers:
            expected |= {f"{feed}/archive/{numbers[-1]}.{ext}" for ext in ("atom", "rss", "json")}
            if numbers[-1] not in before.get(feed, []) and numbers[-1] > 1:
                expected |= {f"{feed}/archive/{numbers[-1] - 1}.{ext}" for ext in ("atom", "rss")}
    return expected


def verdict(changed: set[str], expected: set[str]) -> str:
    return "right" if changed == expected else "WRONG: " + str(sorted(changed ^ expected)[:10])


def find_record(records: Path, url: str) -> Path:
    needle = f'webUrl: "{url}"'
    for path in records.rglob("*.md"):
        text = path.read_text()
        if needle in text and "published: true" in text:
            return path
    raise SystemExit(f"no published record with webUrl {url}")


def disk_bytes(folder: Path) -> int:
    """Bytes a folder takes on disk (blocks; a file hard-linked twice counted once)."""
    seen, total = set(), 0
    for root, _, files in os.walk(folder):
        for name in files:
            info = os.lstat(os.path.join(root, name))
            if (info.st_dev, info.st_ino) not in seen:
                seen.add((info.st_dev, info.st_ino))
                total += info.st_blocks * 512
    return total


def discard(folder: Path, work: Path) -> None:
    """Move folder (if there) into work's discarded/, which is deleted after the last
    size's runs: deleting it now would slow the next run's file creations (see the top)."""
    if folder.exists():
        bin_ = work / "discarded"
        bin_.mkdir(exist_ok=True)
        folder.rename(bin_ / f"{folder.name}-{sum(1 for _ in bin_.iterdir())}")


def bench_hugo(n: int, records: Path, work: Path, count: int) -> Runs | None:
    if shutil.which("hugo") is None:
        print("  hugo is not installed: skipping Hugo (apt-get install hugo), frfeeds figures only", flush=True)
        return None
    site = hugo_site(n, records)
    runs = Runs("Hugo cold")
    for _ in range(count):
        public, cache = work / "hugo-public", work / "hugo-cache"
        for folder in (public, cache):
            discard(folder, work)
        timed(runs, ["hugo", "--quiet", "--noBuildLock", "-s", str(site), "-d", str(public), "--cacheDir", str(cache)])
    return runs


def bench_frfeeds(records: Path, work: Path, count: int) -> list[Runs]:
    out, cache = work / "out", work / "cache"
    command = [str(FRFEEDS), "build", str(out), "--records", str(records), "--cache", str(cache), "--quiet"]

    def build(runs: Runs | None = None) -> str:
        return timed(runs or Runs("untimed"), command)

    cold = Runs("cold")
    for _ in range(count):
        for folder in (out, cache):
            discard(folder, work)
        summary = build(cold)
    cold.checks.append(summary)

    same = Runs("no change")
    for _ in range(count):
        before = snapshot(out)
        build(same)
        same.checks.append(f"{len(changed_since(out, before))} files rewritten")

    url = json.loads((out / "feeds" / "all.json").read_text())["items"][0]["id"]
    record = find_record(records, url)
    original = record.read_text()
    expected = edited_expected(out, url)
    edited = Runs("one edited")
    try:
        for run in range(1, count + 1):
            record.write_text(original.replace('title: "', f'title: "Updated {run}: ', 1))
            before = snapshot(out)
            build(edited)
            edited.checks.append(f"{verdict(changed_since(out, before), expected)} ({len(expected)} files)")
    finally:
        record.write_text(original)
    build()

    # a new story, newer than every other: a copy of the newest one, another link, a later
    # date (make_corpus dates stories 2019-2021), in the past: a future one is held back
    added = records / "zz-benchmark-added.md"
    new_url = url.rstrip("/") + "-benchmark-added"
    text = original.replace(f'webUrl: "{url}"', f'webUrl: "{new_url}"', 1)
    date = next(line for line in text.splitlines() if line.startswith("publishedDateTime:"))
    text = text.replace(date, "publishedDateTime: 2022-01-01T00:00:00Z", 1)
    blocks = {feed: archives_of(out, feed) for feed in (str(p.relative_to(out))[: -len(".json")] for p in heads(out))}
    one_added = Runs("one added")
    try:
        for _ in range(count):
            added.write_text(text)
            before = snapshot(out)
            build(one_added)
            one_added.checks.append(verdict(changed_since(out, before), added_expected(out, new_url, blocks)))
            added.unlink()
            build()
    finally:
        added.unlink(missing_ok=True)
    archives = sum(1 for p in out.rglob("*.atom") if "archive" in p.relative_to(out).parts)
    one_added.checks.append(f"archive documents in the tree: {archives} (x3 formats)")
    return [cold, same, edited, one_added]


def report(n: int, hugo: Runs | None, results: list[Runs], aims: dict[str, float]) -> None:
    """The table: medians, each frfeeds build's ratios to Hugo's cold build (wall, which
    the targets are about, and CPU, steadier on a shared machine), peak memory."""
    base = (statistics.median(hugo.wall), statistics.median(hugo.cpu)) if hugo else None
    rows = ([hugo] if hugo else []) + results
    print(f"  {'':<12}{'wall':>8}{'CPU':>8}   {'vs Hugo: wall':<14}{'target':<13}{'CPU':<8}peak RSS summed (PSS)")
    for runs in rows:
        wall, cpu = statistics.median(runs.wall), statistics.median(runs.cpu)
        ratio = target = cpu_ratio = ""
        if base and runs is not hugo:
            ratio, cpu_ratio = f"{wall / base[0]:.3f}x", f"{cpu / base[1]:.3f}x"
            if runs.label in aims:
                target = f"<={aims[runs.label]:g}x " + ("ok" if wall / base[0] <= aims[runs.label] else "MISS")
        print(f"  {runs.label:<12}{wall:7.2f}s{cpu:7.2f}s   {ratio:<14}{target:<13}{cpu_ratio:<8}"
              f"{max(runs.rss) / 1024:4.0f} MiB ({max(runs.pss) / 1024:.0f} MiB)")
    if "rss" in aims:
        peak = max(max(runs.rss) for runs in results) / 1024
        print(f"  peak summed RSS of any frfeeds build: {peak:.0f} MiB, target <= {aims['rss']:g} MiB: "
              f"{'ok' if peak <= aims['rss'] else 'MISS'}")
    for runs in results:
        print(f"  {runs.label}: " + "; ".join(runs.checks))


def bench_size(n: int, work: Path, runs: int) -> float:
    """Hugo's and frfeeds' runs on n records, in work; the median cold build's wall time."""
    records = corpus(n)
    files = [path for path in records.rglob("*") if path.is_file()]
    print(f"{len(files):,} records ({sum(p.stat().st_size for p in files) / 1e6:.0f} MB), {os.cpu_count()} cores, "
          f"median of {runs} runs", flush=True)
    hugo = bench_hugo(n, records, work, runs)
    # edited and added in a copy (mtimes kept): other runs may be reading the corpus
    copy = work / "records"
    shutil.copytree(records, copy)
    results = bench_frfeeds(copy, work, runs)
    report(n, hugo, results, targets(n))
    used = [("records", copy), ("parse cache", work / "cache"), ("tree", work / "out")]
    print("  on disk: " + ", ".join(f"{name} {disk_bytes(folder) / MIB:,.0f} MiB" for name, folder in used))
    return statistics.median(results[0].wall)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1_000, 10_000, 100_000], help="records (N ...)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each build, at least 3 (default 3)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the records' copy, the trees and the caches (bench-data/run-N-*)")
    args = parser.parse_args()
    if args.runs < 3:
        parser.error("--runs: at least 3, for a median")
    compileall.compile_dir(REPO / "src" / "frfeeds", quiet=1)
    cold: dict[int, float] = {}
    works: list[Path] = []
    try:
        for n in args.sizes:
            works.append(Path(tempfile.mkdtemp(prefix=f"run-{n}-", dir=DATA)))
            cold[n] = bench_size(n, works[-1], args.runs)
    finally:
        if not args.keep:
            for work in works:
                shutil.rmtree(work, ignore_errors=True)
    if 100_000 in cold and 1_000_000 in cold:
        ratio = cold[1_000_000] / cold[100_000]
        print(f"cold build at 1,000,000 records: {ratio:.1f}x the 100,000 one, target <= 11x: "
              f"{'ok' if ratio <= 11 else 'MISS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
