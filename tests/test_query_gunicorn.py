"""Served queries over real HTTP: the Procfile's gunicorn (two gthread workers, --preload)
on the real corpus. Canonical redirects, a 400 for each kind of bad input, results
checked entry by entry against a plain filter of the record files (read with PyYAML),
304s per variant, the same bytes from both workers, valid documents, the form, and
memory flat after 10,000 distinct queries."""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlencode

import feedparser
import pytest
import yaml
from feedchecks import check_feeds_uris_and_text
from helpers import jing, shared_path
from test_gunicorn import WORKERS, Server

from frfeeds.query import topic_slug

pytestmark = pytest.mark.slow

#: The memo budget of the server under test, in MiB (FRFEEDS_MEMO_MIB): small, so that
#: 10,000 distinct queries overflow it many times over.
MEMO_MIB = 8
LIMIT = 50


@pytest.fixture(scope="module")
def corpus() -> dict[str, dict]:
    """The published stories of the real corpus by URL, read plainly with PyYAML: one
    per URL (the copy updated last), none marked unpublished or removed."""
    chosen: dict[str, tuple[tuple, dict]] = {}
    for path in sorted(shared_path("corpus", "records").glob("*.md")):
        front = yaml.safe_load(path.read_text(encoding="utf-8-sig").split("\n---", 1)[0].lstrip("-\n"))
        url = front.get("webUrl") or front.get("originalUrl")
        url = same_url(url) if isinstance(url, str) else None
        if not url or not front.get("publishedDateTime") or not front.get("provider"):
            continue
        published = str(front["publishedDateTime"])
        freshness = (str(front.get("updatedDateTime") or published), published, path.name)
        if url not in chosen or freshness > chosen[url][0]:
            chosen[url] = (freshness, front)
    return {url: front for url, (_, front) in chosen.items()
            if front.get("published", True) is not False and not front.get("removed")}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    records = shared_path("corpus", "records")
    folder = tmp_path_factory.mktemp("query-server")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FRFEEDS_MEMO_MIB", str(MEMO_MIB))
        patch.setenv("FRFEEDS_CACHE", str(folder / "cache"))
        patch.setenv("FRFEEDS_LIMIT", str(LIMIT))
        running = Server(records, folder / "gunicorn.log", reload=60)
    yield running
    running.stop()


def same_url(url: str) -> str:
    """A URL as a comparable text: mojibake fixed and percent-escapes decoded, as the
    app writes a record's id (cleaned) and a file spells it (maybe not)."""
    import ftfy

    return unquote(ftfy.fix_text(url.strip()))


def fetch_all(server: Server, path: str) -> list[dict]:
    """Every item of a JSON query, following next_url page by page."""
    items: list[dict] = []
    url = path
    while url:
        status, headers, body = server.get(url)
        assert status == 200, (url, status, body[:200])
        document = json.loads(body)
        items += document["items"]
        url = document.get("next_url", "").removeprefix(server.url)
    return items


def plain(corpus: dict[str, dict], *, topics=(), providers=(), types=(), exclude_topics=(), exclude_providers=(),
          min_quality=None) -> list[str]:
    """The URLs a selection holds, newest first (ties by URL), by a plain filter."""
    def slugs(front):
        return {topic_slug(label) for label in front.get("topics") or () if isinstance(label, str) and label.strip()}

    def domain(front):
        return str(front["provider"]["domain"]).lower().removeprefix("www.")

    chosen = []
    for url, front in corpus.items():
        if topics and not slugs(front) & set(topics):
            continue
        if providers and domain(front) not in providers:
            continue
        if types and str(front.get("type", "")).lower() not in types:
            continue
        if slugs(front) & set(exclude_topics) or domain(front) in exclude_providers:
            continue
        if min_quality is not None and (front.get("quality") is None or front["quality"] < min_quality):
            continue
        chosen.append((front["publishedDateTime"], url))
    chosen.sort(key=lambda item: item[1])
    chosen.sort(key=lambda item: item[0], reverse=True)
    return [url for _, url in chosen]


def test_results_match_a_plain_filter_of_the_records(server, corpus):
    cases = [
        ("/feeds/all.json?min_quality=-1000000", dict(min_quality=-1000000)),  # every story with a quality
        ("/feeds/all.json?topics=azure,power-apps", dict(topics=("azure", "power-apps"))),  # union within a field
        ("/feeds/all.json?topics=diablo-4&types=video", dict(topics=("diablo-4",), types=("video",))),  # intersection
        ("/feeds/all.json?exclude_topics=diablo-4&min_quality=60", dict(exclude_topics=("diablo-4",), min_quality=60)),
        ("/feeds/all.json?exclude_providers=microsoft.com&topics=azure,diablo-4",
         dict(exclude_providers=("microsoft.com",), topics=("azure", "diablo-4"))),
        ("/feeds/diablo-4.json?min_quality=40", dict(topics=("diablo-4",), min_quality=40)),  # narrows a topic feed
        ("/feeds/providers/microsoft.com.json?exclude_topics=azure",
         dict(providers=("microsoft.com",), exclude_topics=("azure",))),  # narrows a provider feed
    ]
    paged = 0
    for path, selection in cases:
        expected = plain(corpus, **selection)
        assert expected, path
        assert [same_url(item["id"]) for item in fetch_all(server, path)] == expected, path
        paged += len(expected) > LIMIT
    assert paged >= 3, "the cases must page"


def test_non_canonical_spellings_redirect_once(server):
    cases = {
        "/feeds/all.atom?topics=Power%20BI,AI": "/feeds/all.atom?topics=ai,power-bi",
        "/feeds/all.atom?topics=ai&topics=power-bi": "/feeds/all.atom?topics=ai,power-bi",
        "/feeds/all.rss?types=Video&min_quality=060&page=1": "/feeds/all.rss?min_quality=60&types=video",
        "/feeds/all.json?since=14%20days&providers=WWW.YouTube.com": "/feeds/all.json?providers=youtube.com&since=2w",
        "/feeds/all.html?topics=AI&providers=&types=&min_quality=": "/feeds/all.html?topics=ai",
        "/feeds/all.atom?page=1": "/feeds/all.atom",
        "/feeds/all.atom?page=2&topics=azure": None,  # canonical already
    }
    for path, location in cases.items():
        status, headers, body = server.get(path)
        if location is None:
            assert status == 200, (path, status, body)
            continue
        assert status == 301 and headers["Location"] == location, (path, status, headers)
        again, _, _ = server.get(location)
        assert again == 200, location


@pytest.mark.parametrize("path, reason", [
    ("/feeds/all.atom?topic=ai", "topic: unknown parameter; did you mean topics?"),
    ("/feeds/all.atom?topics=powerbi", "topics: no published story has the topic 'powerbi'; did you mean power-bi?"),
    ("/feeds/all.atom?providers=youtube.co",
     "providers: no published story has the provider 'youtube.co'; did you mean youtube.com?"),
    ("/feeds/all.atom?types=podcast", "types: no published story has the type 'podcast'"),
    ("/feeds/all.atom?min_quality=lots", "min_quality: must be a whole number, not 'lots'"),
    ("/feeds/all.atom?min_quality=5000000", "min_quality: must be between"),
    ("/feeds/all.atom?page=0", "page: must be a whole number from 1"),
    ("/feeds/all.atom?since=forever", "since: must be an age such as"),
    ("/feeds/all.atom?" + urlencode({"topics": ",".join(f"t{n}" for n in range(21))}), "topics: 21 values; at most 20"),
    ("/feeds/all.atom?topics=" + "ai," * 400, "at most 1000 are served"),
    ("/index.html?topics=ai", "takes no query string"),
])
def test_bad_input_is_a_400_with_one_line(server, path, reason):
    status, headers, body = server.get(path)
    assert status == 400 and headers["Content-Type"].startswith("text/plain"), (path, status, body)
    text = body.decode("utf-8")
    assert text.endswith("\n") and text.count("\n") == 1 and reason in text, text


def test_past_the_last_page_is_404_and_an_empty_selection_is_a_valid_feed(server):
    status, _, body = server.get("/feeds/all.json?min_quality=1000000")
    assert status == 200 and json.loads(body)["items"] == [] and "next_url" not in json.loads(body)
    assert server.get("/feeds/all.json?min_quality=1000000&page=2")[0] == 404
    total = len(fetch_all(server, "/feeds/all.json?topics=azure"))
    last = -(-total // LIMIT)
    assert server.get(f"/feeds/all.json?page={last}&topics=azure")[0] == 200
    status, headers, body = server.get(f"/feeds/all.json?page={last + 1}&topics=azure")
    assert status == 404 and headers["Content-Type"].startswith("text/plain")
    assert body == f"/feeds/all.json: page {last + 1} is past the last page ({last}) of this selection\n".encode()


def test_304_per_variant_and_the_same_bytes_from_both_workers(server):
    variants = ["/feeds/all.atom?topics=azure", "/feeds/all.atom?page=2&topics=azure", "/feeds/all.rss?types=video",
                "/feeds/azure.json?min_quality=60"]
    etags = {}
    for path in variants:
        answers, pids = set(), set()
        for _ in range(60):  # a new connection each time: until both workers were seen
            if len(pids) == WORKERS and len(answers) >= 1 and _ >= 16:
                break
            pids.add(json.loads(server.get("/healthz")[2])["pid"])
            status, headers, body = server.get(path)
            assert status == 200
            answers.add((headers["ETag"], headers["Last-Modified"], body))
        assert len(pids) == WORKERS and len(answers) == 1, path  # both workers answered, one answer
        etags[path] = next(iter(answers))[0]
    assert len(set(etags.values())) == len(variants)  # each variant its own validator
    for path, etag in etags.items():
        status, _, body = server.get(path, {"If-None-Match": etag})
        assert status == 304 and body == b"", path
        other = next(e for p, e in etags.items() if p != path)
        assert server.get(path, {"If-None-Match": other})[0] == 200
        status, headers, _ = server.get(path, {"Accept-Encoding": "gzip"})
        assert headers.get("Content-Encoding") == "gzip"
        assert server.get(path, {"Accept-Encoding": "gzip", "If-None-Match": headers["ETag"]})[0] == 304


def test_queried_and_paged_documents_are_valid(server, tmp_path, atom_schema, json_feed_validator):
    queries = ["topics=azure", "page=2&topics=azure", "exclude_topics=power-bi&min_quality=60", "types=video",
               "min_quality=1000000"]
    files: dict[str, bytes] = {}
    for number, query in enumerate(queries):
        for ext in ("atom", "rss", "json"):
            status, _, body = server.get(f"/feeds/all.{ext}?{query}")
            assert status == 200, (query, ext)
            files[f"feeds/q{number}.{ext}"] = body
    atom = []
    for path, data in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
        if path.endswith(".atom"):
            atom.append(tmp_path / path)
        if path.endswith((".atom", ".rss")):
            parsed = feedparser.parse(data)
            assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        else:
            json_feed_validator.validate(json.loads(data))
    result = jing(atom_schema, atom)
    assert result.returncode == 0, result.stdout + result.stderr
    assert check_feeds_uris_and_text(files) > 0
    # RFC 5005 paging links, as a reader sees them; the id and self link are the canonical URL
    parsed = feedparser.parse(files["feeds/q1.atom"])
    links = {link["rel"]: link["href"] for link in parsed.feed.links}
    assert parsed.feed.id == links["self"] == f"{server.url}/feeds/all.atom?page=2&topics=azure"
    assert links["first"] == f"{server.url}/feeds/all.atom?topics=azure"
    assert links["previous"] == links["first"] and "last" in links
    assert json.loads(files["feeds/q0.json"])["next_url"] == f"{server.url}/feeds/all.json?page=2&topics=azure"


class Forms(HTMLParser):
    def __init__(self, data: bytes) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self.inputs: list[str] = []
        self.links: list[str] = []
        self.feed(data.decode("utf-8"))

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append(attributes)
        elif tag == "input":
            self.inputs.append(attributes["name"])
        elif tag == "a" and attributes.get("type"):
            self.links.append(attributes["href"])


def test_the_form_gets_a_page_with_subscribe_links(server):
    status, _, body = server.get("/")
    form = Forms(body)
    assert len(form.forms) == 1 and form.forms[0]["method"] == "get"
    action = form.forms[0]["action"]
    assert action == "feeds/all.html"
    # what a browser sends: every input, the empty ones too
    values = dict.fromkeys(form.inputs, "") | {"topics": "Power BI, Azure", "types": "video"}
    status, headers, _ = server.get(f"/{action}?{urlencode(values)}")
    assert status == 301
    location = headers["Location"]
    assert location == "/feeds/all.html?topics=azure,power-bi&types=video"
    status, _, page = server.get(location)
    assert status == 200
    subscribe = Forms(page).links
    assert subscribe == [f"all.{ext}?topics=azure,power-bi&types=video" for ext in ("atom", "rss", "json")]
    for href in subscribe:
        status, headers, _ = server.get(f"/feeds/{href}")
        assert status == 200 and headers["Content-Type"].startswith("application/"), href
    # on a feed page the form narrows that feed
    status, _, body = server.get("/feeds/azure.html")
    assert Forms(body).forms[0]["action"] == "azure.html"


def test_the_form_in_chromium(server):
    from helpers import browse

    dom = browse(f"{server.url}/feeds/all.html?topics=Azure&providers=&types=video&exclude_topics=&min_quality=")
    assert 'href="all.atom?topics=azure&amp;types=video"' in dom  # followed the 301 to the canonical page
    assert "All news: topics azure; types video" in dom


def worker_rss(server: Server) -> dict[int, float]:
    import subprocess

    pids = subprocess.run(["pgrep", "-P", str(server.process.pid)], capture_output=True, text=True).stdout.split()
    found = {}
    for pid in pids:
        status = Path(f"/proc/{pid}/status").read_text()
        found[int(pid)] = int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)[1]) / 1024
    return found


def test_memory_stays_flat_after_10000_distinct_queries(server):
    # warm both workers (a first render of each kind), then measure
    topics = ["security", "networking", "devops", "databases"]  # a few stories each
    def one(number: int) -> int:
        topic = topics[number % len(topics)]
        ext = ("atom", "rss", "json", "html")[number // len(topics) % 4]
        return server.get(f"/feeds/all.{ext}?min_quality={number - 5000}&topics={topic}")[0]

    assert {one(n) for n in range(200)} == {200}
    before = worker_rss(server)
    assert len(before) == WORKERS
    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(one, range(200, 10_200)))
    elapsed = time.monotonic() - started
    assert set(statuses) == {200}
    after = worker_rss(server)
    growth = {pid: after[pid] - before[pid] for pid in before}
    print(f"10,000 distinct queries in {elapsed:.1f} s; worker RSS before {before}, after {after} (MiB)")
    assert all(grown < 50 for grown in growth.values()), growth
    assert server.process.poll() is None
