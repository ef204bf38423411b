"""Fixtures only: each test its own cache, the real validators, generated records, and
the ``--regen-golden`` option. Helper functions are in helpers.py.

``../shared`` (schemas, real corpus, corpus generator) sits beside the repository in
CI. Tests that need it skip when it is absent, unless FRFEEDS_REQUIRE_SHARED=1 (set
by .ci/run), which turns a missing shared folder into a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from helpers import SEEDS, shared_path


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """Each test its own parse cache, so no test sees another's."""
    monkeypatch.setenv("FRFEEDS_CACHE", str(tmp_path / "frfeeds-cache"))


@pytest.fixture(scope="session")
def atom_schema() -> Path:
    return shared_path("schemas", "atom.rnc")


@pytest.fixture(scope="session")
def json_feed_validator():
    """The JSON Feed schema with format checks on: ``format: uri`` by rfc3986-validator."""
    schema = json.loads(shared_path("schemas", "jsonfeed-v1.1.schema.json").read_text())
    checker = jsonschema.Draft7Validator.FORMAT_CHECKER
    assert "uri" in checker.checkers, "no uri format checker: install jsonschema[format-nongpl]"
    return jsonschema.Draft7Validator(schema, format_checker=checker)


@pytest.fixture(scope="session")
def make_corpus() -> Path:
    return shared_path("bench", "make_corpus.py")


@pytest.fixture(scope="session")
def generated(tmp_path_factory, make_corpus) -> Path:
    """300 generated records (duplicates, unpublished, many providers) plus the seeds."""
    folder = tmp_path_factory.mktemp("generated") / "records"
    subprocess.run([sys.executable, str(make_corpus), "300", str(folder / "generated")], check=True,
                   capture_output=True)
    shutil.copytree(SEEDS, folder / "seeds")
    return folder


@pytest.fixture
def records(tmp_path, generated) -> Path:
    """A copy of ``generated`` to change, every file dated 2020: older than the two-second
    "too fresh to trust" window, so the parse cache and the build state are used. (A
    module's own ``records`` fixture takes precedence.)"""
    folder = tmp_path / "records"
    shutil.copytree(generated, folder)
    old = 1_600_000_000
    for path in folder.rglob("*"):
        os.utime(path, (old, old))
    return folder


def pytest_addoption(parser):
    parser.addoption("--regen-golden", action="store_true",
                     help="store the built trees as tests/golden/ (review the diff before committing)")


@pytest.fixture
def regen_golden(request) -> bool:
    """True only when pytest runs with --regen-golden: golden files never change by themselves."""
    return request.config.getoption("--regen-golden")
