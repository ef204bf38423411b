"""The output registry (render/outputs.py) fails loudly: a row without a renderer, a page
the registry does not know, a renderer making other files than its rows, an unknown
extension. Never another output's bytes under a new name, never octet-stream."""

import dataclasses

import pytest
from helpers import SEEDS, build, tree

import frfeeds.app
import frfeeds.plan
import frfeeds.render.outputs
import frfeeds.serve.served
from frfeeds.app import create_app
from frfeeds.build import build as build_tree
from frfeeds.config.loading import load_settings
from frfeeds.render.outputs import FEED_OUTPUTS, SITE_PAGES, Output, RegistryError, media_type

SITEMAP = Output("site", "sitemap.xml", "xml", "application/xml", "Sitemap", "frfeeds.render.sitemap:render_sitemap")


def settings(cache):
    return load_settings({}, {"records": str(SEEDS), "cache": str(cache)})


@pytest.fixture
def sitemap_row(monkeypatch):
    """sitemap.xml added to the registry (and so to the pages the plan and the served tree
    derive from it at import), with no renderer written."""
    monkeypatch.setattr(frfeeds.render.outputs, "SITE_PAGES", (*SITE_PAGES, SITEMAP))
    for module in (frfeeds.plan, frfeeds.serve.served):
        monkeypatch.setattr(module, "PAGES", (*frfeeds.plan.PAGES, SITEMAP.name))


def test_a_page_in_the_registry_without_a_renderer_fails_the_build(sitemap_row, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RegistryError, match="frfeeds.render.sitemap:render_sitemap"):
        build_tree(out, settings(tmp_path / "cache"), tmp_path / "cache")
    assert not (out / "sitemap.xml").exists()
    assert not any(path.name == "sitemap.xml" for path in tmp_path.rglob("*"))


def test_a_page_in_the_registry_without_a_renderer_stops_the_app_being_made(sitemap_row, tmp_path):
    with pytest.raises(RegistryError, match="frfeeds.render.sitemap:render_sitemap"):
        create_app(settings=settings(tmp_path / "cache"))


def test_a_page_without_a_renderer_is_never_served_as_another_page(sitemap_row, monkeypatch, tmp_path):
    monkeypatch.setattr(frfeeds.app, "load_renderers", lambda: None)  # as if made before the row came
    client = create_app(settings=settings(tmp_path / "cache")).test_client()
    response = client.get("/sitemap.xml")
    assert response.status_code == 503
    assert b"opml" not in response.data and b"<html" not in response.data
    assert client.get("/feeds.opml").status_code == 200


def test_a_page_the_registry_does_not_know_is_an_error_not_opml(monkeypatch, tmp_path):
    monkeypatch.setattr(frfeeds.plan, "PAGES", (*frfeeds.plan.PAGES, "sitemap.xml"))
    with pytest.raises(RegistryError, match="'sitemap.xml' is no site page"):
        build_tree(tmp_path / "out", settings(tmp_path / "cache"), tmp_path / "cache")
    assert not (tmp_path / "out").exists()


def json_as_atom(feed, inputs):
    """A renderer of the JSON row that makes the Atom file instead."""
    return {f"{feed.path}.atom": frfeeds.render.outputs.Frame(b"<feed>", b"</feed>")}


def json_items_as_atom(records, contents, inputs):
    """An entries renderer of the JSON row that makes Atom fragments instead."""
    return {"atom": [b"<entry/>" for _ in records]}


@pytest.mark.parametrize(("field", "wrong", "message"), [
    ("renderer", "json_as_atom",
     r"a renderer made \['feeds/all.atom'\] of feeds/all, where the registry expects \['feeds/all.json'\]"),
    ("entries", "json_items_as_atom",
     r"an entries renderer made \['atom'\] for \d+ records, where the registry expects \['json'\]"),
])
def test_a_renderer_making_other_rows_than_its_own_is_an_error(monkeypatch, tmp_path, field, wrong, message):
    """The JSON row's frame or entries renderer making Atom's: an error, never Atom bytes as JSON."""
    rows = tuple(dataclasses.replace(row, **{field: f"{__name__}:{wrong}"}) if row.name == "json" else row
                 for row in FEED_OUTPUTS)
    monkeypatch.setattr(frfeeds.render.outputs, "FEED_OUTPUTS", rows)
    with pytest.raises(RegistryError, match=message):
        build_tree(tmp_path / "out", settings(tmp_path / "cache"), tmp_path / "cache")
    assert not (tmp_path / "out").exists()


def test_a_renderer_the_registry_names_must_exist():
    with pytest.raises(RegistryError, match="'frfeeds.render.pages:render_sitemap', which does not exist"):
        frfeeds.render.outputs.renderer("frfeeds.render.pages:render_sitemap")
    with pytest.raises(RegistryError, match="'no colon', which does not exist"):
        frfeeds.render.outputs.renderer("no colon")


def test_every_file_of_a_tree_has_the_media_type_of_its_row_and_no_other_extension_has_one(tmp_path):
    out = tmp_path / "out"
    assert build(out, "--records", str(SEEDS), "-q") == 0
    types = {path.rpartition(".")[2]: media_type(path) for path in tree(out)}
    assert types == {row.extension: row.media_type for row in FEED_OUTPUTS + SITE_PAGES}
    for path in ("x.unknown", "feeds/all.xml", "feeds/all", "sitemap.xml"):
        with pytest.raises(RegistryError, match="no output of the registry has the extension"):
            media_type(path)


@pytest.mark.parametrize("path", ["/x.unknown", "/feeds/all.unknown", "/feeds/all.xml", "/sitemap.xml", "/feeds/all"])
def test_the_app_answers_404_for_paths_of_no_output(path, tmp_path):
    client = create_app(settings=settings(tmp_path / "cache")).test_client()
    assert client.get("/feeds/all.atom").status_code == 200
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_every_field_of_a_feed_is_in_its_digest_and_the_pages_digest():
    """A feed document's digest covers every field of Feed, whatever fields it gains:
    changing any one changes the digest (else an incremental build would keep its files)."""
    import dataclasses
    import datetime as dt

    from frfeeds.catalog import DocumentLink, Feed
    from frfeeds.plan import feed_digest
    from frfeeds.query import Query
    from frfeeds.records import Provider, Summary

    when = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    entry = Summary(path="a.md", url="https://example.com/a", published_at=when, updated_at=when,
                    provider=Provider("Example", "example.com"), type=None, quality=None, is_published=True,
                    is_removed=False, topics=(), digest="d1")
    feed = Feed("feeds/ai", "topic", "AI", "Stories on AI", (entry,))
    changed = {
        "path": "feeds/robotics", "kind": "custom", "title": "Ai", "description": "Other",
        "entries": (dataclasses.replace(entry, digest="d2"),), "query": Query(topics=("ai",)),
        "links": (DocumentLink("prev-archive", "feeds/ai/archive/1"),), "archive": True, "url_query": "topics=ai",
    }
    assert set(changed) == {field.name for field in dataclasses.fields(Feed)}, "give the new field a changed value"
    stamp = ("code", "render")
    for name, value in changed.items():
        assert feed_digest(stamp, dataclasses.replace(feed, **{name: value})) != feed_digest(stamp, feed), name
