"""Make record values safe to publish: text, URLs, host names and slugs.

Every function takes a raw value from YAML and returns the clean value or raises
``ValueError`` with a short reason; callers turn that into a RecordError.
"""

import datetime as dt
import functools
import re
import unicodedata
import warnings
from urllib.parse import urlsplit

import ftfy
import ftfy.bad_codecs  # noqa: F401 - registers the sloppy-windows codecs
from ftfy.chardata import CHARMAP_ENCODINGS, CONTROL_CHARS
from dateutil import parser as dateparser
from anyascii import anyascii

# Mojibake repair only: no quote uncurling, entity unescaping or width folding,
# which would change text that is already right.
_FTFY = ftfy.TextFixerConfig(
    unescape_html=False,
    uncurl_quotes=False,
    fix_character_width=False,
    fix_latin_ligatures=False,
    explain=False,
)

# Characters XML 1.0 forbids, plus C1 controls, noncharacters and the format
# characters ftfy removes, which a reader would show as garbage. Tab and newline stay
# (then whitespace is folded anyway).
_UNWANTED = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u206a-\u206f\ufdd0-\ufdef\ufeff\ufff9-\ufffc\ufffe\uffff]"
)
_SPACES = re.compile(r"\s+")
_URL_FORBIDDEN = re.compile(r"[\x00-\x20\x7f-\x9f\s<>\"\\^`{|}]")
_HOST_LABEL = r"[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"^{_HOST_LABEL}(?:\.{_HOST_LABEL})*$")
_PLAIN_URL = re.compile(
    rf"(?i:https?)://{_HOST_LABEL}(?:\.{_HOST_LABEL})*(?::(\d{{1,5}}))?(?:[/?#][^\x00-\x20\x7f-\x9f\s<>\"\\^`{{|}}]*)?"
)
_SLUG_JOINERS = re.compile(r"['’.]")
_SLUG_WORDS = {"+": " plus ", "#": " sharp ", "&": " and ", "@": " at "}
_SLUG_SEPARATORS = re.compile(r"[^a-z0-9]+")

MAX_TEXT = 10_000
MAX_URL = 4_096
MAX_SLUG = 80


def _ftfy_gate() -> re.Pattern:
    """Text ftfy could change: a UTF-8 lead byte (0xC2-0xF4) read as a character of one
    of the encodings ftfy repairs from, followed by a continuation byte (0x80-0xBF) read
    likewise, or by the U+FFFD or space a lost byte leaves; or a character one of its
    other fixers acts on (escapes, C1 controls, surrogates). Control characters, which
    ftfy removes in a pass of its own, may stand between the two characters."""
    leads, continuations = set(), {"\ufffd"}
    for encoding in CHARMAP_ENCODINGS:
        leads.update(bytes(range(0xC2, 0xF5)).decode(encoding, errors="ignore"))
        continuations.update(bytes(range(0x80, 0xC0)).decode(encoding, errors="ignore"))
    latin_leads = bytes(range(0xC2, 0xF5)).decode("latin-1")

    def chars(found):
        return re.escape("".join(sorted(found)))

    controls = f"[{chars(map(chr, CONTROL_CHARS))}]*"
    others = "\\x1b\\x80-\\x9f\\ud800-\\udfff"
    return re.compile(
        f"[{chars(leads)}]{controls}[{chars(continuations)}]|[{chars(latin_leads)}]{controls} |[{others}]"
    )


_FTFY_GATE = _ftfy_gate()


def clean_text(value: object) -> str:
    """Text fit for any feed: mojibake repaired, controls removed, spaces folded, NFC."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"must be text, not {kind_of(value)}")
    text = str(value)
    if not text.isascii():
        # ftfy on text it would leave alone is slow and useless: the gate finds what any
        # of its fixers acts on (tests check the result is ftfy's on every text)
        if _FTFY_GATE.search(text):
            text = _fix_text(text)
        text = unicodedata.normalize("NFC", text)
    # printable text has no controls and no white space but " ": only folding is left
    if not text.isprintable() or "  " in text or text[:1] == " " or text[-1:] == " ":
        text = _SPACES.sub(" ", _UNWANTED.sub("", text)).strip()
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 1].rstrip() + "…"
    return text


@functools.lru_cache(maxsize=1 << 16)
def _fix_text(text: str) -> str:
    """ftfy's repair, remembered: the same excerpts recur (related stories are listed
    under many records), and ftfy is most of the cost of validating a record."""
    return ftfy.fix_text(text, _FTFY)


def clean_url(value: object) -> str:
    """An absolute http(s) URL with a valid host, or ValueError."""
    if not isinstance(value, str):
        raise ValueError(f"must be a URL, not {kind_of(value)}")
    url = value.strip()
    if not url:
        raise ValueError("is empty")
    if len(url) > MAX_URL:
        raise ValueError(f"is longer than {MAX_URL} characters")
    match = _PLAIN_URL.fullmatch(url)
    if match and (match[1] is None or int(match[1]) <= 65535):
        return url  # the common shape, checked in one step; anything else in detail below
    if _URL_FORBIDDEN.search(url):
        raise ValueError("contains spaces or characters not allowed in a URL")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValueError("is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"must be an absolute http(s) URL, not {url[:40]!r}")
    host = parts.hostname or ""
    if not _HOST.match(host) and not _is_ip_literal(parts.netloc):
        raise ValueError("has no valid host name")
    return url


def clean_host(value: object) -> str:
    """A host name as a provider slug: lowercase, no ``www.``, IDNA for non-ASCII."""
    if not isinstance(value, str):
        raise ValueError(f"must be a host name, not {kind_of(value)}")
    host = value.strip().lower()
    if "://" in host:  # a careless editor pasted a URL
        host = urlsplit(host).hostname or ""
    host = host.rstrip(".")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError("is not a valid host name") from None
    if host.startswith("www."):
        host = host[4:]
    if not _HOST.match(host) or len(host) > 253:
        raise ValueError("is not a valid host name")
    return host


def clean_date(value: object) -> dt.datetime:
    """A timezone-aware UTC datetime from a YAML datetime, date or string.

    A value without a zone is taken as UTC. A string missing its year, month or day
    is refused rather than completed from today's date: output never reads the clock.
    """
    if isinstance(value, dt.datetime):
        when = value
    elif isinstance(value, dt.date):
        when = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and value.strip():
        when = _parse_date_text(value.strip())
    else:
        raise ValueError(f"must be a date, not {kind_of(value)}")
    if when.tzinfo is None or when.utcoffset() is None:
        return when.replace(tzinfo=dt.timezone.utc)
    try:
        return when.astimezone(dt.timezone.utc)
    except (OverflowError, ValueError):
        raise ValueError("is out of range") from None


def _parse_date_text(text: str) -> dt.datetime:
    if len(text) > 64:
        raise ValueError("is not a date (too long)")
    results = []
    for default in _DATE_DEFAULTS:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # unknown zone names: taken as UTC
                results.append(dateparser.parse(text, default=default))
        except (ValueError, OverflowError, TypeError):
            raise ValueError(f"is not a date: {text!r}") from None
    if results[0].date() != results[1].date():
        raise ValueError(f"is not a whole date (year, month and day): {text!r}")
    return results[0]


# Parsing twice with defaults that differ in year, month and day shows whether the
# text itself gave all three.
_DATE_DEFAULTS = (dt.datetime(2000, 1, 1), dt.datetime(2001, 2, 2))


def url_host(url: str) -> str:
    """The provider slug of a URL already passed through clean_url."""
    return clean_host(urlsplit(url).hostname or "")


def slugify(text: str) -> str:
    """Lowercase ASCII words joined by '-': 'A.I.' -> 'ai', 'Künstliche KI' -> 'kunstliche-ki'."""
    ascii_text = anyascii(_SLUG_JOINERS.sub("", text))
    for char, word in _SLUG_WORDS.items():
        ascii_text = ascii_text.replace(char, word)
    slug = _SLUG_SEPARATORS.sub("-", ascii_text.lower()).strip("-")
    if len(slug) > MAX_SLUG:
        slug = slug[:MAX_SLUG].rsplit("-", 1)[0] or slug[:MAX_SLUG]
    return slug


def _is_ip_literal(netloc: str) -> bool:
    host = netloc.rpartition("@")[2]
    return host.startswith("[") and "]" in host


def kind_of(value: object) -> str:
    """How a wrong value is named in a report: 'a list', 'true/false', 'int'."""
    if value is None:
        return "empty"
    names = {dict: "a mapping", list: "a list", bool: "true/false", str: "text"}
    return names.get(type(value), type(value).__name__)
