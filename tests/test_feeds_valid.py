"""Every feed validates with the real tools: jing + atom.rnc, feedparser, the JSON Feed
schema, listparser; on the seeds, the real corpus and a generated corpus."""

import re
import subprocess
import sys

import pytest
from helpers import SEEDS, build, check_tree_valid, run_cli, shared_path, tree


def test_seeds_build_valid_feeds(tmp_path, atom_schema, json_feed_validator):
    out = tmp_path / "out"
    assert build(out, "--records", str(SEEDS)) == 0
    counts = check_tree_valid(out, atom_schema, json_feed_validator)
    # all + 2 topics (AI, Computer Vision) + 2 providers with published records
    assert counts == {"atom": 5, "rss": 5, "json": 5}
    expected = {"feeds/all.atom", "feeds/ai.atom", "feeds/computer-vision.rss", "feeds/providers/cbsnews.com.json"}
    assert expected <= set(tree(out))


def test_seeds_with_unpublished_build_valid_feeds(tmp_path, atom_schema, json_feed_validator):
    out = tmp_path / "out"
    assert build(out, "--records", str(SEEDS), "--include-unpublished") == 0
    counts = check_tree_valid(out, atom_schema, json_feed_validator)
    assert counts["atom"] == 1 + 2 + 5  # all, two topics, five providers


@pytest.mark.slow
def test_real_corpus_builds_valid_feeds_for_every_topic_and_provider(tmp_path, atom_schema, json_feed_validator):
    records = shared_path("corpus", "records")
    out = tmp_path / "out"
    result = run_cli("build", str(out), "--records", str(records), "--include-unpublished")
    assert result.returncode == 0, result.stderr
    check_tree_valid(out, atom_schema, json_feed_validator)
    rejected = [line for line in result.stderr.splitlines() if line.strip()]
    for line in rejected:  # every report names the file, the field and the reason
        path, field, reason = line.split(": ", 2)
        assert path.startswith(str(records)) and field and reason
    summary = result.stdout.strip().splitlines()[-1]
    counted = re.search(r"rejected (\d+), values dropped (\d+), long lists cut \d+ ", summary)
    assert counted and int(counted[1]) + int(counted[2]) == len(rejected), summary

    # every topic and every provider of the records that were kept has its feed
    import yaml

    files = set(tree(out))
    for path in sorted(records.rglob("*.md")):
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig").split("\n---", 1)[0].lstrip("-\n"))
        if str(path) in result.stderr or data.get("removed"):  # removed: out even with --include-unpublished
            continue
        domain = data["provider"]["domain"].lower().removeprefix("www.")
        assert f"feeds/providers/{domain}.atom" in files, path
        for topic in data.get("topics") or []:
            slug = "-".join("".join(c if c.isalnum() else " " for c in topic.lower().replace(".", "")).split())
            assert f"feeds/{slug}.atom" in files, (path, topic)


@pytest.mark.slow
def test_generated_corpus_builds_valid_feeds(tmp_path, make_corpus, atom_schema, json_feed_validator):
    records = tmp_path / "records"
    subprocess.run([sys.executable, str(make_corpus), "600", str(records)], check=True, capture_output=True)
    out = tmp_path / "out"
    assert build(out, "--records", str(records), "--limit", "20") == 0
    counts = check_tree_valid(out, atom_schema, json_feed_validator)
    assert counts["atom"] > 25  # all + topics + many providers
