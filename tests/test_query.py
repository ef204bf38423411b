"""The selection value type of custom feeds: each field, union within a field,
intersection across fields, parsing errors that name the key, and the canonical form."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frfeeds.query import Query, QueryError, format_age, parse_age, parse_request
from frfeeds.records import Provider, Summary, Topic

UTC = dt.timezone.utc
NOW = dt.datetime(2021, 6, 1, 12, 0, tzinfo=UTC)

def summary(name, topics=("AI",), domain="example.com", type=None, quality=None, age=dt.timedelta(days=1)):
    published = NOW - age
    return Summary(
        path=f"{name}.md", url=f"https://{domain}/{name}", published_at=published, updated_at=None,
        is_published=True, is_removed=False, provider=Provider(domain.title(), domain),
        topics=tuple(Topic(label.lower().replace(" ", "-"), label) for label in topics), digest=name,
        type=type, quality=quality,
    )


RECORDS = [
    summary("ai-video", topics=("AI",), domain="youtube.com", type="video", quality=80, age=dt.timedelta(days=2)),
    summary("ai-article", topics=("AI", "Azure"), domain="cbsnews.com", type="article", quality=40,
            age=dt.timedelta(days=40)),
    summary("azure-video", topics=("Azure",), domain="youtube.com", type="Video", quality=60,
            age=dt.timedelta(hours=5)),
    summary("apps-untyped", topics=("Power Apps",), domain="microsoft.com", type=None, quality=None,
            age=dt.timedelta(days=400)),
    summary("no-topics", topics=(), domain="cbsnews.com", type="article", quality=100, age=dt.timedelta(0)),
]


def selected(query):
    return [record.path.removesuffix(".md") for record in RECORDS if query.matches(record, NOW)]


@pytest.mark.parametrize("mapping, expected", [
    ({}, ["ai-video", "ai-article", "azure-video", "apps-untyped", "no-topics"]),
    ({"topics": ["AI"]}, ["ai-video", "ai-article"]),
    ({"topics": "Azure"}, ["ai-article", "azure-video"]),  # one text for a list of one
    ({"topics": ["ai", "azure"]}, ["ai-video", "ai-article", "azure-video"]),  # union within a field
    ({"topics": ["Power Apps"]}, ["apps-untyped"]),  # labels are compared as slugs
    ({"topics": ["power-apps"]}, ["apps-untyped"]),
    ({"providers": ["youtube.com"]}, ["ai-video", "azure-video"]),
    ({"providers": ["WWW.YouTube.com", "microsoft.com"]}, ["ai-video", "azure-video", "apps-untyped"]),
    ({"providers": ["https://www.cbsnews.com/news/"]}, ["ai-article", "no-topics"]),  # a pasted URL: its host
    ({"types": ["video"]}, ["ai-video", "azure-video"]),  # "Video" too: types compared as slugs
    ({"types": ["Article"]}, ["ai-article", "no-topics"]),
    ({"min_quality": 60}, ["ai-video", "azure-video", "no-topics"]),  # 60 itself is in; no quality is out
    ({"min_quality": 0}, ["ai-video", "ai-article", "azure-video", "no-topics"]),
    ({"since": "1 day"}, ["azure-video", "no-topics"]),
    ({"since": "2 days"}, ["ai-video", "azure-video", "no-topics"]),  # exactly 2 days old is in
    ({"since": "2 weeks"}, ["ai-video", "azure-video", "no-topics"]),
    ({"since": "12 hours"}, ["azure-video", "no-topics"]),
    # intersection across fields
    ({"topics": ["AI", "Azure"], "types": ["video"]}, ["ai-video", "azure-video"]),
    ({"topics": ["AI", "Azure"], "types": ["video"], "min_quality": 70}, ["ai-video"]),
    ({"topics": ["Azure", "Power Apps"], "min_quality": 60}, ["azure-video"]),
    ({"providers": ["youtube.com"], "since": "1 day"}, ["azure-video"]),
    ({"topics": ["AI"], "providers": ["microsoft.com"]}, []),
])
def test_selection(mapping, expected):
    assert selected(Query.from_mapping(mapping, "test")) == expected


def test_since_counts_back_from_the_now_it_is_given_never_the_clock():
    query = Query.from_mapping({"since": "30 days"})
    old = summary("old", age=dt.timedelta(days=31))
    assert not query.matches(old, NOW)
    assert query.matches(old, NOW - dt.timedelta(days=1))  # a folder whose newest story is older
    assert query.matches(old, old.published_at + dt.timedelta(days=30))
    assert not query.matches(old, old.published_at + dt.timedelta(days=30, seconds=1))


def test_the_empty_query_is_false_and_selects_everything():
    assert not Query() and not Query.from_mapping({})
    assert Query.from_mapping({"min_quality": 0})
    assert Query().canonical() == ""


@pytest.mark.parametrize("mapping, message", [
    ({"topic": ["AI"]}, "feeds.custom[1].topic: unknown key; did you mean topics?"),
    ({"min-quality": 3}, "feeds.custom[1].min-quality: unknown key; did you mean min_quality?"),
    ({"colour": "red"},
     "feeds.custom[1].colour: unknown key; known keys are topics, providers, types, exclude_topics, "
     "exclude_providers, min_quality, since"),
    ({"topics": 5}, "feeds.custom[1].topics: must be a list of text, not int"),
    ({"topics": []}, "feeds.custom[1].topics: must be a list of text, not an empty list"),
    ({"topics": ["AI", 3]}, "feeds.custom[1].topics: must be text, not int"),
    ({"topics": ["!!!"]}, "feeds.custom[1].topics: '!!!' has no letters or digits to name a topic"),
    ({"providers": ["not a host"]}, "feeds.custom[1].providers: 'not a host' is not a valid host name"),
    ({"types": ["--"]}, "feeds.custom[1].types: '--' has no letters or digits"),
    ({"min_quality": "60"}, "feeds.custom[1].min_quality: must be a whole number, not '60'"),
    ({"min_quality": True}, "feeds.custom[1].min_quality: must be a whole number, not true/false"),
    ({"min_quality": 6.5}, "feeds.custom[1].min_quality: must be a whole number, not float"),
    ({"since": "1 month"},
     "feeds.custom[1].since: must be an age such as '30 days', '12 hours' or '2 weeks', not '1 month'"),
    ({"since": "0 days"}, "must be an age such as"),
    ({"since": "soon"}, "must be an age such as"),
    ({"since": 30}, "feeds.custom[1].since: must be an age such as '30 days', '12 hours' or '2 weeks', not int"),
])
def test_bad_fields_are_errors_naming_the_key(mapping, message):
    with pytest.raises(QueryError) as caught:
        Query.from_mapping(mapping, "feeds.custom[1]")
    assert message in str(caught.value)


def test_errors_without_a_where_name_the_field_alone():
    with pytest.raises(QueryError, match="^since: must be an age"):
        Query.from_mapping({"since": "later"})
    with pytest.raises(QueryError, match="^query: must be a table"):
        Query.from_mapping(["topics"])


@pytest.mark.parametrize("text, age", [
    ("30 days", dt.timedelta(days=30)), ("1 day", dt.timedelta(days=1)), ("12 hours", dt.timedelta(hours=12)),
    ("2 weeks", dt.timedelta(weeks=2)), ("90 minutes", dt.timedelta(minutes=90)), ("30d", dt.timedelta(days=30)),
    (" 3 Hours ", dt.timedelta(hours=3)), ("1w", dt.timedelta(weeks=1)),
])
def test_ages(text, age):
    assert parse_age(text) == age


def test_canonical_form_is_sorted_and_the_same_for_equal_queries():
    one = Query.from_mapping({"types": ["video", "Article"], "topics": ["Azure", "AI", "ai"], "since": "14 days",
                              "min_quality": 60, "providers": ["www.youtube.com"]})
    other = Query.from_mapping({"min_quality": 60, "since": "2 weeks", "providers": ["youtube.com"],
                                "topics": ["azure", "AI"], "types": ["article", "video"]})
    assert one == other and repr(one) == repr(other)
    assert one.canonical() == "min_quality=60&providers=youtube.com&since=2w&topics=ai,azure&types=article,video"
    assert parse_request(one.canonical()).query == one
    assert Query.from_mapping({"since": "36 hours"}).canonical() == "since=36h"
    assert Query.from_mapping({"since": "90 minutes"}).canonical() == "since=90m"


def test_a_query_string_is_refused_for_what_from_mapping_refuses():
    with pytest.raises(QueryError, match="^min_quality: must be a whole number, not 'high'"):
        parse_request("min_quality=high")
    with pytest.raises(QueryError, match="^sort: unknown parameter"):
        parse_request("sort=new")


labels = st.text(st.characters(min_codepoint=32, max_codepoint=0x24F), min_size=1, max_size=12).filter(
    lambda text: any(char.isalnum() for char in text) and not text.isspace())


@given(
    topics=st.lists(labels, max_size=3),
    providers=st.lists(st.from_regex(r"[a-z]{1,8}\.(com|org|co\.uk)", fullmatch=True), max_size=3),
    types=st.lists(st.sampled_from(["article", "video", "Podcast", "live blog"]), max_size=2),
    min_quality=st.none() | st.integers(-100, 200),
    since=st.none() | st.tuples(st.integers(1, 500), st.sampled_from(["minutes", "hours", "days", "weeks"])),
)
def test_canonical_form_round_trips(topics, providers, types, min_quality, since):
    mapping = {"topics": topics, "providers": providers, "types": types}
    mapping = {key: value for key, value in mapping.items() if value}
    if min_quality is not None:
        mapping["min_quality"] = min_quality
    if since is not None:
        mapping["since"] = f"{since[0]} {since[1]}"
    try:
        query = Query.from_mapping(mapping)
    except QueryError:  # a label without a slug (e.g. only combining marks)
        return
    assert parse_request(query.canonical()).query == query
    assert parse_age(format_age(query.since)) == query.since if query.since else True
