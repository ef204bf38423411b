"""The entry mapping of ../shared/DESIGN.md, read back from the seeds with real parsers."""

import json
import re

import feedparser
import pytest
from helpers import SEEDS, build, tree

CBS = "https://www.cbsnews.com/video/facial-recognition-video-60-minutes-2021-05-16/"
CBS_AMP = "https://www.cbsnews.com/amp/video/facial-recognition-video-60-minutes-2021-05-16/"
CBS_CDN = "https://www-cbsnews-com.cdn.ampproject.org/c/s/www.cbsnews.com/amp/video/facial-recognition-video-60-minutes-2021-05-16/"
RELATED = "https://www.chinadaily.com.cn/a/202105/18/WS60a300c0a31024ad0babf902_2.html"
BASE = "https://feeds.example.org/news"


@pytest.fixture(scope="module")
def seeds_tree(tmp_path_factory):
    out = tmp_path_factory.mktemp("seeds") / "out"
    assert build(out, "--records", str(SEEDS), "--base-url", BASE + "/") == 0
    return tree(out)


def cbs_entry(files, ext):
    parsed = feedparser.parse(files[f"feeds/providers/cbsnews.com.{ext}"])
    assert not parsed.bozo
    return parsed, parsed.entries[0]


def test_atom_entry_mapping(seeds_tree):
    parsed, entry = cbs_entry(seeds_tree, "atom")
    assert entry.id == CBS
    links = {(link.rel, link.href): link for link in entry.links}
    assert ("alternate", CBS) in links
    assert ("amphtml", CBS_AMP) in links and ("amphtml", CBS_CDN) in links
    assert links[("related", RELATED)].title == "Focus tightens on facial recognition"
    assert entry.title == "Police using facial recognition amidst claims of wrongful arrests"
    assert entry.summary.startswith("Police say facial recognition technology")
    assert entry.content[0].type == "text/html"
    assert re.search(r'<img [^>]*src="https://cbsnews2\.cbsistatic\.com/[^>]*width="1200"', entry.content[0].value)
    assert "Related coverage" in entry.content[0].value and RELATED in entry.content[0].value
    assert entry.published == "2021-05-17T04:08:00+00:00" and entry.updated == "2021-05-17T04:08:00+00:00"
    assert entry.author_detail.name == "CBS News" and entry.author_detail.href == "https://cbsnews.com"
    assert [(tag.term, tag.label) for tag in entry.tags] == [
        ("computer-vision", "Computer Vision"), ("ai", "AI"), ("article", "article")]
    assert [tag.scheme for tag in entry.tags] == [f"{BASE}/feeds/"] * 2 + [f"{BASE}/types/"]  # type: its own scheme
    assert entry.media_content[0]["width"] == "1200" and entry.media_content[0]["height"] == "630"
    assert entry.media_thumbnail[0]["url"].startswith("https://cbsnews2.cbsistatic.com/")
    assert parsed.feed.id == f"{BASE}/feeds/providers/cbsnews.com.atom"


def test_rss_item_mapping(seeds_tree):
    _, item = cbs_entry(seeds_tree, "rss")
    assert item.id == CBS and item.link == CBS
    assert f'<guid isPermaLink="true">{CBS}</guid>' in seeds_tree["feeds/providers/cbsnews.com.rss"].decode()
    assert item.title.startswith("Police using facial recognition")
    assert item.summary.startswith("Police say facial recognition technology")
    assert "Related coverage" in item.content[0].value
    assert item.published == "Mon, 17 May 2021 04:08:00 +0000"
    assert item.author == "CBS News"  # dc:creator
    assert [tag.term for tag in item.tags] == ["Computer Vision", "AI", "article"]
    assert item.media_content[0]["url"].startswith("https://cbsnews2.cbsistatic.com/")
    assert {(link.rel, link.href) for link in item.links} >= {("amphtml", CBS_AMP), ("amphtml", CBS_CDN)}


def test_json_item_mapping(seeds_tree):
    item = json.loads(seeds_tree["feeds/providers/cbsnews.com.json"])["items"][0]
    assert item["id"] == item["url"] == CBS
    assert item["date_published"] == item["date_modified"] == "2021-05-17T04:08:00Z"
    assert item["authors"] == [{"name": "CBS News", "url": "https://cbsnews.com"}]
    assert item["tags"] == ["Computer Vision", "AI", "article"]
    assert item["_frfeeds"] == {"type": "article"}
    assert item["image"].startswith("https://cbsnews2.cbsistatic.com/")
    assert item["_amp"] == {"url": CBS_AMP, "cdn_url": CBS_CDN}


def test_secured_and_unknown_fields_never_emitted(seeds_tree):
    for path, data in seeds_tree.items():
        assert b"V96lc5Cj83fC453" not in data and b"secured" not in data, path


def test_every_absolute_url_of_ours_starts_with_the_base_url(seeds_tree):
    for path, data in seeds_tree.items():
        text = data.decode()
        if path.endswith(".atom"):
            ours = (re.findall(r"<id>(http[^<]*/feeds/[^<]*)</id>", text)
                    + re.findall(r'href="([^"]+)" rel="self"', text))
        elif path.endswith(".rss"):
            ours = re.findall(r'<atom:link href="([^"]+)" rel="self"', text)
        elif path.endswith(".json"):
            document = json.loads(text)
            ours = [document["feed_url"], document["home_page_url"]]
        else:
            ours = [url for url in re.findall(r'(?:xmlUrl|htmlUrl|href)="(http[^"]+)"', text) if "/feeds/" in url]
        assert ours, path
        assert all(url.startswith(BASE + "/") for url in ours), (path, ours)


def test_no_amp_leaves_amp_out(tmp_path):
    out = tmp_path / "out"
    assert build(out, "--records", str(SEEDS), "--no-amp") == 0
    files = tree(out)
    for path, data in files.items():
        assert b"amphtml" not in data and b'"_amp"' not in data, path
    assert b'rel="related"' in files["feeds/all.atom"]


def test_index_lists_every_feed_with_count_and_newest_date(seeds_tree):
    index = seeds_tree["index.html"].decode()
    feeds = sorted({path.rsplit(".", 1)[0] for path in seeds_tree if path.startswith("feeds/")})
    for feed in feeds:
        assert f'href="{feed}.atom"' in index and f'href="{feed}.json"' in index, feed
    assert ('<link rel="alternate" type="application/atom+xml" title="AI (Atom)" '
            'href="https://feeds.example.org/news/feeds/ai.atom">') in index
    assert ('<td><a href="feeds/providers/cbsnews.com.html">CBS News</a></td><td class="n">1</td>'
            "<td>2021-05-17 04:08 UTC</td>") in index
