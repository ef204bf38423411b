"""The pages: index.html and one per feed. Valid HTML by the Nu Html Checker (the W3C's
validator), accessible (lang, one h1, headings in order, alt text), nothing but the
records' images loaded from elsewhere, the feed's own entries and links; and what a
real browser (headless Chromium) shows, from disk and from the app under gunicorn."""

from __future__ import annotations

import html
import json
import os
from html.parser import HTMLParser
from pathlib import Path

import pytest
from helpers import DATA, SEEDS, browse, build, is_archive, shared_path, tree, vnu
from test_identity import BASE, SITE, build_site, site_config

SCREENS = Path(os.environ.get("FRFEEDS_SCREENS", "/tmp/screens"))
#: Elements that would load or run something: none in a page. (The one form, the query
#: form, is checked on its own: a GET to a feed page of the same tree.)
FORBIDDEN = {"script", "iframe", "object", "embed", "frame", "video", "audio", "base"}


class Page(HTMLParser):
    """What the checks read of a page, from Python's own HTML5 tokenizer."""

    def __init__(self, data: bytes) -> None:
        super().__init__(convert_charrefs=True)
        self.lang = None
        self.headings: list[int] = []
        self.h1: list[str] = []
        self.images: list[dict] = []
        self.links: list[dict] = []
        self.forms: list[dict] = []
        self.anchors: list[tuple[str, str]] = []
        self.tags: set[str] = set()
        self.styles: list[str] = []
        self._text: list[str] | None = None
        self._stack: list[str] = []
        self.text_parts: list[str] = []
        self.feed(data.decode("utf-8"))
        self.close()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.add(tag)
        assert "style" not in attributes and not any(name.startswith("on") for name in attributes), (tag, attrs)
        if tag == "html":
            self.lang = attributes.get("lang")
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.headings.append(int(tag[1]))
        elif tag == "img":
            self.images.append(attributes)
        elif tag == "link":
            self.links.append(attributes)
        elif tag == "form":
            self.forms.append(attributes)
        if tag in ("h1", "a", "style"):
            self._stack.append(tag)
            self._text = []
            self._href = attributes.get("href")

    def handle_endtag(self, tag):
        if self._stack and self._stack[-1] == tag:
            self._stack.pop()
            text = "".join(self._text or [])
            if tag == "h1":
                self.h1.append(text)
            elif tag == "a":
                self.anchors.append((self._href, text))
            else:
                self.styles.append(text)
            self._text = None

    def handle_data(self, data):
        self.text_parts.append(data)
        if self._text is not None:
            self._text.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.text_parts).split())


def check_accessible(path: str, page: Page, language: str) -> None:
    assert page.lang == language, path
    assert len(page.h1) == 1 and page.h1[0].strip(), (path, page.h1)
    assert page.headings[0] == 1, path
    for before, after in zip(page.headings, page.headings[1:], strict=False):
        assert after <= before + 1, f"{path}: h{before} followed by h{after}"
    for image in page.images:
        assert "alt" in image, (path, image)
    assert not page.tags & FORBIDDEN, (path, page.tags & FORBIDDEN)
    assert len(page.forms) <= 1, path
    for form in page.forms:  # the query form: a plain GET of a feed page of this tree, relative
        assert form["method"] == "get" and form["action"].endswith(".html"), (path, form)
        assert "://" not in form["action"] and not form["action"].startswith("/"), (path, form)
    assert all("url(" not in style and "@import" not in style for style in page.styles), path
    for link in page.links:
        assert link["rel"] in ("icon", "alternate"), (path, link)


def feed_pages(files: dict[str, bytes]) -> list[str]:
    return sorted(path for path in files if path.startswith("feeds/") and path.endswith(".html"))


def check_pages(out: Path, language: str = "en", icon: str | None = None) -> int:
    """Every page of a built tree: accessible, its own feed's entries and links, no other
    resource than the records' images and the feeds' icons. Returns the pages checked."""
    files = tree(out)
    pages = feed_pages(files)
    heads = {path.rsplit(".", 1)[0] for path in files if path.startswith("feeds/") and not is_archive(path)}
    assert len(pages) == len(heads)
    index = Page(files["index.html"])
    check_accessible("index.html", index, language)
    linked = {href for href, _ in index.anchors}
    for path in pages:
        assert path in linked, f"index.html does not link {path}"
        name = path.removesuffix(".html")
        page = Page(files[path])
        check_accessible(path, page, language)
        document = json.loads(files[f"{name}.json"])
        icons = {document.get("icon")} - {None}
        assert page.h1 == [document["title"].removeprefix(f"{SITE['title']} · ")], path
        images = {item["image"] for item in document["items"] if "image" in item}
        assert {image["src"] for image in page.images} <= images | icons | {SITE["icon"], SITE["logo"]}, path
        entries = [(item["url"], item["title"]) for item in document["items"]]
        assert [anchor for anchor in page.anchors if anchor in entries] == entries, path  # every entry, in order
        own = name.rsplit("/", 1)[-1]
        subscribe = [(href, text) for href, text in page.anchors if href.startswith(own + ".")]
        assert subscribe == [(f"{own}.atom", "Atom"), (f"{own}.rss", "RSS"), (f"{own}.json", "JSON Feed")], path
        alternates = [link["href"] for link in page.links if link["rel"] == "alternate"]
        assert alternates == [document["feed_url"].removesuffix(".json") + ext for ext in (".atom", ".rss", ".json")]
        assert [link["href"] for link in page.links if link["rel"] == "icon"] == sorted(icons), path
        assert page.text.count(" · ") >= len(entries)  # each entry's date · provider line
    errors = vnu([out / "index.html", *(out / path for path in pages)])
    assert not errors, json.dumps(errors[:10], indent=1)
    return len(pages) + 1


def test_seeds_and_edge_pages_are_valid_html_and_show_their_feeds(tmp_path):
    for name, records in (("seeds", SEEDS), ("edge", DATA / "edge")):
        out = tmp_path / name
        assert build(out, "--records", str(records), "--base-url", BASE, "-q") == 0
        assert check_pages(out) == {"seeds": 6, "edge": 12}[name]
    index = tree(tmp_path / "edge")["index.html"].decode()
    assert "What’s next for AT&amp;T? Big changes &amp; a &lt; b" in index  # autoescaped, once
    assert '<h2>Newest stories</h2>' in index and index.count("<article>") == 5


def test_pages_with_the_site_config_are_valid_and_point_home(tmp_path):
    out = tmp_path / "out"
    build_site(SEEDS, out, site_config(tmp_path))
    assert check_pages(out, language="en-GB") == 6
    page = tree(out)["feeds/ai.html"].decode()
    assert f'<a class="home" href="{SITE["url"]}">news.example.org</a>' in page
    assert f'<link rel="icon" href="{SITE["icon"]}">' in page and "<title>Example News · AI</title>" in page


def test_pages_are_served_as_html_like_any_file(tmp_path):
    from frfeeds.app import create_app

    built = tmp_path / "out"
    assert build(built, "--records", str(SEEDS), "--base-url", "http://localhost", "-q") == 0
    client = create_app({"RECORDS": str(SEEDS), "BASE_URL": "http://localhost"}).test_client()
    for path in feed_pages(tree(built)):
        response = client.get("/" + path)
        assert response.status_code == 200 and response.content_type == "text/html; charset=utf-8", path
        assert response.data == tree(built)[path], path


def test_the_app_compiles_the_templates_when_it_is_made_so_no_request_reads_one(monkeypatch):
    import jinja2

    from frfeeds.app import create_app
    from frfeeds.render import pages

    pages._environment.cache_clear()  # no template compiled yet in this process
    client = create_app({"RECORDS": str(SEEDS), "BASE_URL": "http://localhost"}).test_client()

    def no_file(*args):
        raise AssertionError("a request read a template file")

    monkeypatch.setattr(jinja2.FileSystemLoader, "get_source", no_file)
    for path in ("/", "/feeds/ai.html", "/feeds/providers/cbsnews.com.html"):
        assert client.get(path).status_code == 200, path


@pytest.mark.slow
def test_corpus_pages_are_valid_html(tmp_path):
    """The shared corpus with the test config: the index and every feed page, through
    the Nu Html Checker in one run."""
    out = tmp_path / "out"
    build_site(shared_path("corpus", "records"), out, site_config(tmp_path))
    assert check_pages(out, language="en-GB") > 100  # 141 feeds: most of the 981 records are unpublished


def texts_of(dom: str) -> str:
    return " ".join(html.unescape(Page(dom.encode()).text).split())


@pytest.mark.slow
def test_a_browser_shows_the_pages_from_disk_and_from_the_app(tmp_path, monkeypatch):
    """Headless Chromium opens the index and a feed page of a corpus build with the
    test config, from the tree on disk and from the app under gunicorn, and reads the
    site's title, the feed's title and an entry's title; screenshots go to SCREENS."""
    from test_gunicorn import Server

    corpus = shared_path("corpus", "records")
    out = tmp_path / "out"
    config = site_config(tmp_path)
    build_site(corpus, out, config)
    files = tree(out)
    feed = json.loads(files["feeds/diablo-4.json"])
    feed_title = feed["title"].removeprefix("Example News · ")
    entry = feed["items"][0]["title"]
    newest = json.loads(files["feeds/all.json"])["items"][0]["title"]

    def check(index_dom: str, feed_dom: str) -> None:
        index_text, feed_text = texts_of(index_dom), texts_of(feed_dom)
        assert SITE["title"] in index_text and SITE["description"] in index_text and newest in index_text
        assert "Diablo 4" in index_text and "Newest stories" in index_text
        assert SITE["title"] in feed_text and feed_title in feed_text and entry in feed_text
        assert "Subscribe" in feed_text and "JSON Feed" in feed_text

    check(browse((out / "index.html").as_uri(), screenshot=SCREENS / "index.png"),
          browse((out / "feeds" / "diablo-4.html").as_uri(), screenshot=SCREENS / "feed.png"))
    monkeypatch.setenv("FRFEEDS_CONFIG", str(config))
    server = Server(corpus, tmp_path / "gunicorn.log")
    try:
        check(browse(server.url + "/"), browse(server.url + "/feeds/diablo-4.html"))
        status, headers, body = server.get("/feeds/diablo-4.html")
        assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
        assert body.replace(server.url.encode(), BASE.encode()) == files["feeds/diablo-4.html"]
    finally:
        server.stop()


@pytest.mark.slow
def test_the_wheel_carries_the_templates(tmp_path):
    """The templates are package data: a wheel built from the repository holds each."""
    import subprocess
    import sys
    import zipfile

    from helpers import REPO

    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", str(REPO),
                             "-w", str(tmp_path)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = tmp_path.glob("frfeeds-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = sorted((REPO / "src/frfeeds/render/templates").iterdir())
    assert templates and {f"frfeeds/render/templates/{path.name}" for path in templates} <= names
