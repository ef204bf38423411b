"""What a rebuild does not need it does not import: the libraries for rare values are
imported by the value that needs one (an edit build is mostly start-up)."""

import subprocess
import sys

import pytest

#: A record as editors write them: typographic quotes, "&" in text and in a query,
#: YAML timestamps, topics, a provider.
PLAIN_RECORD = """\
category: news
title: "What’s next for AT&T’s “facial recognition” trial"
excerpt: "Police in Zürich — and Détroit — said they would look again at the system."
publishedDateTime: 2021-03-04T05:06:07Z
updatedDateTime: 2021-03-05T05:06:07Z
webUrl: "https://www.example.com/news/a?id=1&lang=en"
type: article
quality: 39
published: true
provider:
  name: Example & Co
  domain: example.com
topics:
  - AI
  - Machine Learning
"""

#: Third-party libraries imported only for the values that need them: by clean.py, and
#: yaml by frontmatter.py (for a document or a plain scalar the block reader leaves to it).
LAZY = ("ftfy", "wcwidth", "dateutil", "idna", "anyascii", "yaml")


def imported_after(code: str) -> set[str]:
    """The top-level packages in sys.modules after running code in a fresh process."""
    probe = f"{code}\nimport sys\nprint(*sorted({{name.partition('.')[0] for name in sys.modules}}))"
    return set(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split())


def parse(text: str) -> str:
    return ("from frfeeds.read.frontmatter import parse_front_matter\n"
            "from frfeeds.records import record_from_mapping\n"
            f"record, dropped, capped = record_from_mapping(parse_front_matter({text!r}, 'a.md'), 'a.md', 'a.md')\n"
            "assert not dropped and not capped, dropped\n")


def test_a_plain_record_is_cleaned_without_the_libraries_for_rare_values():
    assert not set(LAZY) & imported_after(parse(PLAIN_RECORD))


@pytest.mark.parametrize(("change", "library"), [
    (("’s next", "â€™s next"), "ftfy"),  # mojibake
    (("AT&T", "AT&amp;T"), "ftfy"),  # an entity
    (("2021-03-04T05:06:07Z", '"March 4, 2021"'), "dateutil"),  # a date YAML does not read
    (("www.example.com", "www.exämple.com"), "idna"),  # a Unicode host
    (("  - AI", "  - Künstliche Intelligenz"), "anyascii"),  # a topic's slug from non-ASCII words
    (("quality: 39", "quality: 0x27"), "yaml"),  # a plain scalar of a rarer form
    (("topics:\n  - AI\n  - Machine Learning", "topics: [AI, Machine Learning]"), "yaml"),  # a flow sequence
])
def test_each_library_is_imported_by_a_value_that_needs_it(change, library):
    """The probe sees an import: the test above could fail."""
    text = PLAIN_RECORD.replace(*change)
    assert text != PLAIN_RECORD
    assert library in imported_after(parse(text))


def test_a_forked_pool_imports_them_first_so_that_no_worker_imports_them_again():
    code = ("from frfeeds.workers import process_pool\n"
            "with process_pool(2, fork=True) as pool:\n"
            "    pool.submit(int).result()\n")
    assert set(LAZY) <= imported_after(code)
