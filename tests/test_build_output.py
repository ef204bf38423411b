"""The build command as users run it: same bytes every time, whole trees only, files
rewritten only when their bytes change, clear usage errors."""

import os
import shutil
import subprocess
import sys

import feedparser
import pytest
from helpers import SEEDS, build, record_text, run_cli, tree, write_record

from frfeeds.write import writer


@pytest.fixture
def corpus(generated):
    return generated


@pytest.mark.slow
def test_same_records_same_bytes_across_processes(tmp_path, corpus):
    trees = []
    for seed in ("1", "4242"):
        out = tmp_path / f"out-{seed}"
        result = run_cli("build", str(out), "--records", str(corpus),
                         env={"PYTHONHASHSEED": seed, "TZ": f"Etc/GMT-{seed[0]}"})
        assert result.returncode == 0, result.stderr
        trees.append(tree(out))
    assert len(trees[0]) > 100
    assert trees[0] == trees[1]


@pytest.mark.slow
def test_feed_updated_is_newest_entry_never_the_clock(tmp_path, corpus):
    out = tmp_path / "out"
    assert build(out, "--records", str(corpus)) == 0
    for path, data in tree(out).items():
        if path.endswith(".atom"):
            parsed = feedparser.parse(data)
            assert parsed.feed.updated_parsed == max(entry.updated_parsed for entry in parsed.entries), path
        elif path.endswith(".rss"):
            parsed = feedparser.parse(data)
            newest = max(entry.published_parsed for entry in parsed.entries)
            assert parsed.feed.updated_parsed >= newest and parsed.feed.updated_parsed.tm_year <= 2021, path


@pytest.mark.slow
def test_summary_line_counts_everything(tmp_path, corpus):
    result = run_cli("build", str(tmp_path / "out"), "--records", str(corpus))
    assert result.returncode == 0
    summary = result.stdout.strip().splitlines()[-1]
    assert summary.startswith("frfeeds: read 305 records, wrote ")
    for words in ("unpublished (published: false)", "duplicates (same webUrl)", "rejected 0", "values dropped 0"):
        assert words in summary
    assert "merged 0 duplicates" not in summary  # make_corpus repeats ~1% of stories


def leftovers(folder):
    """What a build left beside OUT but the stage it keeps (.OUT.frfeeds-new): the lock,
    a tree moved aside."""
    return [p.name for p in folder.iterdir() if p.name.endswith((".frfeeds-lock", ".frfeeds-old"))]


def snapshot(out):
    return {p: (os.stat(out / p).st_ino, os.stat(out / p).st_mtime_ns) for p in tree(out)}


def test_unchanged_files_are_not_rewritten(tmp_path):
    records = tmp_path / "records"
    write_record(records, "a.md", record_text(url="https://a.example/1", topics=("AI",)))
    write_record(records, "b.md", record_text(url="https://b.example/1", topics=("Robots",))
                 .replace("example.com", "b.example"))
    out = tmp_path / "out"
    assert build(out, "--records", str(records)) == 0
    before = snapshot(out)
    assert build(out, "--records", str(records)) == 0
    assert snapshot(out) == before, "a rebuild with no change touched files"

    write_record(records, "b.md", record_text(title="Changed", url="https://b.example/1", topics=("Robots",))
                 .replace("example.com", "b.example"))
    assert build(out, "--records", str(records)) == 0
    after = snapshot(out)
    changed = {path for path in after if after[path] != before.get(path)}
    # the feeds holding b.md, every file of each (its page too), and the index: its newest stories show b's title
    assert changed == {
        f"feeds/{name}.{ext}" for name in ("all", "robots", "providers/b.example")
        for ext in ("atom", "rss", "json", "html")
    } | {"index.html"}
    assert after["feeds/ai.atom"] == before["feeds/ai.atom"]


def test_feeds_that_disappear_are_removed(tmp_path):
    records = tmp_path / "records"
    write_record(records, "a.md", record_text(url="https://example.com/a", topics=("AI",)))
    extra = write_record(records, "b.md", record_text(url="https://example.com/b", topics=("Robots",)))
    out = tmp_path / "out"
    assert build(out, "--records", str(records)) == 0
    assert "feeds/robots.atom" in tree(out)
    extra.unlink()
    assert build(out, "--records", str(records)) == 0
    assert not any("robots" in path for path in tree(out))


def test_failed_write_leaves_previous_tree_whole(tmp_path, monkeypatch, capsys):
    records = tmp_path / "records"
    write_record(records, "a.md", record_text(url="https://example.com/a"))
    out = tmp_path / "out"
    assert build(out, "--records", str(records)) == 0
    before = tree(out)
    write_record(records, "b.md", record_text(url="https://example.com/b", topics=("New topic",)))

    real_open, calls = open, []

    def failing_open(path, mode="r", *args, **kwargs):
        if "x" in mode:
            calls.append(path)
            if len(calls) == 3:
                raise OSError(28, "No space left on device")
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr(writer, "open", failing_open, raising=False)
    capsys.readouterr()
    assert build(out, "--records", str(records)) == 1
    assert capsys.readouterr().err == (
        f"frfeeds: cannot write {out}: No space left on device "
        "(the previous tree is unchanged; free some space and build again)\n"
    )
    assert tree(out) == before
    assert leftovers(tmp_path) == [] and not (tmp_path / ".out.frfeeds-new").exists()  # a failed build's stage goes


# A build in its own process that SIGKILLs itself at the Nth file-system step of the
# write phase (a hard link, an unlink, a staged file, a rename): a real kill, at a chosen point.
KILLER = """
import builtins, os, signal, sys
import frfeeds.write.writer as writer
from frfeeds.cli import main

limit, mode = int(sys.argv[1]), sys.argv[2]
steps = [0]

def step(function):
    def wrapper(*args, **kwargs):
        if function is not builtins.open or "x" in (args[1] if len(args) > 1 else kwargs.get("mode", "")):
            steps[0] += 1
            if steps[0] == limit:
                os.kill(os.getpid(), signal.SIGKILL)
        return function(*args, **kwargs)
    return wrapper

writer.os.link, writer.os.rename, writer.open = step(os.link), step(os.rename), step(builtins.open)
writer.os.unlink, writer.os.rmdir = step(os.unlink), step(os.rmdir)
exchange = writer._exchange
writer._exchange = (lambda a, b: False) if mode == "fallback" else step(exchange)
sys.exit(main(sys.argv[3:]))
"""


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["exchange", "fallback"])
def test_killed_build_leaves_a_whole_tree(tmp_path, mode):
    records = tmp_path / "records"
    shutil.copytree(SEEDS, records)
    out = tmp_path / "out"
    assert build(out, "--records", str(records)) == 0
    old = tree(out)
    write_record(records, "new.md", record_text(url="https://example.com/new", topics=("Fresh",)))
    new_out = tmp_path / "expected"
    assert build(new_out, "--records", str(records)) == 0
    new = tree(new_out)
    assert new != old

    seen = set()
    for limit in range(1, 4 * len(new)):
        result = subprocess.run(
            [sys.executable, "-c", KILLER, str(limit), mode, "build", str(out), "--records", str(records)],
            capture_output=True, text=True, timeout=120,
        )
        if result.returncode == 0:  # fewer steps than limit: the build finished
            break
        assert result.returncode == -9, result.stderr
        if not out.exists():
            # only without renameat2: killed between its two renames, the old tree
            # waits whole beside, and the next build puts it back
            assert mode == "fallback"
            now = tree(tmp_path / ".out.frfeeds-old")
            assert now == old, f"killed at step {limit}: the moved-aside tree is not whole"
        else:
            now = tree(out)
        if now != old:
            assert now == new, f"killed at step {limit}: a mixed tree"
        seen.add("old" if now == old else "new")
        # the next build recovers from what was left (a stage half brought up to date):
        # a whole new tree and no leftovers
        assert build(out, "--records", str(records)) == 0
        assert tree(out) == new
        assert leftovers(tmp_path) == []
        shutil.rmtree(out)
        assert build(out, "--records", str(records)) == 0  # back to the old state, minus new.md
        (records / "new.md").rename(tmp_path / "new.md")
        assert build(out, "--records", str(records)) == 0
        assert tree(out) == old
        (tmp_path / "new.md").rename(records / "new.md")
    # with the exchange a kill leaves the new tree only after the swap (when the lock goes)
    assert seen == {"old", "new"} and limit > 5


def test_refuses_to_replace_a_folder_it_did_not_write(tmp_path, capsys):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    assert build(out, "--records", str(SEEDS)) == 2
    assert "not written by frfeeds" in capsys.readouterr().err
    assert (out / "thesis.tex").read_text() == "years of work"


@pytest.mark.parametrize(
    "args, message",
    [
        (["build", "OUT", "--limit", "0"], "--limit must be between 1 and"),
        (["build", "OUT", "--limit", "ten"], "--limit must be a whole number"),
        (["build", "OUT", "--base-url", "ftp://x"], "--base-url must be an absolute http(s) URL"),
        (["build", "OUT", "--records", "does/not/exist"], "records folder not found"),
        (["build", "OUT", "--frobnicate"], "unrecognized arguments"),
        (["build"], "required: out"),
        (["publish"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2_with_one_line(tmp_path, args, message):
    args = [str(tmp_path / "out") if arg == "OUT" else arg for arg in args]
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_environment_configures_the_build(tmp_path):
    result = run_cli("build", "out", cwd=tmp_path, env={
        "FRFEEDS_RECORDS": str(SEEDS), "FRFEEDS_BASE_URL": "https://news.example", "FRFEEDS_LIMIT": "1",
    })
    assert result.returncode == 0, result.stderr
    files = tree(tmp_path / "out")
    assert b"https://news.example/feeds/all.atom" in files["feeds/all.atom"]
    assert len(feedparser.parse(files["feeds/ai.atom"]).entries) == 1
    bad = run_cli("build", "out", cwd=tmp_path, env={"FRFEEDS_LIMIT": "many"})
    assert bad.returncode == 2 and "FRFEEDS_LIMIT must be a whole number" in bad.stderr


def test_default_records_folder_is_seeds(tmp_path):
    shutil.copytree(SEEDS, tmp_path / "seeds")
    result = run_cli("build", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "read 5 records" in result.stdout
