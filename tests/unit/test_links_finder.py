"""The URL finder: what counts as a URL in user text, its exact span, its canonical form."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.core.links.finder import find_urls


def found(text: str) -> list[tuple[str, str]]:
    return [(url.text, url.canonical_url) for url in find_urls(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # schemes and www.
        ("go to https://example.com/a?b=c now", [("https://example.com/a?b=c", None)]),
        ("HTTP://Example.COM", [("HTTP://Example.COM", "http://example.com/")]),
        ("www.example.org/x", [("www.example.org/x", "http://www.example.org/x")]),
        # bare domains with a real public suffix
        ("see example.com", [("example.com", "http://example.com/")]),
        ("evil.co.uk/path?q=1", [("evil.co.uk/path?q=1", "http://evil.co.uk/path?q=1")]),
        ("EVIL.COM:8080/x", [("EVIL.COM:8080/x", "http://evil.com/x")]),
        ("a.b.example.net", [("a.b.example.net", "http://a.b.example.net/")]),
        # trailing punctuation
        ("see example.com.", [("example.com", None)]),
        ("example.com, then", [("example.com", None)]),
        ("really? example.com!", [("example.com", None)]),
        ("(see example.com)", [("example.com", None)]),
        ("(https://example.com/x)", [("https://example.com/x", None)]),
        ("'https://example.com/x'", [("https://example.com/x", None)]),
        ("*https://example.com/x*", [("https://example.com/x", None)]),
        ("https://example.com/x...", [("https://example.com/x", None)]),
        # balanced parentheses inside a URL stay
        (
            "https://en.wikipedia.org/wiki/Foo_(bar)",
            [("https://en.wikipedia.org/wiki/Foo_(bar)", None)],
        ),
        (
            "(https://en.wikipedia.org/wiki/Foo_(bar))",
            [("https://en.wikipedia.org/wiki/Foo_(bar)", None)],
        ),
        ("[t](https://x.com/a_(b))", [("https://x.com/a_(b)", None)]),
        ("<https://example.org/>", [("https://example.org/", None)]),
        # several, separated in every usual way
        ("example.com,example.org", [("example.com", None), ("example.org", None)]),
        (
            "a https://one.example.com/ b two.example.net",
            [("https://one.example.com/", None), ("two.example.net", None)],
        ),
        # full-width and ideographic forms
        ("ｅｘａｍｐｌｅ．ｃｏｍ", [("ｅｘａｍｐｌｅ．ｃｏｍ", "http://example.com/")]),
        ("visit example。com now", [("example。com", "http://example.com/")]),
        (
            "ＨＴＴＰＳ：／／ｅｖｉｌ．ｃｏｍ",
            [("ＨＴＴＰＳ：／／ｅｖｉｌ．ｃｏｍ", "https://evil.com/")],
        ),
        ("看看example.com的文章", [("example.com", "http://example.com/")]),
        # IDN
        ("bücher.de", [("bücher.de", "http://xn--bcher-kva.de/")]),
        ("пример.рф/x", [("пример.рф/x", "http://xn--e1afmkfd.xn--p1ai/x")]),
        # not URLs
        ("write to bob@example.com", []),
        ("bob.smith@example.co.uk", []),
        ("mailto:bob@example.com", []),
        ("file.txt and version 1.2.3 and 192.168.1.1", []),
        ("no.such-tld-here", []),
        ("trailing dot example.", []),
        ("http:// and https://", []),
        ("javascript:alert(1)", []),
        ("", []),
    ],
)
def test_finds(text: str, expected: list[tuple[str, str | None]]) -> None:
    result = found(text)
    assert [t for t, _ in result] == [t for t, _ in expected]
    for (_, canonical), (_, want) in zip(result, expected, strict=True):
        if want is not None:
            assert canonical == want


def test_spans_point_into_the_original_text() -> None:
    text = "ｓｅｅ ｅｘａｍｐｌｅ．ｃｏｍ/x, and (https://b.example.org/y_(z))."
    for url in find_urls(text):
        assert text[url.start : url.end] == url.text
    assert [u.text for u in find_urls(text)] == [
        "ｅｘａｍｐｌｅ．ｃｏｍ/x",
        "https://b.example.org/y_(z)",
    ]


def test_canonical_url_feeds_rules() -> None:
    from parley.core.links.rules import Decision, LinkRule, MatchKind, RuleSet

    rules = RuleSet([LinkRule("r", MatchKind.HOST, "evil.com", Decision.BLOCK, "spam", "spam")])
    text = "hi ＥＶＩＬ．ＣＯＭ/x and http://good.com@evil.com/ and www.ok.com"
    verdicts = [rules.check(u.canonical_url).decision for u in find_urls(text)]
    assert verdicts == [Decision.BLOCK, Decision.BLOCK, Decision.ALLOW]


@given(
    st.lists(
        st.sampled_from([*"abc.-/:@()[],!? _", "com", "http://", "www.", "。", "ｅ", "看"]),
        max_size=40,
    ).map("".join)
)
def test_found_spans_are_exact_and_canonical(text: str) -> None:
    previous_end = 0
    for url in find_urls(text):
        assert previous_end <= url.start < url.end <= len(text)
        assert text[url.start : url.end] == url.text
        assert url.text[-1] not in ".,:;!?"
        assert url.canonical_url.startswith(("http://", "https://"))
        previous_end = url.end


@pytest.mark.parametrize(
    "text",
    [
        "see //evil.example/x",
        "ftp://evil.example/file",
        "wss://evil.example/socket",
        "ws://user@evil.example:8080/",
        "\\\\evil.example\\x",
        "ＦＴＰ：／／evil.example/x",
        "xhttps://evil.example/",
    ],
)
def test_scheme_relative_and_other_schemes_are_found_for_checks_but_are_not_web_links(
    text: str,
) -> None:
    (url,) = find_urls(text)
    assert url.canonical_url.startswith("http://evil.example/")
    assert not url.web
    assert text[url.start : url.end] == url.text


def test_web_links_are_the_http_ones() -> None:
    text = "https://a.example www.b.example c.com //d.example ftp://e.example"
    assert [(u.text, u.web) for u in find_urls(text)] == [
        ("https://a.example", True),
        ("www.b.example", True),
        ("c.com", True),
        ("//d.example", False),
        ("ftp://e.example", False),
    ]
