"""The shortcuts taken for speed give exactly what the general code gives."""

import datetime as dt
import re
import subprocess
import sys

import pytest
import yaml
from helpers import SEEDS, shared_path, tree
from hypothesis import example, given, settings
from hypothesis import strategies as st

from frfeeds import clean
from frfeeds.read import yamlload
from frfeeds.read.blockyaml import UNSUPPORTED, read_block
from frfeeds.read.frontmatter import _plain_value, parse_front_matter, split_front_matter
from frfeeds.read.yamlload import FastSafeLoader

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


@pytest.mark.slow
def test_fast_loader_on_every_seed_and_real_record():
    for front in record_fronts():
        assert yaml.load(front, Loader=FastSafeLoader) == yaml.load(front, Loader=yaml.CSafeLoader)


@pytest.mark.slow
def test_fast_loader_on_a_generated_corpus(tmp_path, make_corpus):
    subprocess.run([sys.executable, str(make_corpus), "400", str(tmp_path)], check=True, capture_output=True)
    for path in sorted(tmp_path.rglob("*.md")):
        front = split_front_matter(path.read_text(), str(path))
        assert parse_front_matter(front, str(path)) == yaml.load(front, Loader=yaml.CSafeLoader), path


def assert_block_reader_agrees(text: str) -> bool:
    """read_block gives what CSafeLoader gives, or leaves the document to it; whether it read it."""
    actual = read_block(text, _plain_value)
    if actual is UNSUPPORTED:
        return False
    expected = yaml.load(text, Loader=yaml.CSafeLoader)  # an error here: it read what YAML rejects
    assert repr(actual) == repr(expected), text  # repr: 1 != True != 1.0, and NaN != NaN
    return True


BLOCK_SAMPLES = YAML_SAMPLES + [
    "a:\n- 1\n- 2\nb: 3",
    "- images:\n  - url: a\n  w: 1",
    "-\n- x\n- - y",
    "a:\n  -\n  - x\n  - # c\n  - y",
    "- a: 1\n  b:\n    - x\n    -\n    - - y\n-\n  c: 2\n- # note\n-   d: 4\n    e: 5",
    "a: 1\n- x",
    "a: b:",
    "a: b: c",
    "a: b #c\nd: 'e' # f\ng: \"h\"   # i\nj: k#l",
    "a: \"x\" y\nb: 'it''s'\nc: 'a'b'",
    "a: \"\\/\\N\\_\\L\\P\\x41\\u00e9\\U0001F600\\t\\ \\0\\e\\\"\\\\\"",
    "a: \"\\q\"\nb: \"\\ud800\"\nc: \"\\U00110000\"",
    "a: -1\nb: -x\nc: -\nd: ---\ne: ...\nf: ?x\ng: :x\nh: a:b\ni: a,b[c]{d}",
    "a: =\nb: <<\n<<: c",
    "a: 1:30\nb: 0b101\nc: +12_345\nd: 1e3\ne: 1.0e3\nf: 2019-11-16T16:42:00Z\ng: 2019-11-16 16:42:00 +01:00",
    "a: 2019-02-30\nb: 2019-13-01T00:00:00Z",
    "on: 1\nyes: 2\nNULL: 3\n~: 4",
    "a:\n  text\nb: 1",
    "a: one\n  two\nb: 1",
    "- one\n  two",
    "a:\n    b: 1\n  c: 2",
    "a:\nb:\n  c:\nd: ~",
    "  a: 1\n  b: 2",
    "  a: 1\nb: 2",
    "a: x\tb",
    "a: x\rb: y",
    "a: x\x85b",
    "a: \u2028",
    "a: \x7f\nb: \x9f",
    "a: \ufeff",
    "a: \xa0x\xa0",
    "a: 日本\nb: 😀\nc: \"Ñandú\"",
    "a : 1",
    "a:1",
    "'a': 1",
    "\"a\": 1",
    "a b: 1",
    "%YAML 1.1\n---\na: 1",
    "--- a",
    "# only a comment",
    "",
    "- a\nb: 1",
    "a:\n  - x\n  b: 1",
    "-\n  - x\n  b: 1",
    "a: [1, 2]\nb: {c: d}\nc: |\n  x\nd: >\n  y\ne: &x 1\nf: *x\ng: !!str 1\nh: @x\ni: `x",
    "a: \"unclosed\nb: 1",
    "x" * 101 + ": 1",
    "a:\n" + "  " * 2000 + "b: 1",
    "\n".join(f"{'  ' * depth}k{depth}:" for depth in range(1200)),
]


@pytest.mark.parametrize("text", BLOCK_SAMPLES)
def test_block_reader_gives_what_csafeloader_gives(text):
    assert_block_reader_agrees(text)


@pytest.mark.slow
def test_block_reader_reads_every_seed_real_and_generated_record(generated):
    fronts = record_fronts() + [split_front_matter(path.read_text(), str(path)) for path in generated.rglob("*.md")]
    assert len(fronts) >= 305
    for front in fronts:
        assert assert_block_reader_agrees(front), front  # the records themselves never need libyaml


# weighted towards what the reader accepts, so that many documents are read, not left
LINE_INDENTS = st.sampled_from([""] * 6 + ["  "] * 4 + [" ", "    "])
LINE_MARKERS = st.sampled_from([""] * 8 + ["- "] * 4 + ["-", "-  ", "- - ", "? ", "--- "])
LINE_KEYS = st.sampled_from(
    ["", "a", "title", "b_2", "c"] * 3 + ["_", "on", "Null", "y", "<<", "a b", "'q'", '"k"', "é", "x" * 101]
)
LINE_COLONS = st.sampled_from([": "] * 8 + [":", ":  ", " : ", ": # c"])
LINE_VALUES = st.one_of(
    st.sampled_from(["", "x", "1", '"q"', "'s'", "2019-11-16T16:42:00Z", "a b", "-1"] * 4),
    st.sampled_from([
        "", "x", "plain text", "1", "-1", "0x1F", "0o17", "1_000", "1:30", "1.5", ".inf", "-.nan", "1e3",
        "yes", "No", "off", "~", "null", "2019-11-16T16:42:00Z", "2019-11-16", "2019-02-30", "2019-11-16 16:42:00 +01",
        '"quoted"', '"a\\"b"', '"\\x41\\u00e9"', '"\\q"', '"open', "'it''s'", "'open", '"a" # c', '"a"b', "'a' x",
        "a: b", "a:b", "a #b", "a#b", "b:", "-", "- x", "-x", "--", "?x", ":x", "=", "<<", "&a x", "*a", "!!str 1",
        "[1, 2]", "{a: 1}", "|", ">-", "%x", "@x", "`x", "a,b", "# c", " ", "\t", "日本", "\xa0", "\x85", "\x7f",
        "\u2028", "\ufeff", "\r",
    ]),
    st.text(max_size=8),
)
BLOCK_LINES = st.builds(
    lambda indent, marker, key, colon, value: indent + marker + (key + colon if key else "") + value,
    LINE_INDENTS, LINE_MARKERS, LINE_KEYS, LINE_COLONS, LINE_VALUES,
)


@pytest.mark.slow
@settings(max_examples=1500, deadline=None)
@given(st.lists(st.one_of(BLOCK_LINES, st.sampled_from(["", "  ", "# c", "  # c"])), min_size=1, max_size=8)
       .map("\n".join))
def test_block_reader_agrees_on_generated_lines(text):
    assert_block_reader_agrees(text)


@st.composite
def block_documents(draw):
    """Nested block mappings and sequences laid out every way YAML allows (compact
    "- key:", sequences at their key's indent, odd indents, comments), with the tricky
    scalars above: most are read, and every one is checked."""

    def mapping(indent, depth):
        lines = []
        for key in draw(st.lists(LINE_KEYS.filter(bool), min_size=1, max_size=3)):
            lines += entry(" " * indent + key + draw(LINE_COLONS), indent, depth, True)
        return lines

    def sequence(indent, depth):
        lines = []
        for _ in range(draw(st.integers(1, 3))):
            marker = draw(st.sampled_from(["- ", "- ", "-  ", "-"]))
            if depth < 3 and marker != "-" and draw(st.booleans()):
                inner = mapping(indent + len(marker), depth + 1)
                lines += [" " * indent + marker + inner[0].lstrip(" ")] + inner[1:]
            else:
                lines += entry(" " * indent + marker, indent, depth, False)
        return lines

    def entry(head, indent, depth, in_mapping):
        if depth >= 3 or draw(st.integers(0, 2)) > 0:
            return [head + draw(LINE_VALUES)]
        child_indent = indent + draw(st.sampled_from([2, 2, 4, 1] + ([0] if in_mapping else [])))
        child = sequence if child_indent == indent else draw(st.sampled_from([mapping, sequence]))
        return [head.rstrip(" ")] + child(child_indent, depth + 1)

    lines = mapping(draw(st.sampled_from([0, 0, 2])), 0)
    for _ in range(draw(st.integers(0, 2))):
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(["", "   ", "# c", "    # c"])))
    return "\n".join(lines)


@pytest.mark.slow
@settings(max_examples=1500, deadline=None)
@given(block_documents())
def test_block_reader_agrees_on_generated_documents(text):
    assert_block_reader_agrees(text)


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12),
    st.sampled_from(["yes", "1:30", "0x1F", "2019-11-16", "a: b", "- x", "#", "'", '"', "\\", "~", ""]),
    st.datetimes(timezones=st.just(dt.timezone.utc)), st.dates(),
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True), children, max_size=4),
    ),
    max_leaves=12,
)


@pytest.mark.slow
@settings(max_examples=800, deadline=None)
@given(
    st.dictionaries(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True), VALUES, min_size=1, max_size=5),
    st.sampled_from([None, None, '"', "'"]), st.sampled_from([2, 4]), st.booleans(),
)
def test_block_reader_agrees_on_dumped_documents(value, style, indent, unicode):
    text = yaml.safe_dump(value, default_flow_style=False, default_style=style, indent=indent,
                          allow_unicode=unicode, width=10_000, sort_keys=False)
    assert_block_reader_agrees(text)


def slow_clean_text(text: str) -> str:
    """clean_text without its shortcuts: HTML decoding on all text, ftfy on all non-ASCII
    text, then every regex."""
    text = clean.html_to_text(text)
    if not text.isascii():
        import unicodedata

        import ftfy

        text = unicodedata.normalize("NFC", ftfy.fix_text(text, clean._ftfy_config()))
    text = clean._SPACES.sub(" ", clean._UNWANTED.sub("", text)).strip()
    if len(text) > clean.MAX_TEXT:
        text = text[: clean.MAX_TEXT - 1].rstrip() + "…"
    return text


MOJIBAKE = ["countryâ€™s", "cafÃ©", "Ã ", "Ð¿Ñ€Ð¸Ð²ÐµÑ‚", "â€œquotedâ€\x9d", "naÃ¯ve", "\x1b[31mred", "ﬁ", "e\u0301",
            "e\u0301\xa2\u201c"]  # composed, "é¢“": mojibake
PIECES = st.sampled_from(MOJIBAKE + ["“smart”", " — ", "  ", "\t", "\n", "\u00a0", "\x00", "\x85", "\ud800", "\ufffe",
                                     "plain", "Ñandú", "日本", "😀", "&amp;", "<b>", " ", "&#8217;", "&#195;&#169;",
                                     "</p>", "<br/>", "AT&T", "a < b", "<ML>", "<!-- c -->", "<script>x</script>"])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(PIECES, st.text(max_size=6)), max_size=8).map("".join))
@example("e\u0301\xa2\u201csmart\u201d")  # mojibake once composed: ftfy composes, then fixes again
def test_clean_text_equals_its_general_version(text):
    assert clean.clean_text(text) == slow_clean_text(text)


@pytest.mark.parametrize("text", MOJIBAKE + ["\x80", "a\x9db", "x\ufeffy", "\u206a", "Ã©\ufffd", "вЂ\ufffd",
                                             "\x1b[1mbold"])
def test_mojibake_and_control_samples_get_ftfy(text):
    assert clean.clean_text(text) == slow_clean_text(text)


URL_PATH_PIECES = st.sampled_from(["/", "?", "#", "%", "%2F", "%zz", "[", "]", "|", " ", "é", "/pokémon", "&",
                                    "=", "@", ":",
                                    "~", "'", "\\", "^", "`", "{", "}", '"', "<", ">", "â€“", "a", "Z", "0", "-", "."])
URLS = st.one_of(
    st.builds("{}://{}{}{}".format, st.sampled_from(["http", "https", "HTTPS", "ftp", "javascript"]),
              st.from_regex(r"[a-zA-Z0-9_.-]{0,20}", fullmatch=True),
              st.sampled_from(["", ":80", ":99999", ":x"]),
              st.one_of(st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
                        st.lists(URL_PATH_PIECES, max_size=10).map("".join))),
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


@pytest.mark.slow
@settings(max_examples=1000, deadline=None)
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


@pytest.mark.slow
def test_fast_yaml_off_switch_gives_the_same_tree(tmp_path, generated):
    """FRFEEDS_FAST_YAML=0 sends every document to libyaml's safe loader as PyYAML ships
    it: a debugging aid that must change no byte."""
    import os

    trees = {}
    for switch in ("1", "0"):
        out = tmp_path / f"out-{switch}"
        env = {**os.environ, "FRFEEDS_FAST_YAML": switch}
        probe = subprocess.run([sys.executable, "-c", "import frfeeds.read.frontmatter as f; print(f.FAST)"],
                               capture_output=True, text=True, env=env, check=True)
        assert probe.stdout.strip() == ("True" if switch == "1" else "False")
        result = subprocess.run([sys.executable, "-m", "frfeeds.cli", "build", str(out), "--records", str(generated),
                                 "--no-cache", "--quiet"], capture_output=True, text=True, env=env, timeout=300)
        assert result.returncode == 0, result.stderr
        trees[switch] = tree(out)
    assert trees["0"] == trees["1"] and len(trees["1"]) > 100


def slow_split_front_matter(text: str, display: str) -> str:
    """split_front_matter line by line, as it was written first."""
    from frfeeds.errors import RecordError

    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[0].rstrip() != "---":
        raise RecordError(display, "front matter", "missing: the file must start with a '---' line")
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            return "\n".join(lines[1:index])
    raise RecordError(display, "front matter", "not closed: no '---' line after the fields")


FRONT_PIECES = st.sampled_from(["---", "...", "--", "----", "-- -", "..", "a: 1", "", " ", "\t", "\x0b", "\x0c", "\x1c",
                                "\x85", "\xa0", "\u2028", "\u3000", "\r", "\r\n", "\n", "x"])


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.one_of(FRONT_PIECES, st.text(max_size=4)), max_size=12).map("".join))
def test_split_front_matter_equals_its_general_version(text):
    def outcome(split):
        try:
            return split(text, "f")
        except Exception as exc:  # noqa: BLE001 - the same error, or the same text
            return repr(exc)

    assert outcome(split_front_matter) == outcome(slow_split_front_matter)


@settings(max_examples=1500, deadline=None)
@given(st.from_regex(r"[0-9]{4}-[0-3][0-9]-[0-3][0-9]T[0-2][0-9]:[0-6][0-9]:[0-6][0-9]Z", fullmatch=True))
def test_utc_timestamps_are_what_csafeloader_makes(text):
    try:
        expected = repr(yaml.load(f"a: {text}", Loader=yaml.CSafeLoader)["a"])
    except ValueError:
        expected = "ValueError"
    try:
        actual = repr(_plain_value(text))
    except ValueError:
        actual = "ValueError"
    assert actual == expected


@pytest.mark.parametrize("text", BLOCK_SAMPLES)
def test_block_reader_reads_a_line_seen_before_as_it_read_it_first(text, monkeypatch):
    """The lines read are remembered: reading a document with every line known, with
    none known, or with the memo full (nothing kept) gives the same."""
    from frfeeds.read import blockyaml

    warm = repr(read_block(text, _plain_value))
    monkeypatch.setattr(blockyaml, "_MEMOS", {})
    monkeypatch.setattr(blockyaml, "_HEADS", {})
    assert repr(read_block(text, _plain_value)) == warm
    monkeypatch.setattr(blockyaml, "_MEMOS", {})
    monkeypatch.setattr(blockyaml, "_HEADS", {})
    monkeypatch.setattr(blockyaml, "_MEMO_SIZE", 0)
    assert repr(read_block(text, _plain_value)) == warm


def test_the_block_reader_takes_as_printable_what_libyaml_does_but_tab_bom_and_breaks():
    """blockyaml names the characters it refuses; checked here against every code point
    and PyYAML's own class of the printable ones."""
    from frfeeds.read import blockyaml

    yaml_printable = yaml.reader.Reader.NON_PRINTABLE
    refused = set("\t\n\r\x85\u2028\u2029\ufeff")
    for point in range(0x110000):
        char = chr(point)
        expected = yaml_printable.match(char) is None and char not in refused
        assert (blockyaml._NOT_PRINTABLE.search(char) is None) == expected, hex(point)


def test_the_plain_scalar_shortcut_knows_every_type_a_first_character_can_start():
    """A plain scalar starting with a character outside _TYPED_STARTS is taken as a
    string without PyYAML's resolver; one starting with a letter is a boolean, a null
    or a string: checked against the resolver's own table."""
    from yaml.resolver import Resolver

    from frfeeds.read import frontmatter

    resolvers = Resolver.yaml_implicit_resolvers
    assert frontmatter._TYPED_STARTS == {first for first in resolvers if first}
    letters = {first for first in frontmatter._TYPED_STARTS if first.isalpha()}
    assert {tag for first in letters for tag, _ in resolvers[first]} == {"tag:yaml.org,2002:bool",
                                                                         "tag:yaml.org,2002:null"}
    for word in [*frontmatter._BOOLS, *frontmatter._NULLS]:
        assert (type(_plain_value(word)), _plain_value(word)) == (type(general := yamlload.plain_value(word)), general)


PLAIN_SCALARS = st.one_of(
    st.sampled_from(["yes", "No", "oN", "TRUE", "tRUE", "null", "NULL", "nULL", "~", "", "0", "-0", "+0", "00", "012",
                     "0x1f", "0b11", "1_000", "190:20:30", "1.5", ".5", ".inf", "-.Inf", ".NaN", "1e3", "1.0e+3",
                     "2021-05-17", "2021-05-17T04:08:00Z", "2021-02-30T04:08:00Z", "2001-12-14 21:59:43.10 -5", "<<",
                     "=", "9" * 18, "9" * 19, "-" + "9" * 18, "+1", "news", "true story", "Nope", "off-road"]),
    st.from_regex(r"[-+]?[0-9_.:eExXbBo]{0,22}", fullmatch=True),
    st.text(alphabet="yYnNtTfFoO~-+.0123456789<=ulaeEsxX_: ", max_size=8),
)


@settings(max_examples=3000, deadline=None)
@given(PLAIN_SCALARS)
def test_plain_scalars_read_without_yaml_are_what_its_resolver_and_constructors_make(text):
    def outcome(plain):
        try:
            value = plain(text)
        except ValueError:
            return "ValueError"
        return type(value), repr(value)

    assert outcome(_plain_value) == outcome(yamlload.plain_value)
