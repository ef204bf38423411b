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


def json_as_atom(feed, records, contents, inputs):
    """A renderer of the JSON row that makes the Atom file instead."""
    return {f"{feed.path}.atom": b"<feed/>"}


def test_a_feed_renderer_making_other_files_than_its_rows_is_an_error(monkeypatch, tmp_path):
    rows = tuple(dataclasses.replace(row, renderer=f"{__name__}:json_as_atom") if row.name == "json" else row
                 for row in FEED_OUTPUTS)
    monkeypatch.setattr(frfeeds.render.outputs, "FEED_OUTPUTS", rows)
    with pytest.raises(RegistryError, match=r"a renderer made \['feeds/all.atom'\] of feeds/all, where the registry "
                                            r"expects \['feeds/all.json'\]"):
        build_tree(tmp_path / "out", settings(tmp_path / "cache"), tmp_path / "cache")


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
