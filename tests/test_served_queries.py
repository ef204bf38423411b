"""Served queries, fast: the new Query fields, the one canonical spelling of a request,
the caps, and the selection index's pages against a plain filter (in process; the same
over real gunicorn is in test_query_gunicorn.py)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qsl

import pytest
from helpers import SEEDS

from frfeeds.config.starter import starter_file
from frfeeds.plan import plan_site
from frfeeds.query import MAX_QUERY_CHARS, MAX_VALUES, Query, QueryError, Request, parse_request
from frfeeds.read.loader import load_records
from frfeeds.selection_index import NoSuchPage, SelectionIndex
from frfeeds.settings import Settings


def test_exclude_fields_leave_records_out_in_custom_feeds_too():
    query = Query.from_mapping({"exclude_topics": ["Computer Vision", "AI"], "exclude_providers": ["WWW.Example.COM"]},
                               "feeds.custom[0]")
    assert query.exclude_topics == ("ai", "computer-vision") and query.exclude_providers == ("example.com",)
    assert query.canonical() == "exclude_providers=example.com&exclude_topics=ai,computer-vision"
    assert parse_request(query.canonical()).query == query and bool(query)
    unknown = r"^feeds.custom\[0\].exclude_topic: unknown key; did you mean exclude_topics\?"
    with pytest.raises(QueryError, match=unknown):
        Query.from_mapping({"exclude_topic": ["AI"]}, "feeds.custom[0]")
    text = starter_file()
    assert "# exclude_topics = [" in text and "# exclude_providers = [" in text


def test_one_canonical_spelling_per_selection():
    spellings = [
        "topics=Robotics,AI&types=Video&min_quality=060&since=14%20days&page=1",
        "since=2w&topics=ai&topics=robotics&types=video&min_quality=60",
        "types=video&topics=robotics,%20ai,ai&min_quality=%2B60&since=336h&providers=&page=",
    ]
    canonical = "min_quality=60&since=2w&topics=ai,robotics&types=video"
    assert {parse_request(text).canonical() for text in spellings} == {canonical}
    assert parse_request(canonical).canonical() == canonical  # no redirect loop
    assert parse_request("page=3&providers=WWW.NYTimes.com").canonical() == "page=3&providers=nytimes.com"
    assert parse_request("").canonical() == "" and parse_request("page=1&topics=").canonical() == ""
    assert Request(Query(topics=("ai",)), 2).with_page(1) == "topics=ai"


@pytest.mark.parametrize("text, reason", [
    ("topic=ai", "topic: unknown parameter; did you mean topics?"),
    ("utm_source=x", "utm_source: unknown parameter; known"),
    ("min_quality=high", "min_quality: must be a whole number, not 'high'"),
    ("min_quality=99999999", "min_quality: must be a whole number"),
    ("min_quality=2000000", "min_quality: must be between -1000000 and 1000000, not 2000000"),
    ("min_quality=1&min_quality=2", "min_quality: given twice"),
    ("since=3%20fortnights", "since: must be an age such as"),
    ("page=0", "page: must be a whole number from 1 to 100000, not '0'"),
    ("page=-1", "page: must be a whole number"),
    ("topics=" + ",".join(f"t{n}" for n in range(MAX_VALUES + 1)),
     f"topics: {MAX_VALUES + 1} values; at most {MAX_VALUES}"),
    ("topics=" + "a" * MAX_QUERY_CHARS, f"at most {MAX_QUERY_CHARS} are served"),
    ("topics=%FF", "the query string cannot be read"),
    ("topics=%21%21", "has no letters or digits"),
])
def test_bad_requests_are_one_line_reasons(text, reason):
    with pytest.raises(QueryError) as caught:
        parse_request(text)
    assert reason in str(caught.value) and "\n" not in str(caught.value)


def test_twenty_values_are_served():
    assert len(parse_request("topics=" + ",".join(f"t{n}" for n in range(MAX_VALUES))).query.topics) == MAX_VALUES


@pytest.fixture(scope="module")
def generated_plan(generated):
    settings = Settings(records=generated, limit=7, cache=None)
    loaded = load_records(generated)
    plan = plan_site(settings, loaded.summaries, None)
    return plan, SelectionIndex.of(plan.selection.records, plan.feeds, settings.limit)


def plain_filter(records, base: dict, query: dict, now: dt.datetime) -> list[str]:
    """The selection written out plainly: each record checked field by field."""
    chosen = []
    for record in sorted(records, key=lambda r: (-r.published_at.timestamp(), r.url)):
        slugs = {topic.slug for topic in record.topics}
        kind = record.type.lower() if record.type else None
        ok = True
        for conditions in (base, query):
            ok &= not conditions.get("topics") or bool(slugs & set(conditions["topics"]))
            ok &= not conditions.get("providers") or record.provider.domain in conditions["providers"]
            ok &= not conditions.get("types") or kind in conditions["types"]
            ok &= not slugs & set(conditions.get("exclude_topics", ()))
            ok &= record.provider.domain not in conditions.get("exclude_providers", ())
            if "min_quality" in conditions:
                ok &= record.quality is not None and record.quality >= conditions["min_quality"]
            if "since_days" in conditions:
                ok &= record.published_at >= now - dt.timedelta(days=conditions["since_days"])
        if ok:
            chosen.append(record.url)
    return chosen


def all_pages(index: SelectionIndex, feed_path: str, text: str) -> list[str]:
    request = parse_request(text)
    urls, page = [], 1
    while True:
        variant = index.variant(feed_path, Request(request.query, page))
        links = {link.rel: link.query for link in variant.feed.links}
        assert links["first"] == request.with_page(1) and links["last"] == request.with_page(variant.pages)
        assert variant.feed.url_query == Request(request.query, page).canonical()
        assert len(variant.feed.entries) <= index.limit
        urls += [entry.url for entry in variant.feed.entries]
        if "next" not in links:
            assert page == variant.pages
            break
        assert dict(parse_qsl(links["next"]))["page"] == str(page + 1)
        page += 1
    with pytest.raises(NoSuchPage):
        index.variant(feed_path, Request(request.query, page + 1))
    assert len(urls) == variant.total
    return urls


def test_pages_of_a_query_are_the_plain_filter_in_order(generated_plan):
    plan, index = generated_plan
    records = plan.selection.records
    now = max(record.published_at for record in records)
    topics = sorted({t.slug for r in records for t in r.topics}, key=lambda s: -sum(
        s in {t.slug for t in r.topics} for r in records))
    providers = sorted({r.provider.domain for r in records},
                       key=lambda d: -sum(r.provider.domain == d for r in records))
    cases = [
        ("feeds/all", {}, f"topics={topics[0]},{topics[1]}", {"topics": topics[:2]}),
        ("feeds/all", {}, f"topics={topics[0]}&providers={providers[0]},{providers[1]}",
         {"topics": topics[:1], "providers": providers[:2]}),
        ("feeds/all", {}, f"exclude_topics={topics[0]}&exclude_providers={providers[0]}&min_quality=50",
         {"exclude_topics": topics[:1], "exclude_providers": providers[:1], "min_quality": 50}),
        ("feeds/all", {}, "since=30d&types=article", {"since_days": 30, "types": ["article"]}),
        (f"feeds/{topics[0]}", {"topics": topics[:1]}, f"topics={topics[1]}&min_quality=10",
         {"topics": topics[1:2], "min_quality": 10}),
        (f"feeds/providers/{providers[0]}", {"providers": providers[:1]}, f"exclude_topics={topics[0]}",
         {"exclude_topics": topics[:1]}),
        ("feeds/all", {}, "providers=" + providers[0] + "&topics=" + topics[-1] + "&min_quality=1000000", None),
    ]
    nonempty = 0
    for feed_path, base, text, conditions in cases:
        expected = [] if conditions is None else plain_filter(records, base, conditions, now)
        assert all_pages(index, feed_path, text) == expected, (feed_path, text)
        nonempty += len(expected) > 2 * index.limit
    assert nonempty >= 3  # the cases page for real


def test_unknown_values_are_refused_with_the_nearest(generated_plan):
    _, index = generated_plan
    wrong = r"^topics: no published story has the topic 'robotic'; did you mean robotics\?$"
    with pytest.raises(QueryError, match=wrong):
        index.check(Query(topics=("robotic",)))
    with pytest.raises(QueryError, match=r"^exclude_providers: no published story has the provider 'nowhere.invalid'$"):
        index.check(Query(exclude_providers=("nowhere.invalid",)))


def test_the_seeds_index_covers_stories_past_the_limit():
    settings = Settings(records=SEEDS, limit=1, cache=None)
    plan = plan_site(settings, load_records(SEEDS).summaries, None)
    index = SelectionIndex.of(plan.selection.records, plan.feeds, 1)
    assert len(plan.feeds[0].entries) == 1 and len(index.ordered) == len(plan.selection.records) > 1
    variant = index.variant("feeds/all", Request(page=2))
    assert variant.feed.entries == (index.ordered[1],) and variant.feed.url_query == "page=2"


def test_a_flood_of_distinct_queries_stays_within_the_memo_budget(generated):
    """Each distinct query is rendered and kept; the memo drops the oldest past its budget."""
    from frfeeds.read.loader import load_records as load
    from frfeeds.serve.served import RESOLVED_QUERIES, RenderMemo, ServedTree
    from frfeeds.serve.snapshot import Snapshot

    settings = Settings(records=generated, limit=5, cache=None)
    loaded = load(generated)
    plan = plan_site(settings, loaded.summaries, None)
    memo = RenderMemo(budget=256 << 10)
    served = ServedTree(plan, Snapshot.write(loaded, (r.path for r in plan.selection.records)), memo, limit=5)
    sizes = set()
    for number in range(600):
        answer = served.query("feeds/all.json", parse_request(f"min_quality={number - 300}"))
        assert answer.data.startswith(b"{") and b"min_quality" in answer.data
        sizes.add(memo.size)
    assert max(sizes) <= memo.budget and len(memo) < 600 * 4
    again = served.query("feeds/all.json", parse_request("min_quality=299"))  # the newest is still held
    assert again is served.query("feeds/all.json", parse_request("min_quality=299"))
    assert len(served._resolved) <= RESOLVED_QUERIES
