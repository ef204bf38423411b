"""frfeeds check: a build's report, nothing written."""

import os

from helpers import SEEDS, record_text, run_cli, write_record


def test_check_reports_what_a_build_reports_and_writes_nothing(tmp_path):
    records = tmp_path / "records"
    write_record(records, "bad.md", "---\ntitle: No link\npublishedDateTime: 2021-01-01\n---\n")
    write_record(records, "dropped.md", record_text(url="https://example.com/kept", extra='ampWebUrl: "javascript:x"'))
    cache = tmp_path / "cache"
    env = {"FRFEEDS_CACHE": str(cache)}
    checked = run_cli("check", "--records", str(records), env=env)
    assert checked.returncode == 1
    assert not cache.exists() and sorted(os.listdir(tmp_path)) == ["records"]  # no cache, no tree, no state
    built = run_cli("build", str(tmp_path / "out"), "--records", str(records), "--no-cache", env=env)
    assert built.returncode == 0
    assert checked.stderr == built.stderr  # the same path: field: reason lines
    assert checked.stderr.count("\n") == 2 and f"{records}/bad.md: webUrl: is missing" in checked.stderr
    counts = lambda out: out.split("; ", 1)[1]  # noqa: E731 - after what was done
    assert checked.stdout.startswith("frfeeds: checked 2 records, which make ")
    assert counts(checked.stdout) == counts(built.stdout)


def test_check_passes_clean_records_and_honours_the_config_file(tmp_path):
    assert run_cli("check", "--records", str(SEEDS)).returncode == 0
    (tmp_path / "frfeeds.toml").write_text(f'records = "{SEEDS}"\ninclude_unpublished = true\n')
    result = run_cli("check", cwd=tmp_path)
    assert result.returncode == 0 and "left out 0 unpublished" in result.stdout, result.stdout + result.stderr
