"""The settings table: every setting in one row, four sources in one order, errors that
name their source, and the digest of what a build's output depends on."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from frfeeds.config.fingerprint import build_digest
from frfeeds.config.loading import assemble, load_settings
from frfeeds.config.table import ROWS, TABLE, get, setting_fields
from frfeeds.errors import UsageError
from frfeeds.fingerprint import code_fingerprint
from frfeeds.query import Query
from frfeeds.settings import CustomFeed, Settings, Site, default_cache_dir


@pytest.fixture(autouse=True)
def no_config_here(tmp_path, monkeypatch):
    """No ./frfeeds.toml of the repository's or anyone's: each test its own folder."""
    monkeypatch.chdir(tmp_path)


def write_config(folder: Path, text: str, name: str = "frfeeds.toml") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_table_covers_every_setting_once():
    assert setting_fields() == set(ROWS)
    assert len(ROWS) == len(TABLE)
    names = [row.name for row in TABLE]
    assert len(set(names)) == len(names)
    options = [row.option for row in TABLE if row.option]
    assert len(set(options)) == len(options)
    assert {row.key for row in TABLE if not row.output} == {"records", "reload_interval", "memo_mib", "cache"} | {
        key for key in ROWS if key.startswith("deploy.")}


def test_todays_names_stay():
    """The environment variables, options and create_app keys that existed before the table."""
    assert {row.key: (row.variable, row.option, row.name) for row in TABLE if row.key in (
        "records", "base_url", "limit", "amp", "include_unpublished", "site.language", "reload_interval", "cache")} == {
        "records": ("FRFEEDS_RECORDS", "--records", "RECORDS"),
        "base_url": ("FRFEEDS_BASE_URL", "--base-url", "BASE_URL"),
        "limit": ("FRFEEDS_LIMIT", "--limit", "LIMIT"),
        "amp": ("FRFEEDS_AMP", "--no-amp", "AMP"),
        "include_unpublished": ("FRFEEDS_INCLUDE_UNPUBLISHED", "--include-unpublished", "INCLUDE_UNPUBLISHED"),
        "site.language": ("FRFEEDS_LANGUAGE", "--language", "LANGUAGE"),
        "reload_interval": ("FRFEEDS_RELOAD_INTERVAL", None, "RELOAD_INTERVAL"),
        "cache": ("FRFEEDS_CACHE", "--cache", "CACHE"),
    }


def test_nothing_given_is_the_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    settings = load_settings({})
    assert settings == Settings()
    assert settings.cache == tmp_path / "xdg" / "frfeeds" == default_cache_dir()
    assert settings.site.title == "News feeds" and settings.site.feed_title is None
    assert settings.site.language == "en" and settings.feeds.kinds == ("all", "topics", "providers")
    assert settings.feeds.min_entries == 1 and settings.reload_interval == 60


@pytest.mark.parametrize("key, file_value, env_value, option_value, expected", [
    ("limit", "limit = 7", "8", "9", (7, 8, 9)),
    ("site.language", '[site]\nlanguage = "fr"', "de", "it", ("fr", "de", "it")),
    ("amp", "amp = true", "false", False, (True, False, False)),
    ("base_url", 'base_url = "https://a.example/"', "https://b.example", "https://c.example/x/",
     ("https://a.example", "https://b.example", "https://c.example/x")),
])
def test_option_over_environment_over_file_over_default(tmp_path, key, file_value, env_value, option_value, expected):
    row = ROWS[key]
    config = write_config(tmp_path, file_value + "\n")
    assert get(load_settings({}, config=config), key) == expected[0]
    assert get(load_settings({row.variable: env_value}, config=config), key) == expected[1]
    assert get(load_settings({row.variable: env_value}, {key: option_value}, config=config), key) == expected[2]
    # "" and None: not given
    assert get(load_settings({row.variable: ""}, {key: None}, config=config), key) == expected[0]


def test_create_app_keys_are_the_options_of_the_app(tmp_path):
    given = {"limit": 3, "site.title": "My news", "reload_interval": 5, "cache": "off", "feeds.kinds": ["topics"]}
    settings = load_settings({"FRFEEDS_LIMIT": "4"}, given, app=True)
    assert (settings.limit, settings.site.title, settings.reload_interval) == (3, "My news", 5.0)
    assert settings.cache is None and settings.feeds.kinds == ("topics",)


def test_defaults_replace_the_tables_but_lose_to_every_source(tmp_path):
    """frfeeds serve: the base URL follows --port unless the environment or the file says."""
    port = {"base_url": "http://localhost:9000"}
    assert load_settings({}, defaults=port).base_url == "http://localhost:9000"
    config = write_config(tmp_path, 'base_url = "https://news.example"\n')
    assert load_settings({}, defaults=port, config=config).base_url == "https://news.example"
    assert load_settings({"FRFEEDS_BASE_URL": "https://env.example"}, defaults=port).base_url == "https://env.example"


@pytest.mark.parametrize("key, value, reason", [
    ("limit", "0", "must be between 1 and 10000, not 0"),
    ("limit", "ten", "must be a whole number, not 'ten'"),
    ("base_url", "ftp://x", "must be an absolute http(s) URL, not 'ftp://x'"),
    ("base_url", "https://", "has no valid host name: 'https://'"),
    ("amp", "maybe", "must be true or false, not 'maybe'"),
    ("reload_interval", "soon", "must be a number of seconds, not 'soon'"),
    ("reload_interval", "0", "must be between 0 and 86400 seconds, not '0'"),
    ("site.language", "en_US", "must be a language tag such as en or fr-CA, not 'en_US'"),
    ("site.url", "/home", "must be an absolute http(s) URL"),
    ("site.icon", "javascript:alert(1)", "must be an absolute http(s) URL"),
    ("site.title", "News\x07", "must not hold control characters"),
    ("site.feed_title", "{title}", "may name only {site} and {feed}, not {title}"),
    ("site.feed_title", "{feed!r}", "may name only {site} and {feed}"),
    ("site.feed_title", "{feed:>20}", "may name only {site} and {feed}"),
    ("site.feed_title", "{site} · {feed", "must be a template such as '{site} · {feed}'"),
    ("feeds.kinds", "all,videos", "must be some of all, topics, providers, not 'videos'"),
    ("feeds.min_entries", "0", "must be between 1 and 10000, not 0"),
    ("feeds.include_topics", "AI,!!", "'!!' has no letters or digits to name a topic"),
    ("hub", "https://hub.example,ftp://x", "must be an absolute http(s) URL, not 'ftp://x'"),
    ("now", "tomorrow", "must be a date and time such as 2026-12-06T10:00:00Z, not 'tomorrow'"),
])
def test_errors_name_the_option_the_variable_or_the_key(key, value, reason):
    row = ROWS[key]
    with pytest.raises(UsageError) as caught:
        load_settings({row.variable: value})
    assert str(caught.value).startswith(f"{row.variable} {reason}")
    with pytest.raises(UsageError) as caught:
        load_settings({}, {key: value}, app=True)
    assert str(caught.value).startswith(f"create_app {row.name} {reason}")
    if row.option and row.flag is None:
        with pytest.raises(UsageError) as caught:
            load_settings({}, {key: value})
        assert str(caught.value).startswith(f"{row.option} {reason}")


def test_hub_and_now_in_text():
    settings = load_settings({"FRFEEDS_HUB": " https://a.example/hub , https://b.example/ ,https://a.example/hub",
                              "FRFEEDS_NOW": "2026-12-06T12:00:00+02:00"})
    assert settings.hub == ("https://a.example/hub", "https://b.example/")
    assert settings.now is not None and settings.now.isoformat() == "2026-12-06T10:00:00+00:00"
    assert settings.render.hubs == settings.hub  # what renderers read, and feed digests cover
    assert load_settings({"FRFEEDS_NOW": "2026-12-06 10:00"}).now.tzinfo is not None  # no zone: UTC


def test_good_values_in_text():
    settings = load_settings({
        "FRFEEDS_FEEDS_KINDS": " providers, all ", "FRFEEDS_FEEDS_INCLUDE_TOPICS": "AI, Computer Vision, ai, All",
        "FRFEEDS_SITE_FEED_TITLE": "{site} · {feed} {{beta}}", "FRFEEDS_SITE_TITLE": "  Example   News ",
        "FRFEEDS_RELOAD_INTERVAL": "2.5", "FRFEEDS_AMP": "off", "FRFEEDS_SITE_URL": "https://news.example.org/",
    })
    assert settings.feeds.kinds == ("all", "providers")  # in catalog order, whatever the order given
    assert settings.feeds.include_topics == ("ai", "all-topic", "computer-vision")  # as Topic.slug names them
    assert settings.site.feed_title == "{site} · {feed} {{beta}}" and settings.site.title == "Example News"
    assert settings.reload_interval == 2.5 and settings.amp is False
    assert settings.site.url == "https://news.example.org/"


def test_the_cache_setting(tmp_path):
    assert load_settings({"FRFEEDS_CACHE": "off"}).cache is None
    assert load_settings({"FRFEEDS_CACHE": "OFF"}).cache is None
    assert load_settings({"FRFEEDS_CACHE": "rel/cache"}).cache == Path("rel/cache")
    assert load_settings({}, {"cache": Path("/x")}).cache == Path("/x")
    assert load_settings({}, {"cache": ""}, app=True).cache == default_cache_dir()  # create_app({"CACHE": ""})


def test_custom_feeds_from_create_app():
    settings = load_settings({}, {"feeds.custom": [
        {"slug": "ai-videos", "title": "AI videos", "topics": ["AI"], "types": ["video"]},
        {"slug": "fresh", "title": "This week", "description": "Anything new", "since": "7 days"},
    ]}, app=True)
    assert settings.feeds.custom == (
        CustomFeed("ai-videos", "AI videos", Query(topics=("ai",), types=("video",))),
        CustomFeed("fresh", "This week", Query.from_mapping({"since": "1 week"}), "Anything new"),
    )
    with pytest.raises(UsageError, match=r"^create_app FEEDS_CUSTOM\[1\]\.title is missing$"):
        load_settings({}, {"feeds.custom": [{"slug": "x", "topics": ["AI"]}]}, app=True)


def test_assemble_puts_sections_in_place():
    settings = assemble({"limit": 3, "site.title": "T", "feeds.min_entries": 2})
    assert settings.limit == 3 and settings.site == Site(title="T") and settings.feeds.min_entries == 2


def test_the_build_digest_follows_output_settings_only():
    base = Settings()
    digest = build_digest(base)
    for key, value in [("base_url", "https://other.example"), ("limit", 7), ("amp", False),
                       ("include_unpublished", True), ("site.title", "Other"), ("site.language", "de"),
                       ("site.feed_title", "{site}: {feed}"), ("feeds.min_entries", 3), ("feeds.kinds", ("topics",)),
                       ("feeds.custom", (CustomFeed("x", "X", Query(topics=("ai",))),))]:
        assert build_digest(assemble({key: value})) != digest, key
    for key, value in [("records", Path("elsewhere")), ("reload_interval", 5.0), ("cache", None)]:
        assert build_digest(assemble({key: value})) == digest, key


def test_the_build_digest_is_the_same_in_every_process(tmp_path):
    """No hash order reaches it: the same settings digest the same under any PYTHONHASHSEED."""
    config = write_config(tmp_path, """
[feeds]
include_topics = ["Azure", "AI", "Computer Vision"]
[[feeds.custom]]
slug = "mix"
title = "Mix"
topics = ["Power Apps", "AI", "Azure"]
providers = ["youtube.com", "cbsnews.com", "microsoft.com"]
""")
    script = ("import sys; from frfeeds.config.fingerprint import build_digest; "
              "from frfeeds.config.loading import load_settings; "
              "print(build_digest(load_settings({}, config=sys.argv[1])))")
    digests = {subprocess.run([sys.executable, "-c", script, str(config)], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2", "3")}
    assert len(digests) == 1 and len(digests.pop().strip()) == 32


def test_the_code_fingerprint_is_of_the_package_files(tmp_path):
    """The same bytes anywhere give the same fingerprint; one changed byte another."""
    import frfeeds

    package = Path(frfeeds.__file__).parent
    script = "from frfeeds.fingerprint import code_fingerprint; print(code_fingerprint())"

    def fingerprint(root):
        return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONPATH": str(root)}).stdout.strip()

    import shutil

    shutil.copytree(package, tmp_path / "copy" / "frfeeds", ignore=shutil.ignore_patterns("__pycache__"))
    assert fingerprint(tmp_path / "copy") == code_fingerprint()
    (tmp_path / "copy" / "frfeeds" / "render" / "opml.py").open("a").write("\n# one more line\n")
    assert fingerprint(tmp_path / "copy") != code_fingerprint()


def test_the_code_stamp_follows_the_package_files_sizes_and_mtimes(tmp_path):
    """The no-change shortcut's view of the code: a copy of the package stamps the same
    until a file's size or mtime changes; a file modified just now stamps "" (never
    trusted), as a record file is."""
    import shutil

    import frfeeds

    package = tmp_path / "copy"
    shutil.copytree(Path(frfeeds.__file__).parent, package / "frfeeds", ignore=shutil.ignore_patterns("__pycache__"))
    for path in (package / "frfeeds").rglob("*"):
        os.utime(path, (1_600_000_000, 1_600_000_000))
    script = "from frfeeds.fingerprint import code_stamp; print(code_stamp())"

    def stamp():
        return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONPATH": str(package)}).stdout.strip()

    first = stamp()
    assert len(first) == 32 and stamp() == first
    template = next((package / "frfeeds" / "render" / "templates").iterdir())
    os.utime(template, (1_600_000_001, 1_600_000_001))  # the same bytes, another mtime
    second = stamp()
    assert second not in (first, "")
    (package / "frfeeds" / "query.py").open("a").write("\n")  # modified now: too fresh to trust
    assert stamp() == ""
