"""The publisher's identity (settings.site) in every feed, the OPML and the pages; feed
icons: the site's for topic and all feeds, the provider's logo for provider feeds."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from urllib.parse import urljoin

import feedparser
import listparser
import pytest
import yaml
from helpers import SEEDS, build, check_tree_valid, record_text, shared_path, tree, write_record
from test_catalog_units import summary

from frfeeds.catalog import Feed
from frfeeds.render.masthead import masthead, provider_logo, resolve
from frfeeds.settings import Settings, Site

BASE = "https://feeds.example.org"
SITE = {
    "title": "Example News",
    "description": "Stories worth reading, from every source we follow",
    "url": "https://news.example.org/",
    "language": "en-GB",
    "icon": "https://news.example.org/icon.png",
    "logo": "https://news.example.org/logo.png",
    "author": "Example News & Co",
    "rights": "© 2021 Example News & Co",
    "feed_title": "{site} · {feed}",
}
#: The test site config: every identity key, a "&" to escape in author and rights.
CONFIG = "[site]\n" + "".join(f"{key} = {json.dumps(value, ensure_ascii=False)}\n" for key, value in SITE.items())


def site_config(folder: Path, drop: tuple[str, ...] = ()) -> Path:
    path = folder / "frfeeds.toml"
    path.write_text("\n".join(line for line in CONFIG.splitlines() if line.split(" =")[0] not in drop) + "\n",
                    encoding="utf-8")
    return path


def build_site(records: Path, out: Path, config: Path) -> None:
    assert build(out, "--records", str(records), "--config", str(config), "--base-url", BASE, "-q") == 0


def feed_names(files: dict[str, bytes]) -> list[str]:
    return sorted({path.rsplit(".", 1)[0] for path in files if path.startswith("feeds/")})


def check_identity(files: dict[str, bytes]) -> dict[str, str | None]:
    """Every feed of a tree built with CONFIG carries the identity in all three formats;
    returns each provider feed's icon (None: none) for the caller to check."""
    provider_icons = {}
    for name in feed_names(files):
        atom = feedparser.parse(files[f"{name}.atom"]).feed
        rss = feedparser.parse(files[f"{name}.rss"]).feed
        document = json.loads(files[f"{name}.json"])
        own = document["title"].removeprefix("Example News · ")
        title = f"Example News · {own}"
        assert own != document["title"] and atom.title == rss.title == title, name
        assert atom.subtitle == rss.description == document["description"] != SITE["description"]
        assert atom.author_detail == {"name": SITE["author"], "href": SITE["url"]}
        assert atom.rights == rss.rights == SITE["rights"]  # RSS <copyright>
        assert re.search(r'<feed [^>]*xml:lang="en-GB"', files[f"{name}.atom"].decode())
        assert rss.language == document["language"] == "en-GB"
        alternate = [link.href for link in atom.links if link.rel == "alternate"]
        assert alternate == [SITE["url"]] and rss.link == document["home_page_url"] == SITE["url"]
        assert document["authors"] == [{"name": SITE["author"], "url": SITE["url"]}]
        assert re.search(r"<dc:creator>Example News &amp; Co</dc:creator>", files[f"{name}.rss"].decode())
        icon = document.get("icon")
        assert document.get("favicon") == icon and atom.get("icon") == icon
        if icon:  # RSS <image>: the channel's title and link, as RSS 2.0 asks
            assert rss.image.title == title and rss.image.link == SITE["url"]
        if name.startswith("feeds/providers/"):
            provider_icons[name] = icon
            assert atom.get("logo") == icon and (rss.image.href == icon if icon else "image" not in rss)
        else:
            assert icon == SITE["icon"] and atom.logo == rss.image.href == SITE["logo"]
    opml = listparser.parse(files["feeds.opml"])
    assert opml.meta.title == SITE["title"] and opml.meta.author == {"name": SITE["author"]}
    titles = {json.loads(files[f"{name}.json"])["title"] for name in feed_names(files)}
    assert {feed.title for feed in opml.feeds} == titles
    index = files["index.html"].decode()
    for text in ('<html lang="en-GB">', "<title>Example News</title>", "<h1>Example News</h1>",
                 f'<link rel="icon" href="{SITE["icon"]}">', SITE["description"], "© 2021 Example News &amp; Co",
                 f'<img class="logo" src="{SITE["logo"]}" alt="" height="32">'):
        assert text in index, text
    return provider_icons


def test_the_site_config_reaches_every_feed_the_opml_and_the_pages(tmp_path, atom_schema, json_feed_validator,
                                                                    capsys):
    out = tmp_path / "out"
    build_site(SEEDS, out, site_config(tmp_path))
    files = tree(out)
    check_tree_valid(out, atom_schema, json_feed_validator)  # jing, feedparser, JSON schema with formats, listparser
    icons = check_identity(files)
    # nytimes.com's logo is site-relative: resolved against site.url, nothing reported
    assert icons == {"feeds/providers/cbsnews.com": None,
                     "feeds/providers/nytimes.com": "https://news.example.org/assets/images/organizations/nytimes.com-50x50.jpg"}
    captured = capsys.readouterr()
    assert captured.err == "" and "logos left out" not in captured.out
    page = files["feeds/providers/nytimes.com.html"].decode()
    assert f'<link rel="icon" href="{icons["feeds/providers/nytimes.com"]}">' in page
    assert "<title>Example News · New York Times</title>" in page and "<h1>New York Times</h1>" in page


def test_without_site_url_a_relative_logo_is_left_out_and_reported(tmp_path, capsys):
    out = tmp_path / "out"
    build_site(SEEDS, out, site_config(tmp_path, drop=("url",)))
    files = tree(out)
    document = json.loads(files["feeds/providers/nytimes.com.json"])
    assert "icon" not in document and b"<icon>" not in files["feeds/providers/nytimes.com.atom"]
    assert document["home_page_url"] == f"{BASE}/feeds/providers/nytimes.com.html"  # no site.url: the page
    captured = capsys.readouterr()
    assert captured.err == (
        f"{SEEDS}/001_4e232ba6522a9cca.txt: provider.images: site-relative logo "
        "'/assets/images/organizations/nytimes.com-50x50.jpg' left out of feeds/providers/nytimes.com: "
        "set site.url to resolve it against, or give an absolute URL\n")
    assert "values dropped 0, " in captured.out and captured.out.rstrip().endswith(
        ", provider logos left out 1 (site-relative, and no site.url)")
    assert build(out, "--records", str(SEEDS), "--config", str(tmp_path / "frfeeds.toml"), "--strict", "-q") == 0
    assert "provider logos left out 1" in capsys.readouterr().out  # replayed by the no-change build


def test_without_a_config_no_identity_is_added(tmp_path):
    out = tmp_path / "out"
    assert build(out, "--records", str(SEEDS), "--base-url", BASE, "-q") == 0
    files = tree(out)
    for name in feed_names(files):
        document = json.loads(files[f"{name}.json"])
        assert not {"icon", "favicon", "authors"} & set(document)
        assert document["home_page_url"] == f"{BASE}/{name}.html"
        for ext in ("atom", "rss"):
            for element in (b"<icon>", b"<logo>", b"<image>", b"<author>\n", b"<rights>", b"<copyright>"):
                assert element not in files[f"{name}.{ext}"].split(b"<entry>")[0].split(b"<item>")[0], (name, element)


def test_a_provider_feed_shows_the_newest_usable_logo(tmp_path, capsys):
    records = tmp_path / "records"
    logo = lambda url: f"  images:\n    - url: {json.dumps(url)}\n"  # noqa: E731
    def story(name, date, url):
        text = record_text(url=f"https://example.com/{name}", date=date)
        with_logo = "  domain: example.com\n" + (logo(url) if url else "")
        write_record(records, f"{name}.md", text.replace("  domain: example.com\n", with_logo))
    story("newest", "2021-05-20T00:00:00Z", None)  # no logo: the next one's counts
    story("relative", "2021-05-19T00:00:00Z", "/img/relative.png")  # no site.url: not usable
    story("absolute", "2021-05-18T00:00:00Z", "https://cdn.example.com/logo.png")
    story("older", "2021-05-17T00:00:00Z", "https://cdn.example.com/older.png")
    story("oldest", "2021-05-16T00:00:00Z", "/img/oldest.png")
    out = tmp_path / "out"
    assert build(out, "--records", str(records), "-q") == 0
    assert json.loads(tree(out)["feeds/providers/example.com.json"])["icon"] == "https://cdn.example.com/logo.png"
    captured = capsys.readouterr()  # one line for the feed, naming the record whose logo it would show
    assert captured.err == (f"{records}/relative.md: provider.images: site-relative logo '/img/relative.png' left out "
                            "of feeds/providers/example.com (and from 1 more of its entries): set site.url to resolve "
                            "it against, or give an absolute URL\n")
    assert "provider logos left out 1 " in captured.out
    config = tmp_path / "frfeeds.toml"
    config.write_text('[site]\nurl = "https://news.example.org/sub/"\n')
    assert build(out, "--records", str(records), "--config", str(config), "-q") == 0
    files = tree(out)
    assert json.loads(files["feeds/providers/example.com.json"])["icon"] == "https://news.example.org/img/relative.png"
    assert capsys.readouterr().err == ""
    assert "icon" not in json.loads(files["feeds/all.json"])  # no site.icon: the all feed has none


def test_masthead_units():
    site = Site(url="https://news.example.org/a/", icon="https://news.example.org/i.png")
    assert resolve("/x%20y.png", site) == "https://news.example.org/x%20y.png"
    assert resolve("/x.png", Site()) is None and resolve("https://a.example/x.png", Site()) == "https://a.example/x.png"
    when = dt.datetime(2021, 5, 17, tzinfo=dt.timezone.utc)
    entries = [summary(f"https://e.example/{n}", provider=("E", "e.example", logo), published=when)
               for n, logo in enumerate([None, "/rel.png", "https://e.example/l.png"])]
    assert provider_logo(entries, Site()) == "https://e.example/l.png"
    assert provider_logo(entries, site) == "https://news.example.org/rel.png"
    settings = Settings(site=site)
    topic = masthead(Feed("feeds/ai", "topic", "AI", "", tuple(entries)), settings.render)
    provider = masthead(Feed("feeds/providers/e.example", "provider", "E", "", tuple(entries)), settings.render)
    assert (topic.icon, topic.logo, topic.image, topic.home) == (site.icon, None, site.icon, site.url)
    assert provider.icon == provider.logo == "https://news.example.org/rel.png"
    assert provider.page == "http://localhost:8000/feeds/providers/e.example.html"


def front_matter(path: Path) -> dict:
    text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    return yaml.safe_load(text.split("---\n", 2)[1])


@pytest.mark.slow
def test_the_corpus_with_the_site_config_carries_identity_and_provider_logos(tmp_path, atom_schema,
                                                                              json_feed_validator):
    """The shared corpus (981 real records, 467 with a 50x50 provider logo, one of them
    site-relative) built with the test config: valid, the identity everywhere, and each
    provider feed's icon the logo of its newest item that has one, read from the files."""
    corpus = shared_path("corpus", "records")
    out = tmp_path / "out"
    build_site(corpus, out, site_config(tmp_path))
    check_tree_valid(out, atom_schema, json_feed_validator)
    files = tree(out)
    icons = check_identity(files)
    logos = {}
    for path in corpus.iterdir():
        data = front_matter(path)
        images = (data.get("provider") or {}).get("images") or []
        if images:
            logos[data.get("webUrl") or data.get("originalUrl")] = urljoin(SITE["url"], images[0]["url"].strip())
    for name, icon in icons.items():
        items = json.loads(files[f"{name}.json"])["items"]
        expected = next((logos[item["id"]] for item in items if item["id"] in logos), None)
        assert icon == expected, name
    with_icon = [name for name, icon in icons.items() if icon]
    assert len(with_icon) >= 20, len(with_icon)  # 28 of the 316: most published records have no logo
    assert icons.get("feeds/providers/medium.com", "").startswith("https://")


def test_many_site_relative_logos_are_a_few_examples_and_a_count(tmp_path, capsys):
    """One setting (site.url) mends them all: five lines name examples, one says how many
    more; the summary counts every one."""
    from frfeeds.cli import LOGO_EXAMPLES

    records = tmp_path / "records"
    for n in range(8):
        write_record(records, f"r{n}.md", record_text(url=f"https://p{n}.example.com/s", extra=(
            f"provider:\n  name: P\n  domain: p{n}.example.com\n  images:\n    - url: /logo{n}.png"))
            .replace("provider:\n  name: Example\n  domain: example.com\n", ""))
    assert build(tmp_path / "out", "--records", str(records), "--no-cache", "-q") == 0
    captured = capsys.readouterr()
    assert captured.err.count("provider.images: site-relative logo") == LOGO_EXAMPLES == 5
    assert "frfeeds: ... and 3 more provider feeds whose logo is site-relative: set site.url" in captured.err
    assert "provider logos left out 8 " in captured.out
