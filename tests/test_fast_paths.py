"""The shortcuts taken for speed give exactly what the general code gives."""

import datetime as dt
import re
import subprocess
import sys

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SEEDS, shared_path
from frfeeds import clean
from frfeeds.frontmatter import FastSafeLoader, parse_front_matter, split_front_matter

YAML_SAMPLES = [
    "a: 1\nb: 0x1f\nc: 1_000\nd: 0o17\ne: -0b101\nf: 190:20:30",
    "f: .inf\ng: -.Inf\nh: .NaN\ni: 1.5e3\nj: 6.8523015e+5",
    "y: yes\nn: No\no: on\noff: OFF\nt: True\nnull1: ~\nnull2: null\nempty:",
    "d: 2021-05-17\nt: 2021-05-17T04:08:00Z\nz: 2001-12-14t21:59:43.10-05:00\ns: 2001-12-14 21:59:43.10 -5",
    "base: &b {x: 1, y: 2}\nmerged:\n  <<: *b\n  y: 3",
    "s: !!set {a, b}\no: !!omap [a: 1, b: 2]\np: !!pairs [a: 1, a: 2]",
    "bin: !!binary aGVsbG8=\nstr: !!str 123\nint: !!int '7'\nfloat: !!float '1'",
    "shared: &s [1, 2]\nagain: *s\ntwice: [*s, *s]",
    "rec: &r [*r]",
    "? [complex, key]\n: value",
    "quoted: '2021-05-17'\nplain: 2021-05-17\nnum: '42'\nbool: 'yes'",
    "multi: |\n  line one\n  line two\nfolded: >\n  a\n  b",
    "dup: 1\ndup: 2",
    "list:\n- a\n- - nested\n  - more\n- {k: v}",
]


@pytest.mark.parametrize("text", YAML_SAMPLES)
def test_fast_loader_gives_what_csafeloader_gives(text):
    try:
        expected = yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError as exc:
        with pytest.raises(type(exc)):
            yaml.load(text, Loader=FastSafeLoader)
        return
    actual = yaml.load(text, Loader=FastSafeLoader)
    assert repr(actual) == repr(expected)  # repr: NaN != NaN, and recursion shows as [...]
    if isinstance(expected, dict) and "again" in expected:
        assert actual["again"] is actual["shared"]  # aliases are the same object, as before


def record_fronts():
    paths = sorted(SEEDS.glob("*.txt"))
    corpus = shared_path("corpus", "records")
    paths += sorted(corpus.glob("*.md"))
    return [split_front_matter(path.read_text(encoding="utf-8-sig"), str(path)) for path in paths]


def test_fast_loader_on_every_seed_and_real_record():
    for front in record_fronts():
        assert yaml.load(front, Loader=FastSafeLoader) == yaml.load(front, Loader=yaml.CSafeLoader)


def test_fast_loader_on_a_generated_corpus(tmp_path, make_corpus):
    subprocess.run([sys.executable, str(make_corpus), "400", str(tmp_path)], check=True, capture_output=True)
    for path in sorted(tmp_path.rglob("*.md")):
        front = split_front_matter(path.read_text(), str(path))
        assert parse_front_matter(front, str(path)) == yaml.load(front, Loader=yaml.CSafeLoader), path


def slow_clean_text(text: str) -> str:
    """clean_text without its shortcuts: ftfy on all non-ASCII text, then every regex."""
    if not text.isascii():
        import unicodedata

        import ftfy

        text = unicodedata.normalize("NFC", ftfy.fix_text(text, clean._FTFY))
    text = clean._SPACES.sub(" ", clean._UNWANTED.sub("", text)).strip()
    if len(text) > clean.MAX_TEXT:
        text = text[: clean.MAX_TEXT - 1].rstrip() + "…"
    return text


MOJIBAKE = ["countryâ€™s", "cafÃ©", "Ã ", "Ð¿Ñ€Ð¸Ð²ÐµÑ‚", "â€œquotedâ€\x9d", "naÃ¯ve", "\x1b[31mred", "ﬁ", "e\u0301"]
PIECES = st.sampled_from(MOJIBAKE + ["“smart”", " — ", "  ", "\t", "\n", "\u00a0", "\x00", "\x85", "\ud800", "\ufffe",
                                     "plain", "Ñandú", "日本", "😀", "&amp;", "<b>", " "])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(PIECES, st.text(max_size=6)), max_size=8).map("".join))
def test_clean_text_equals_its_general_version(text):
    assert clean.clean_text(text) == slow_clean_text(text)


@pytest.mark.parametrize("text", MOJIBAKE + ["\x80", "a\x9db", "x\ufeffy", "\u206a", "Ã©\ufffd", "вЂ\ufffd", "\x1b[1mbold"])
def test_mojibake_and_control_samples_get_ftfy(text):
    assert clean.clean_text(text) == slow_clean_text(text)


URLS = st.one_of(
    st.builds("{}://{}{}{}".format, st.sampled_from(["http", "https", "HTTPS", "ftp", "javascript"]),
              st.from_regex(r"[a-zA-Z0-9_.-]{0,20}", fullmatch=True),
              st.sampled_from(["", ":80", ":99999", ":x"]),
              st.text(alphabet=st.characters(codec="utf-8"), max_size=12)),
    st.text(max_size=30),
)


def slow_clean_url(value):
    """clean_url without its one-regex shortcut."""
    shortcut = clean._PLAIN_URL
    clean._PLAIN_URL = re.compile(r"(?!)")
    try:
        return clean.clean_url(value)
    finally:
        clean._PLAIN_URL = shortcut


@settings(max_examples=400, deadline=None)
@given(URLS)
def test_clean_url_equals_its_general_version(url):
    try:
        expected = slow_clean_url(url)
    except ValueError:
        expected = ValueError
    try:
        actual = clean.clean_url(url)
    except ValueError:
        actual = ValueError
    assert actual == expected


def test_date_fast_values_stay_utc():
    when = parse_front_matter("d: 2001-12-14t21:59:43.10-05:00", "x")["d"]
    assert clean.clean_date(when) == dt.datetime(2001, 12, 15, 2, 59, 43, 100000, tzinfo=dt.timezone.utc)
