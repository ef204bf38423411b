#!/usr/bin/env python3
"""Build benchmark: cold, no-change and one-record-changed builds against a plain parse.

    python benchmarks/build.py [N]        (default 100000 records)

Generates N records with ../shared/bench/make_corpus.py (kept in bench-data/ for reuse),
then in one run:

1. parse: libyaml's plain parse of the same files (read each file, yaml.load of its
   front matter with CSafeLoader), in one process: the yardstick. It is timed before
   and after the builds and the mean is used, since a shared machine's speed drifts
   (seen here: the same parse taking 17 s and 24 s a minute apart);
2. cold: ``frfeeds build`` with an empty parse cache and no previous tree;
3. no change: the same command again; checks that no file was rewritten;
4. one changed: one published record edited (its title), the command again; checks that
   exactly the files of the feeds holding that record changed (and index.html, which
   shows the newest stories);
5. one added: a copy of the newest record with a new link and a later date, the command
   again; checks that exactly the heads of its feeds and their newest archive documents
   changed (at a block boundary, the now full block's Atom and RSS too: its
   next-archive link), and index.html and feeds.opml.

Archives (``feeds.archives``) are on, as by default; the tree's archive documents are
counted in the output.

Each build runs as its own process, as a user runs it. For each, the wall time, its
ratio to the parse, and the peak resident memory of the build's whole process tree
(the command and its worker processes, sampled every 20 ms) are printed: PSS, which
shares the pages forked workers have in common with the parent among them, and the
plain sum of RSS, which counts those pages once per process.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MAKE_CORPUS = REPO.parent / "shared" / "bench" / "make_corpus.py"
DATA = REPO / "bench-data"


def corpus(n: int) -> Path:
    folder = DATA / f"records-{n}"
    if not folder.is_dir():
        subprocess.run([sys.executable, str(MAKE_CORPUS), str(n), str(folder)], check=True)
    return folder


def plain_parse(records: Path) -> tuple[float, int]:
    """Seconds for libyaml to parse every record file's front matter, in this process."""
    import yaml

    paths = sorted(str(p) for p in records.rglob("*.md"))
    start = time.perf_counter()
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        yaml.load(text[4:].partition("\n---\n")[0], Loader=yaml.CSafeLoader)
    return time.perf_counter() - start, len(paths)


def tree_memory_kib(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of a process and all its descendants, in KiB. RSS counts pages that
    forked workers share with the parent once per process; PSS divides shared pages
    among their sharers, so its sum is the memory the tree really holds."""
    rss = pss = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            rollup = Path(f"/proc/{current}/smaps_rollup").read_text().split()
            rss += int(rollup[rollup.index("Rss:") + 1])
            pss += int(rollup[rollup.index("Pss:") + 1])
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(child) for child in (task / "children").read_text().split())
        except (OSError, IndexError, ValueError):
            continue
    return rss, pss


def run_build(out: Path, records: Path, cache: Path) -> tuple[float, tuple[int, int], str]:
    """Run ``frfeeds build``; return seconds, peak tree (RSS, PSS) in KiB and its summary line."""
    command = [str(Path(sys.executable).parent / "frfeeds"), "build", str(out), "--records", str(records),
               "--cache", str(cache), "--quiet"]
    peak, done = [0, 0], threading.Event()
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def sample():
        while not done.is_set():
            rss, pss = tree_memory_kib(process.pid)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"build failed ({process.returncode}):\n{stderr}")
    return elapsed, (peak[0], peak[1]), stdout.strip().splitlines()[-1]


def snapshot(out: Path) -> dict[str, tuple[int, int, int]]:
    return {str(p.relative_to(out)): (p.stat().st_ino, p.stat().st_mtime_ns, p.stat().st_size)
            for p in out.rglob("*") if p.is_file() and p.name != ".frfeeds-tree"}


def newest_published(out: Path) -> str:
    """The id of the newest entry of feeds/all.json: in all, its topics' and its provider's feeds."""
    return json.loads((out / "feeds" / "all.json").read_text())["items"][0]["id"]


def feeds_holding(out: Path, url: str) -> set[str]:
    """The files of the feeds holding the story (each feed's four: Atom, RSS, JSON, its
    page), and index.html when the story is among the newest it shows."""
    holding = set()
    for path in out.rglob("*.json"):
        if any(item["id"] == url for item in json.loads(path.read_text())["items"]):
            stem = str(path.relative_to(out))[: -len(".json")]
            holding |= {f"{stem}.atom", f"{stem}.rss", f"{stem}.json", f"{stem}.html"}
    if f'href="{html.escape(url)}"' in (out / "index.html").read_text():
        holding.add("index.html")
    return holding


def archives_of(out: Path, feed: str) -> list[int]:
    """The numbers of a feed's archive documents (``feeds/ai`` -> [1, 2, ...])."""
    folder = out / f"{feed}" / "archive"
    return sorted(int(p.stem) for p in folder.glob("*.atom")) if folder.is_dir() else []


def added_expected(out: Path, url: str, before: dict[str, list[int]]) -> set[str]:
    """The files a new story should change: its feeds' heads and newest archive
    documents (and, when a new block started, the full one's Atom and RSS), the site pages."""
    expected = {"index.html", "feeds.opml"}
    for path in out.rglob("*.json"):
        if "/archive/" in str(path) or not any(item["id"] == url for item in json.loads(path.read_text())["items"]):
            continue
        feed = str(path.relative_to(out))[: -len(".json")]
        expected |= {f"{feed}.{ext}" for ext in ("atom", "rss", "json", "html")}
        numbers = archives_of(out, feed)
        if numbers:
            expected |= {f"{feed}/archive/{numbers[-1]}.{ext}" for ext in ("atom", "rss", "json")}
            if numbers[-1] not in before.get(feed, []) and numbers[-1] > 1:
                expected |= {f"{feed}/archive/{numbers[-1] - 1}.{ext}" for ext in ("atom", "rss")}
    return expected


def find_record(records: Path, url: str) -> Path:
    needle = f'webUrl: "{url}"'
    for path in records.rglob("*.md"):
        text = path.read_text()
        if needle in text and "published: true" in text:
            return path
    raise SystemExit(f"no published record with webUrl {url}")


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    records = corpus(n)
    work = DATA / f"build-{n}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    out, cache = work / "out", work / "cache"

    parse_before, files = plain_parse(records)
    print(f"{files} records, {sum(p.stat().st_size for p in records.rglob('*.md')) / 1e6:.0f} MB, "
          f"{os.cpu_count()} cores")
    print(f"  {'plain libyaml parse, before':<34} {parse_before:7.2f} s")
    results = []

    def report(label: str, seconds: float, memory: tuple[int, int], summary: str) -> None:
        results.append((label, seconds, memory, summary))

    report("cold build (empty cache)", *run_build(out, records, cache))

    before = snapshot(out)
    seconds, rss, summary = run_build(out, records, cache)
    report("rebuild, nothing changed", seconds, rss, summary)
    rewritten = [path for path, stamp in snapshot(out).items() if before.get(path) != stamp]
    checks = f"  nothing changed: {len(rewritten)} files rewritten\n"

    url = newest_published(out)
    expected = feeds_holding(out, url)
    record = find_record(records, url)
    original = record.read_text()
    record.write_text(original.replace('title: "', 'title: "Updated: ', 1))
    try:
        before = snapshot(out)
        seconds, rss, summary = run_build(out, records, cache)
        report("rebuild, one record changed", seconds, rss, summary)
        after = snapshot(out)
        changed = {path for path, stamp in after.items() if before.get(path) != stamp}
        checks += (f"  one changed: {len(changed)} files changed, expected the {len(expected)} files of the feeds "
                   f"holding {url}: {'right' if changed == expected else 'WRONG: ' + str(sorted(changed ^ expected))}")
    finally:
        record.write_text(original)

    # a new story, newer than every other: a copy of the newest one, another link, a later
    # date (make_corpus dates stories 2019-2021), in the past: a future one is held back
    added = records / "zz-benchmark-added.md"
    new_url = url.rstrip("/") + "-benchmark-added"
    text = original.replace(f'webUrl: "{url}"', f'webUrl: "{new_url}"', 1)
    date = next(line for line in text.splitlines() if line.startswith("publishedDateTime:"))
    text = text.replace(date, "publishedDateTime: 2022-01-01T00:00:00Z", 1)
    feeds = {str(p.relative_to(out))[: -len(".json")] for p in out.rglob("*.json") if "/archive/" not in str(p)}
    blocks = {feed: archives_of(out, feed) for feed in feeds}
    added.write_text(text)
    try:
        before = snapshot(out)
        seconds, rss, summary = run_build(out, records, cache)
        report("rebuild, one record added", seconds, rss, summary)
        after = snapshot(out)
        changed = {path for path, stamp in after.items() if before.get(path) != stamp}
        expected = added_expected(out, new_url, blocks)
        verdict = "right" if changed == expected else "WRONG: " + str(sorted(changed ^ expected))
        checks += (f"\n  one added: {len(changed)} files changed, expected {len(expected)} (heads and newest archive "
                   f"blocks of its feeds): {verdict}")
    finally:
        added.unlink()
    archives = sum(1 for p in out.rglob("*.atom") if "/archive/" in str(p))
    checks += f"\n  archive documents in the tree: {archives} (x3 formats)"

    parse_after, _ = plain_parse(records)
    parse = (parse_before + parse_after) / 2
    print(f"  {'plain libyaml parse, after':<34} {parse_after:7.2f} s")
    print(f"  {'plain libyaml parse, mean: 1.000':<34} {parse:7.2f} s")
    for label, seconds, (rss, pss), summary in results:
        print(f"  {label:<34} {seconds:7.2f} s   {seconds / parse:.3f}x   "
              f"peak PSS {pss / 1024:5.0f} MiB (RSS summed {rss / 1024:5.0f} MiB)")
        print(f"    {summary}")
    print(checks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
