"""Make record values safe to publish: text, URLs, host names and slugs.

Every function takes a raw value from YAML and returns the clean value or raises
``ValueError`` with a short reason; callers turn that into a RecordError.

The libraries that do the rare work (ftfy, dateutil, idna, anyascii: some 50 ms of
imports together) are imported by the function that needs them, when a value needs
them: a build that cleans one edited record of plain text imports none.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import re
import unicodedata
import warnings
from urllib.parse import quote, urlsplit

import nh3

from frfeeds import ftfygate

TYPE_CHECKING = False  # as typing's (mypy takes it as True)
if TYPE_CHECKING:
    import ftfy

# Characters XML 1.0 forbids, plus C1 controls, noncharacters and the format
# characters ftfy removes, which a reader would show as garbage. Tab and newline stay
# (then whitespace is folded anyway).
_UNWANTED = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u206a-\u206f\ufdd0-\ufdef\ufeff\ufff9-\ufffc\ufffe\uffff]"
)
_SPACES = re.compile(r"\s+")
_HOST_LABEL = r"[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"^{_HOST_LABEL}(?:\.{_HOST_LABEL})*$")
# What RFC 3986 allows in a path, query or fragment: unreserved, sub-delims, ":@/?"
# and %XX. Anything else is percent-encoded as UTF-8 (RFC 3987 section 3.1).
_URI_CHARS = r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]"  # "%": followed by two hex digits (_STRAY_PERCENT)
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_NOT_URI_CHAR = re.compile(r"%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$&'()*+,;=:@/?%]")
_NOT_USERINFO_CHAR = re.compile(r"%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$&'()*+,;=:%]")
_PLAIN_URL = re.compile(
    rf"(?i:https?)://{_HOST_LABEL}(?:\.{_HOST_LABEL})*(?::(\d{{1,5}}))?(?:[/?]{_URI_CHARS}*)?(?:#{_URI_CHARS}*)?"
)
_URL_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
# Controls (a URL has no business holding them: refused, not encoded) and lone
# surrogates (not text: UTF-8 cannot encode them).
_URL_REFUSED = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_SLUG_JOINERS = re.compile(r"['’.]")
_SLUG_WORDS = {"+": " plus ", "#": " sharp ", "&": " and ", "@": " at "}
_SLUG_SEPARATORS = re.compile(r"[^a-z0-9]+")

MAX_TEXT = 10_000
MAX_URL = 4_096
MAX_SLUG = 80


#: Text ftfy could change, and the characters such a text holds (see ftfygate).
_FTFY_GATE, _FTFY_GATE_START = re.compile(ftfygate.GATE), re.compile(ftfygate.GATE_START)


def _needs_ftfy(text: str) -> bool:
    """Whether _FTFY_GATE finds anything in text."""
    start = _FTFY_GATE_START.search(text)
    while start is not None:
        if _FTFY_GATE.match(text, start.start()):
            return True
        start = _FTFY_GATE_START.search(text, start.start() + 1)
    return False


def clean_text(value: object) -> str:
    """Plain text fit for any feed: HTML tags and entities decoded (records copied from
    WordPress carry ``What&#8217;s`` and ``<b>``), mojibake repaired, controls removed,
    spaces folded, NFC. Text that is plain already (``AT&T``, ``a < b``) is kept."""
    if type(value) is str:
        return _clean_str(value)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"must be text, not {kind_of(value)}")
    return _clean_str(str(value))


@functools.lru_cache(maxsize=1 << 14)
def _clean_str(text: str) -> str:
    """clean_text of a string, remembered: the same names, labels and related stories
    recur from record to record (a generated archive's records hold 17 texts, 3 of them
    new)."""
    if "&" in text or "<" in text:  # no tag or entity without one of them
        text = html_to_text(text)
    if not text.isascii():
        # ftfy on text it would leave alone is slow and useless: the gate finds what any
        # of its fixers acts on (tests check the result is ftfy's on every text). ftfy
        # composes the text (NFC) and fixes it again until nothing changes, so the gate
        # looks at the composed text too: "e" + U+0301 + "¢“" is the mojibake "é¢“"
        composed = unicodedata.normalize("NFC", text)
        if _needs_ftfy(text) or (composed != text and _needs_ftfy(composed)):
            composed = _fix_text(text)  # NFC already: ftfy's last step
        text = composed
    # printable text has no controls and no white space but " ": only folding is left
    if not text.isprintable() or "  " in text or text[:1] == " " or text[-1:] == " ":
        text = _SPACES.sub(" ", _UNWANTED.sub("", text)).strip()
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 1].rstrip() + "…"
    return text


def html_to_text(text: str) -> str:
    """Text with HTML in it as the plain text a browser would show: script and style
    elements and comments removed, tags of HTML elements removed (a block element's
    leaves a space), then entities decoded by ftfy (only the unambiguous ones, ending
    in ``;``), escaped twice included (``game&amp;#39;s``: WordPress exports have them).
    What only looks like a tag (``<MSFT.O>``, ``a < b``, ``x<y``) stays, as does a ``&``
    that starts no entity."""
    if "<" in text:
        text = _HIDDEN_HTML.sub(" ", text)
        text = _TAG.sub(_tag_replacement, text)
    for _ in range(_MAX_ESCAPES):
        if "&" not in text:
            break
        decoded = _unescape_html(text)
        if decoded == text:
            break
        text = decoded
    return text


#: Entities escaped more than this many times are left as they are.
_MAX_ESCAPES = 3
#: What ftfy's unescape_html decodes (ftfy.chardata.HTML_ENTITY_RE; a test holds them equal).
_ENTITY = re.compile(r"&#?[0-9A-Za-z]{1,24};")


def _unescape_html(text: str) -> str:
    """ftfy's unescape_html: the entities that end in ``;`` decoded. Text without one
    (``AT&T``, a URL's query) is returned as it is, without importing ftfy."""
    if _ENTITY.search(text) is None:
        return text
    from ftfy.fixes import unescape_html

    return unescape_html(text)


def _tag_replacement(match: re.Match[str]) -> str:
    name = match[1].lower()
    if name not in HTML_ELEMENTS:
        return match[0]
    return " " if name in _BLOCK_ELEMENTS else ""


#: Names of HTML elements: a tag of one of these in text is markup, not words.
HTML_ELEMENTS = frozenset(nh3.ALLOWED_TAGS) | frozenset(
    "applet audio base basefont blink body button canvas dialog embed font form frame frameset head html iframe "
    "input label legend link main marquee math meta noscript object optgroup option param picture section select "
    "source svg template textarea tfoot title track video".split()
)
_BLOCK_ELEMENTS = frozenset(
    "address article aside blockquote br caption dd details dialog div dl dt figcaption figure footer form h1 h2 h3 "
    "h4 h5 h6 header hgroup hr li main nav ol p pre section summary table tbody td tfoot th thead tr ul".split()
)
_HIDDEN_HTML = re.compile(r"<!--.*?-->|<(script|style)\b[^>]*>.*?</\1\s*>", re.S | re.I)
# a start or end tag with attributes, quoted values and all (a ">" inside quotes included)
_TAG = re.compile(
    r"</?([A-Za-z][A-Za-z0-9]*)(?:\s+[^\s\"'>/=]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'=<>`]+))?)*\s*/?>"
)


@functools.lru_cache(maxsize=1 << 16)
def _fix_text(text: str) -> str:
    """ftfy's repair, remembered: the same excerpts recur (related stories are listed
    under many records), and ftfy is most of the cost of validating a record."""
    import ftfy

    return ftfy.fix_text(text, _ftfy_config())


@functools.cache
def _ftfy_config() -> ftfy.TextFixerConfig:
    """Mojibake repair only: no quote uncurling, entity unescaping or width folding,
    which would change text that is already right."""
    import ftfy

    return ftfy.TextFixerConfig(
        unescape_html=False,
        uncurl_quotes=False,
        fix_character_width=False,
        fix_latin_ligatures=False,
        explain=False,
    )


def clean_url(value: object) -> str:
    """An absolute http(s) URI with a valid host, or ValueError.

    A URL that is not yet a URI becomes one (RFC 3987 section 3.1): mojibake repaired,
    a Unicode host in IDNA (``例え.jp`` -> ``xn--r8jz45g.jp``), every other character
    a URI may not hold (non-ASCII, spaces, ``"<>[]{}|\\^```, a stray ``%``) percent-
    encoded as UTF-8; ``%XX`` already there is kept. The result is what every feed
    emits, so an id is the same in every build and every format.
    """
    if not isinstance(value, str):
        raise ValueError(f"must be a URL, not {kind_of(value)}")
    url = value.strip()
    if not url:
        raise ValueError("is empty")
    if len(url) > MAX_URL:
        raise ValueError(f"is longer than {MAX_URL} characters")
    match = _PLAIN_URL.fullmatch(url)
    if match and (match[1] is None or int(match[1]) <= 65535) and ("%" not in url or not _STRAY_PERCENT.search(url)):
        return url  # the common shape, checked in one step; anything else in detail below
    return _url_to_uri(url)


def _url_to_uri(url: str) -> str:
    """clean_url's general case: split by hand (urlsplit would lowercase the scheme and
    drop an empty query), convert each part, join them back unchanged otherwise."""
    if not url.isascii() and _needs_ftfy(url):
        url = _fix_text(url)  # "settings-â€“-how" was "settings-–-how"
    if _URL_REFUSED.search(url):
        raise ValueError("contains control characters")
    scheme = _URL_SCHEME.match(url)
    if not scheme or scheme[1].lower() not in ("http", "https") or url[scheme.end():scheme.end() + 2] != "//":
        raise ValueError(f"must be an absolute http(s) URL, not {url[:40]!r}")
    rest = url[scheme.end() + 2:]
    cut = min((i for i in map(rest.find, "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:cut], rest[cut:]
    if "\\" in authority:  # browsers read it as "/": the host would not be the one we name
        raise ValueError("has a backslash before its path")
    userinfo, at, hostport = authority.rpartition("@")
    path, hash_, fragment = tail.partition("#")
    return "".join((
        scheme[0], "//", _NOT_USERINFO_CHAR.sub(_percent, userinfo), at, _uri_host_port(hostport),
        _NOT_URI_CHAR.sub(_percent, path), hash_, _NOT_URI_CHAR.sub(_percent, fragment),
    ))


def _percent(match: re.Match[str]) -> str:
    return quote(match[0], safe="")


def _uri_host_port(hostport: str) -> str:
    """The authority's host (IDNA when Unicode) and port, checked; ValueError if bad."""
    if hostport.startswith("["):  # an IP literal: [::1]:8080
        literal, bracket, after = hostport[1:].partition("]")
        try:
            ipaddress.IPv6Address(literal)
        except ValueError:
            raise ValueError("has no valid host name") from None
        if not bracket or (after and not after.startswith(":")):
            raise ValueError("is not a valid URL")
        host, colon, port = f"[{literal}]", after[:1], after[1:]
    else:
        host, colon, port = hostport.partition(":")
        if not host.isascii():
            host = _ascii_host(host)
        elif not _HOST.match(host.lower()):
            raise ValueError("has no valid host name")
    if port and not (port.isascii() and port.isdigit() and int(port) <= 65535):
        raise ValueError("has an invalid port")
    return host + colon + port


def _ascii_host(host: str) -> str:
    """A Unicode host name in its ASCII (IDNA 2008, UTS 46) form, or ValueError."""
    import idna

    try:
        labels = idna.uts46_remap(host, std3_rules=False, transitional=False).split(".")
        ascii_host = ".".join(label if label.isascii() else idna.alabel(label).decode("ascii") for label in labels)
    except (idna.IDNAError, UnicodeError):
        raise ValueError("has no valid host name") from None
    if not _HOST.match(ascii_host) or len(ascii_host) > 253:
        raise ValueError("has no valid host name")
    return ascii_host


#: Hosts whose https iframes featuredContent may embed: video players.
VIDEO_HOSTS = frozenset({
    "www.youtube.com", "youtube.com", "m.youtube.com", "www.youtube-nocookie.com", "youtube-nocookie.com",
    "player.vimeo.com",
})
#: Features an embedded player may be allowed (its ``allow`` attribute); others are dropped.
_IFRAME_FEATURES = frozenset(
    {"accelerometer", "autoplay", "clipboard-write", "encrypted-media", "fullscreen", "gyroscope", "picture-in-picture",
     "web-share"}
)
_IFRAME_ATTRIBUTES = {"src", "width", "height", "title", "allow", "allowfullscreen", "frameborder", "loading",
                      "referrerpolicy"}
_URL_ATTRIBUTES = frozenset({"href", "src", "cite"})
# nh3 serialises every attribute as name="value", '"' escaped: this reads its output exactly
_IFRAME = re.compile(r'<iframe((?: [^\s"=>]+="[^"]*")*)>.*?</iframe>', re.S)
_SRC = re.compile(r' src="([^"]*)"')
MAX_HTML = 100_000


def clean_html(value: object) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """Untrusted HTML (``featuredContent``) made safe to put in an entry, by nh3.

    Returns ``(html, embeds, refused)``: the HTML, the ``src`` of each iframe kept (https
    on VIDEO_HOSTS only), and the hosts of iframes left out. Scripts, styles, event
    handlers, ``srcdoc``, forms, other hosts' iframes and every URL that is not absolute
    http(s) are removed; URLs kept are in their URI form. ValueError when nothing is left.
    """
    if not isinstance(value, str):
        raise ValueError(f"must be HTML text, not {kind_of(value)}")
    if len(value) > MAX_HTML:
        raise ValueError(f"is longer than {MAX_HTML} characters")
    refused: list[str] = []
    html = nh3.clean(
        value,
        tags=set(nh3.ALLOWED_TAGS) | {"iframe"},
        attributes={**nh3.ALLOWED_ATTRIBUTES, "iframe": _IFRAME_ATTRIBUTES},
        attribute_filter=functools.partial(_safe_attribute, refused),
        url_schemes={"http", "https"},
        url_relative="deny",
        strip_comments=True,
    )
    # an iframe's children are raw text to nh3's parser, written back uncleaned: a kept
    # iframe is written empty, whatever it held
    html = _IFRAME.sub(lambda match: f"<iframe{match[1]}></iframe>" if _SRC.search(match[1]) else "", html).strip()
    # every iframe left has a src (the `if` only tells the type checker so)
    embeds = tuple(_unescape_html(src[1]) for match in _IFRAME.finditer(html) if (src := _SRC.search(match[1])))
    if not embeds and not html_to_text(html).strip():
        raise ValueError("has nothing that can be shown safely")
    return html, embeds, tuple(refused)


def _safe_attribute(refused: list[str], tag: str, name: str, value: str) -> str | None:
    """nh3's attribute filter: URLs as URIs, iframes from video hosts only."""
    if tag == "iframe" and name == "allow":
        features = [item.strip() for item in value.split(";")]
        return "; ".join(item for item in features if item.split(" ")[0] in _IFRAME_FEATURES) or None
    if name not in _URL_ATTRIBUTES:
        return value
    try:
        url = clean_url(value)
    except ValueError:
        if tag == "iframe":
            refused.append(value[:60])
        return None
    if tag == "iframe":
        host = urlsplit(url).hostname or ""
        if not url.lower().startswith("https://") or host not in VIDEO_HOSTS:
            refused.append(host if url.lower().startswith("https://") else url[:60])
            return None
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
            host = _ascii_host(host)
        except ValueError:
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
    if value.__class__ is dt.datetime and value.tzinfo is dt.timezone.utc:
        return value  # YAML's "...Z": what astimezone() would give, itself
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


#: No news site published before the web's first one (1991): an earlier date is a typo
#: (1900 for 2019, a year left at a template's default), and the W3C validator calls it
#: "Implausible date".
EARLIEST_NEWS = dt.datetime(1991, 1, 1, tzinfo=dt.timezone.utc)


def clean_news_date(value: object) -> dt.datetime:
    """clean_date, refusing a date before 1991 as a likely typo."""
    when = clean_date(value)
    if when < EARLIEST_NEWS:
        shown = when.isoformat().replace("+00:00", "Z")
        raise ValueError(f"{shown} is before {EARLIEST_NEWS.year}, likely a typo")
    return when


def _parse_date_text(text: str) -> dt.datetime:
    """A date written some other way than YAML's timestamps, read by dateutil."""
    if len(text) > 64:
        raise ValueError("is not a date (too long)")
    from dateutil import parser as dateparser

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
    ascii_text = _SLUG_JOINERS.sub("", text)
    if not ascii_text.isascii():  # anyascii would return it as it is
        from anyascii import anyascii

        ascii_text = anyascii(ascii_text)
    for char, word in _SLUG_WORDS.items():
        ascii_text = ascii_text.replace(char, word)
    slug = _SLUG_SEPARATORS.sub("-", ascii_text.lower()).strip("-")
    if len(slug) > MAX_SLUG:
        slug = slug[:MAX_SLUG].rsplit("-", 1)[0] or slug[:MAX_SLUG]
    return slug


def kind_of(value: object) -> str:
    """How a wrong value is named in a report: 'a list', 'true/false', 'int'."""
    if value is None:
        return "empty"
    names = {dict: "a mapping", list: "a list", bool: "true/false", str: "text"}
    return names.get(type(value), type(value).__name__)
