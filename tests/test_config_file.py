"""frfeeds.toml: found, read and checked as a user meets it, by the command and the app;
``frfeeds init``; and a changed renderer making a rebuild re-render its feeds."""

import json
import os
import re
import shutil
from pathlib import Path

import feedparser
import pytest
from helpers import REPO, SEEDS, run_cli, tree

from frfeeds.app import create_app
from frfeeds.config.loading import load_settings
from frfeeds.config.starter import starter_file
from frfeeds.config.table import ROWS, TABLE, get
from frfeeds.settings import Settings

FULL = """
records = "records"
base_url = "https://news.example.org/feeds/"
limit = 2
amp = false
include_unpublished = true
reload_interval = 30
memo_mib = 64
cache = "cache"
hub = ["https://hub.example.org/", "https://hub.example.org/"]
now = 2026-12-06T10:00:00Z

[site]
title = "Example News"
description = "Stories worth reading"
url = "https://news.example.org/"
language = "fr-CA"
icon = "https://news.example.org/icon.png"
logo = "https://news.example.org/logo.png"
author = "Example News Ltd"
rights = "© 2021 Example News"
feed_title = "{site} · {feed}"

[feeds]
kinds = ["all", "topics"]
min_entries = 2
include_topics = ["AI", "computer-vision"]
exclude_topics = ["Robots"]
archives = false
archive_size = 20

[[feeds.custom]]
slug = "ai-videos"
title = "AI videos"
description = "Videos on AI"
topics = ["AI"]
types = ["video"]

[[feeds.custom]]
slug = "good-azure"
title = "Azure and Power Apps, quality 60 or more"
topics = ["Azure", "Power Apps"]
min_quality = 60
since = "30 days"

[deploy]
target = "s3://news-feeds/site/"
endpoint = "http://127.0.0.1:9000/"
region = "auto"
max_deletes = 5
max_delete_percent = 50
"""


@pytest.fixture
def site(tmp_path):
    """A publisher's folder: the config file beside its records."""
    folder = tmp_path / "site"
    shutil.copytree(SEEDS, folder / "records")
    (folder / "frfeeds.toml").write_text(FULL, encoding="utf-8")
    return folder


def test_every_key_of_a_full_file_is_read(site):
    settings = load_settings({}, config=site / "frfeeds.toml")
    assert settings.records == site / "records" and settings.cache == site / "cache"
    assert settings.memo_mib == 64
    assert (settings.base_url, settings.limit, settings.amp, settings.include_unpublished,
            settings.reload_interval) == (
        "https://news.example.org/feeds", 2, False, True, 30.0)
    assert settings.site.title == "Example News" and settings.site.feed_title == "{site} · {feed}"
    assert settings.site.url == "https://news.example.org/" and settings.site.rights == "© 2021 Example News"
    assert settings.feeds.kinds == ("all", "topics") and settings.feeds.min_entries == 2
    assert settings.feeds.include_topics == ("ai", "computer-vision") and settings.feeds.exclude_topics == ("robots",)
    assert settings.feeds.archives is False and settings.feeds.archive_size == 20
    assert [feed.slug for feed in settings.feeds.custom] == ["ai-videos", "good-azure"]
    assert settings.feeds.custom[1].query.canonical() == "min_quality=60&since=30d&topics=azure,power-apps"
    assert (settings.deploy.target, settings.deploy.endpoint, settings.deploy.region) == (
        "s3://news-feeds/site", "http://127.0.0.1:9000", "auto")
    assert (settings.deploy.max_deletes, settings.deploy.max_delete_percent) == (5, 50)
    assert settings.hub == ("https://hub.example.org/",)
    assert settings.now is not None and settings.now.isoformat() == "2026-12-06T10:00:00+00:00"
    assert set(ROWS) == set(_keys(FULL)), "FULL must set every key"


def _keys(text):
    section = ""
    for line in text.splitlines():
        if line.startswith("["):
            section = line.strip("[]")
            if section == "feeds.custom":
                yield section
        elif "=" in line and section != "feeds.custom":
            yield f"{section}.{line.split('=')[0].strip()}".lstrip(".")


def test_the_file_configures_a_build_from_anywhere(site, tmp_path):
    """Relative paths in the file are relative to the file, wherever the command runs."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # FRFEEDS_CACHE empty is no FRFEEDS_CACHE: the file's cache key holds
    result = run_cli("build", "out", "--config", str(site / "frfeeds.toml"), cwd=elsewhere, env={"FRFEEDS_CACHE": ""})
    assert result.returncode == 0, result.stderr
    assert "read 5 records" in result.stdout and "left out 0 unpublished" in result.stdout
    files = tree(elsewhere / "out")
    feed = json.loads(files["feeds/all.json"])
    assert feed["language"] == "fr-CA" and len(feed["items"]) == 2  # limit 2, unpublished included
    assert feed["feed_url"] == "https://news.example.org/feeds/feeds/all.json"
    assert b"amphtml" not in files["feeds/all.atom"]
    assert any(name.startswith("tree-") for name in os.listdir(site / "cache"))  # the file's cache folder


def test_the_file_in_the_current_folder_and_frfeeds_config(site, tmp_path):
    result = run_cli("build", "out", cwd=site)
    assert result.returncode == 0, result.stderr
    assert json.loads(tree(site / "out")["feeds/all.json"])["language"] == "fr-CA"
    other = tmp_path / "other.toml"
    other.write_text(f'records = "{SEEDS}"\n[site]\nlanguage = "de"\n', encoding="utf-8")
    result = run_cli("build", "out2", cwd=site, env={"FRFEEDS_CONFIG": str(other)})  # instead of ./frfeeds.toml
    assert result.returncode == 0, result.stderr
    assert json.loads(tree(site / "out2")["feeds/ai.json"])["language"] == "de"
    result = run_cli("build", "out3", "--config", str(site / "frfeeds.toml"), cwd=site,
                     env={"FRFEEDS_CONFIG": str(other)})
    assert json.loads(tree(site / "out3")["feeds/all.json"])["language"] == "fr-CA"  # --config wins


def test_environment_and_options_beat_the_file(site):
    result = run_cli("build", "out", "--limit", "1", cwd=site, env={"FRFEEDS_LANGUAGE": "de", "FRFEEDS_LIMIT": "3"})
    assert result.returncode == 0, result.stderr
    feed = json.loads(tree(site / "out")["feeds/all.json"])
    assert feed["language"] == "de" and len(feed["items"]) == 1


@pytest.mark.parametrize("text, message", [
    ('limit = "ten"', "limit: must be a whole number, not 'ten'"),
    ("limit = 0", "limit: must be between 1 and 10000, not 0"),
    ('amp = "no"', "amp: must be true or false, not 'no'"),
    ("records = 5", "records: must be a folder, not int"),
    ('[site]\ntitel = "News"', "site.titel: unknown key; did you mean site.title?"),
    ('[site]\nlangage = "en"', "site.langage: unknown key; did you mean site.language?"),
    ('base_ur = "https://x.example"', "base_ur: unknown key; did you mean base_url?"),
    ('[feeds]\nkind = ["all"]', "feeds.kind: unknown key; did you mean feeds.kinds?"),
    ('[output]\nfolder = "x"', "output: unknown key"),
    ('site = "News"', "site: must be a table ([site]), not 'News'"),
    ('[site]\nurl = "news.example.org"', "site.url: must be an absolute http(s) URL, not 'news.example.org'"),
    ('base_url = "ftp://files.example"', "base_url: must be an absolute http(s) URL, not 'ftp://files.example'"),
    ('[site]\nlanguage = "en_US"', "site.language: must be a language tag such as en or fr-CA, not 'en_US'"),
    ('[site]\nfeed_title = "{site} - {name}"', "site.feed_title: may name only {site} and {feed}, not {name}"),
    ('[feeds]\nkinds = "topics"', "feeds.kinds: must be a list, not 'topics'"),
    ('[feeds]\nkinds = ["topic"]', "feeds.kinds: must be some of all, topics, providers, not 'topic'"),
    ("[feeds]\nmin_entries = 2.5", "feeds.min_entries: must be a whole number, not float"),
    ('[feeds]\ncustom = "ai"', "feeds.custom: must be a list of tables ([[feeds.custom]]), not 'ai'"),
    ('[[feeds.custom]]\nslug = "ai"\ntitel = "AI"', "feeds.custom[1].titel: unknown key; did you mean title?"),
    ('[[feeds.custom]]\nslug = "ai"\ntopics = ["AI"]', "feeds.custom[1].title: is missing"),
    ('[[feeds.custom]]\nslug = "AI Videos"\ntitle = "x"\ntopics = ["AI"]',
     "feeds.custom[1].slug: must be a feed name of lowercase letters, digits and '-' (ai-videos), not 'AI Videos'"),
    ('[[feeds.custom]]\nslug = "all"\ntitle = "x"\ntopics = ["AI"]',
     "feeds.custom[1].slug: 'all' is taken by the feed tree (all, providers)"),
    ('[[feeds.custom]]\nslug = "a"\ntitle = "A"\ntopics = ["AI"]\n'
     '[[feeds.custom]]\nslug = "a"\ntitle = "B"\ntypes = ["video"]',
     "feeds.custom[2].slug: 'a' names another custom feed too"),
    ('[[feeds.custom]]\nslug = "a"\ntitle = "A"', "feeds.custom[1]: selects every record: give at least one of"),
    ('[[feeds.custom]]\nslug = "a"\ntitle = "A"\nsince = "a month"',
     "feeds.custom[1].since: must be an age such as '30 days', '12 hours' or '2 weeks', not 'a month'"),
    ('[[feeds.custom]]\nslug = "a"\ntitle = "A"\nmin_quality = "60"',
     "feeds.custom[1].min_quality: must be a whole number"),
    ('[[feeds.custom]]\nslug = "a"\ntitle = "A"\ntopic = ["AI"]',
     "feeds.custom[1].topic: unknown key; did you mean topics?"),
    ("limit = ", "is not valid TOML: Invalid value (at line 1, column 9)"),
    ("limit = 1\nlimit = 2", "is not valid TOML"),
])
def test_a_bad_file_is_one_line_naming_the_file_the_key_and_the_reason(tmp_path, text, message):
    (tmp_path / "frfeeds.toml").write_text(text + "\n", encoding="utf-8")
    shutil.copytree(SEEDS, tmp_path / "seeds")
    result = run_cli("build", "out", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == f"frfeeds: error: frfeeds.toml: {message}\n" or (
        result.stderr.startswith(f"frfeeds: error: frfeeds.toml: {message}") and result.stderr.count("\n") == 1
    ), result.stderr
    assert not (tmp_path / "out").exists()


def test_a_named_file_must_exist_and_be_text(tmp_path):
    result = run_cli("build", "out", "--config", "missing.toml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "frfeeds: error: missing.toml: cannot be read: No such file or directory\n"
    result = run_cli("build", "out", cwd=tmp_path, env={"FRFEEDS_CONFIG": str(tmp_path / "gone.toml")})
    assert result.returncode == 2 and "gone.toml: cannot be read: No such file or directory" in result.stderr
    (tmp_path / "latin1.toml").write_bytes(b'[site]\ntitle = "Caf\xe9"\n')
    result = run_cli("build", "out", "--config", "latin1.toml", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr == "frfeeds: error: latin1.toml: is not UTF-8 text\n"


def test_the_app_reads_the_file_too(site, monkeypatch):
    app = create_app({"CONFIG": str(site / "frfeeds.toml"), "CACHE": "off"})
    feed = json.loads(app.test_client().get("/feeds/all.json").data)
    assert feed["language"] == "fr-CA" and len(feed["items"]) == 2
    assert app.extensions["frfeeds"].interval == 30
    monkeypatch.setenv("FRFEEDS_CONFIG", str(site / "frfeeds.toml"))
    app = create_app({"LIMIT": 1, "CACHE": "off"})  # a create_app key wins over the file
    assert len(json.loads(app.test_client().get("/feeds/all.json").data)["items"]) == 1
    monkeypatch.delenv("FRFEEDS_CONFIG")
    monkeypatch.chdir(site)  # ./frfeeds.toml
    assert create_app({"CACHE": "off"}).extensions["frfeeds"].settings.site.title == "Example News"


def test_a_bad_file_stops_the_app_with_its_message(tmp_path):
    from frfeeds.errors import UsageError

    (tmp_path / "bad.toml").write_text('[site]\ntitel = "x"\n', encoding="utf-8")
    with pytest.raises(UsageError, match=r"bad.toml: site.titel: unknown key; did you mean site.title\?$"):
        create_app({"CONFIG": str(tmp_path / "bad.toml")})


def test_init_writes_a_starter_file_and_never_overwrites(tmp_path):
    result = run_cli("init", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    path = tmp_path / "frfeeds.toml"
    assert path.read_text(encoding="utf-8") == starter_file()
    path.write_text("# mine\n", encoding="utf-8")
    result = run_cli("init", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr == (
        "frfeeds: error: frfeeds.toml exists already; frfeeds init never overwrites a file\n")
    assert path.read_text(encoding="utf-8") == "# mine\n"
    (tmp_path / "sub").mkdir()
    assert run_cli("init", "sub", cwd=tmp_path).returncode == 0 and (tmp_path / "sub" / "frfeeds.toml").exists()
    assert run_cli("init", "other.toml", cwd=tmp_path).returncode == 0 and (tmp_path / "other.toml").exists()


def test_the_starter_file_loads_as_the_defaults_and_so_does_every_line_uncommented(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = starter_file()
    (tmp_path / "frfeeds.toml").write_text(text, encoding="utf-8")
    assert load_settings({}) == Settings()
    for row in TABLE:  # every key is in it, with its variable
        name = row.key.rpartition(".")[2]
        assert re.search(rf"^# {re.escape(name)} = ", text, re.MULTILINE) or row.key == "feeds.custom", row.key
        assert row.variable is None or row.variable in text
    uncommented = re.sub(r"^# (\[\[feeds\.custom\]\]|[a-z_]+ = )", r"\1", text, flags=re.MULTILINE)
    (tmp_path / "frfeeds.toml").write_text(uncommented, encoding="utf-8")
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = load_settings({})
    for row in TABLE:  # the lines showing a default give it
        if row.example is None and row.key != "feeds.custom":
            assert get(settings, row.key) == row.default(), row.key
    assert settings.records == Path("seeds") and settings.cache == tmp_path / ".cache" / "frfeeds"
    assert [feed.slug for feed in settings.feeds.custom] == ["ai-videos"]


def test_the_readme_documents_every_key_and_variable():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configure", 1)[1].split("\n## ", 1)[0]
    for row in TABLE:
        assert f"`{row.key}`" in section, row.key
        assert row.variable is None or f"`{row.variable}`" in section, row.variable
    assert "frfeeds init" in section and "`FRFEEDS_CONFIG`" in section


def test_the_readmes_example_file_loads(tmp_path):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    example = readme.split("## Configure", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    config = tmp_path / "frfeeds.toml"
    config.write_text(example, encoding="utf-8")
    settings = load_settings({}, config=config)
    assert settings.site.title == "Example News" and len(settings.feeds.custom) == 2
    assert settings.feeds.custom[1].query.canonical() == "min_quality=60&since=30d&topics=azure,power-apps"


def test_a_changed_renderer_re_renders_its_feeds(tmp_path):
    """The build digest holds the package's code: editing a renderer on a copy of the
    package and rebuilding rewrites the feeds it renders (and only those)."""
    import frfeeds

    records = tmp_path / "records"
    shutil.copytree(SEEDS, records)
    for path in records.iterdir():  # old enough for the build state to be trusted
        os.utime(path, (1_600_000_000, 1_600_000_000))
    package = tmp_path / "copy"
    shutil.copytree(Path(frfeeds.__file__).parent, package / "frfeeds", ignore=shutil.ignore_patterns("__pycache__"))
    env = {"PYTHONPATH": str(package), "FRFEEDS_CACHE": str(tmp_path / "cache")}
    out = tmp_path / "out"

    def build():
        result = run_cli("build", str(out), "--records", str(records), env=env)
        assert result.returncode == 0, result.stderr
        return re.search(r"(\d+) changed", result.stdout)[1], tree(out)

    changed, before = build()
    assert changed == "22" and build()[0] == "0"  # 5 feeds of 3 formats and a page, index.html, feeds.opml
    renderer = package / "frfeeds" / "render" / "jsonfeed.py"
    source = renderer.read_text(encoding="utf-8")
    assert '"title": head.title,' in source
    renderer.write_text(source.replace('"title": head.title,', '"title": head.title + " (edited)",'), encoding="utf-8")
    changed, after = build()  # the file was just modified: a build state is not trusted yet (code_stamp)
    assert changed == "5"  # the five JSON feeds
    renderer.write_text(source.replace('"title": head.title,', '"title": head.title + " (again)",'), encoding="utf-8")
    os.utime(renderer, (1_600_000_000, 1_600_000_000))  # an old mtime: the state is trusted, and its stamp differs
    changed, after = build()
    assert changed == "5"  # the five JSON feeds
    assert json.loads(after["feeds/all.json"])["title"] == "All news (again)"
    assert {path for path in before if before[path] != after[path]} == {p for p in before if p.endswith(".json")}
    assert feedparser.parse(after["feeds/all.atom"]).feed.title == "All news"
