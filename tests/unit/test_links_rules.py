"""Link rules: what each kind of rule matches, block over warn, add/remove, and bypass attempts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.core.links.canonical import canonicalize
from parley.core.links.rules import Decision, LinkRule, MatchKind, RuleSet, rule_key


def rule(
    rule_id: str, match: str, pattern: str, verdict: str = "block", policy: str = "spam"
) -> LinkRule:
    return LinkRule(
        id=rule_id,
        match=MatchKind(match),
        pattern=pattern,
        verdict=Decision(verdict),
        rule=policy,
        reason=f"{policy} seen at {pattern}",
    )


def check(rules: RuleSet, url: str) -> Decision:
    return rules.check(canonicalize(url)).decision


@pytest.fixture
def rules() -> RuleSet:
    return RuleSet(
        [
            rule("host", "host", "evil.example"),
            rule("prefix", "prefix", "good.example/bad"),
            rule("url", "url", "http://fine.example/page?id=7"),
            rule("ip", "host", "192.168.1.1"),
            rule("idn", "host", "bücher.example"),
        ]
    )


# Each of these is a way of writing a URL that the rules above cover.
BYPASS_ATTEMPTS = [
    # case
    "http://EVIL.Example/",
    "HTTP://Evil.EXAMPLE/x",
    "http://good.example/BAD".replace("BAD", "bad"),
    "http://GOOD.example/bad",
    # percent-encoding of host and path
    "http://%65vil.example/",
    "http://%45%56%49%4C.example/",
    "http://%2565vil.example/",
    "http://good.example/%62ad",
    "http://good.example/%2562ad/x",
    "http://fine.example/p%61ge?id=7",
    "http://fine.example/page?%69d=7",
    # userinfo
    "http://good.example@evil.example/",
    "http://user:pass@evil.example/",
    "http://good.example%40evil.example/",
    "http:\\\\evil.example\\@good.example/",
    "http://evil.example?@good.example/",
    # IP forms of 192.168.1.1
    "http://3232235777/",
    "http://0xC0A80101/",
    "http://0300.0250.1.1/",
    "http://0xc0.0xa8.0x01.0x01/",
    "http://192.168.257/",
    "http://192.11010305/",
    "http://[::ffff:192.168.1.1]/",
    "http://１９２．１６８．１．１/",
    # trailing and doubled dots
    "http://evil.example./",
    "http://evil.example.../",
    "http://.evil..example/",
    "http://good.example./bad",
    # full-width and IDN hosts
    "http://ｅｖｉｌ．ｅｘａｍｐｌｅ/",
    "http://ＥＶＩＬ.example/",
    "http://evil。example/",
    "http://bücher.example/",
    "http://BÜCHER.example/",
    "http://xn--bcher-kva.example/",
    "http://b%C3%BCcher.example/",
    "http://www.bücher.example/",
    # ports, default or not
    "http://evil.example:80/",
    "https://evil.example:443/",
    "http://evil.example:8080/",
    "http://good.example:80/bad",
    "https://good.example:8443/bad",
    "http://fine.example:80/page?id=7",
    "https://fine.example/page?id=7",
    # fragments
    "http://evil.example/#x",
    "http://good.example/bad#frag",
    "http://fine.example/page?id=7#top",
    # dot segments
    "http://good.example/x/../bad",
    "http://good.example/./bad",
    "http://good.example/x/%2e%2e/bad",
    "http://good.example/bad/./x/..",
    "http://good.example/../../bad",
    # double slashes
    "http://good.example//bad",
    "http://good.example/bad//x",
    "http:////evil.example/",
    # subdomains, schemes missing, whitespace
    "http://a.b.evil.example/x",
    "www.evil.example",
    "evil.example/x",
    "http://www.good.example/bad",
    "  http://evil.example/  ",
    "http://evil.exa\tmple/",
    "http://good.example/b\nad",
]


@pytest.mark.parametrize("url", BYPASS_ATTEMPTS)
def test_bypass_attempts_are_caught(rules: RuleSet, url: str) -> None:
    assert check(rules, url) is Decision.BLOCK


NOT_COVERED = [
    "http://badexample.com/",
    "http://notevil.example/",
    "http://evil.example.com/",
    "http://evil-example/",
    "http://good.example/",
    "http://good.example/badge",
    "http://good.example/x/bad",
    "http://good.example/%2Fbadx",
    "http://fine.example/page",
    "http://fine.example/page?id=8",
    "http://fine.example/page?id=7&x=1",
    "http://www.fine.example/page?id=7",
    "http://192.168.1.2/",
    "http://1.192.168.1.1/",
    "http://buecher.example/",
]


@pytest.mark.parametrize("url", NOT_COVERED)
def test_neighbours_are_allowed(rules: RuleSet, url: str) -> None:
    assert check(rules, url) is Decision.ALLOW


def test_verdict_names_the_rule(rules: RuleSet) -> None:
    verdict = rules.check(canonicalize("http://sub.evil.example/"))
    assert verdict.rule is not None
    assert verdict.rule_id == "host"
    assert verdict.rule.rule == "spam"
    assert rules.check(canonicalize("http://ok.example/")).rule is None


def test_block_wins_over_warn_whatever_the_order() -> None:
    for order in ([0, 1, 2], [2, 1, 0], [1, 2, 0]):
        candidates = [
            rule("w1", "host", "example.com", "warn"),
            rule("b", "prefix", "example.com/a", "block"),
            rule("w2", "url", "http://sub.example.com/a/b", "warn"),
        ]
        rules = RuleSet([candidates[i] for i in order])
        verdict = rules.check(canonicalize("http://sub.example.com/a/b"))
        assert verdict.decision is Decision.BLOCK
        assert verdict.rule_id == "b"
        assert rules.check(canonicalize("http://example.com/z")).decision is Decision.WARN


def test_two_rules_on_one_key() -> None:
    rules = RuleSet([rule("w", "host", "example.com", "warn"), rule("b", "host", "EXAMPLE.com")])
    assert rules.check(canonicalize("http://example.com/")).rule_id == "b"
    rules.remove("b")
    assert rules.check(canonicalize("http://example.com/")).rule_id == "w"
    rules.remove("w")
    assert rules.check(canonicalize("http://example.com/")).decision is Decision.ALLOW
    assert len(rules) == 0


def test_most_specific_rule_is_named_among_equals() -> None:
    rules = RuleSet(
        [
            rule("host", "host", "example.com", "warn"),
            rule("short", "prefix", "example.com/a", "warn"),
            rule("long", "prefix", "example.com/a/b", "warn"),
            rule("exact", "url", "example.com/a/b/c", "warn"),
        ]
    )
    assert rules.check(canonicalize("http://example.com/a/b/c")).rule_id == "exact"
    assert rules.check(canonicalize("http://example.com/a/b/d")).rule_id == "long"
    assert rules.check(canonicalize("http://example.com/a/x")).rule_id == "short"
    assert rules.check(canonicalize("http://example.com/x")).rule_id == "host"


def test_add_and_remove_by_id() -> None:
    rules = RuleSet()
    rules.add(rule("r1", "prefix", "example.com/a/b"))
    rules.add(rule("r2", "prefix", "example.com/c"))
    assert "r1" in rules
    assert check(rules, "http://example.com/a/b/c") is Decision.BLOCK
    assert rules.remove("r1") is not None
    assert rules.remove("r1") is None
    assert check(rules, "http://example.com/a/b/c") is Decision.ALLOW
    assert check(rules, "http://example.com/c/d") is Decision.BLOCK
    rules.remove("r2")
    assert check(rules, "http://example.com/c/d") is Decision.ALLOW
    # Re-adding an id replaces the rule instead of keeping both.
    rules.add(rule("r3", "host", "example.com"))
    rules.add(rule("r3", "host", "example.org", "warn"))
    assert len(rules) == 1
    assert check(rules, "http://example.com/") is Decision.ALLOW
    assert check(rules, "http://example.org/") is Decision.WARN


def test_prefix_root_is_the_whole_host() -> None:
    rules = RuleSet([rule("root", "prefix", "example.com/")])
    assert check(rules, "http://example.com/") is Decision.BLOCK
    assert check(rules, "http://a.example.com/anything") is Decision.BLOCK


def test_prefix_with_trailing_slash_is_the_same_prefix() -> None:
    rules = RuleSet([rule("p", "prefix", "example.com/name/")])
    assert check(rules, "http://example.com/name") is Decision.BLOCK
    assert check(rules, "http://example.com/name/x") is Decision.BLOCK
    assert check(rules, "http://example.com/namesake") is Decision.ALLOW


@pytest.mark.parametrize(
    ("match", "pattern"),
    [
        ("host", "example.com/path"),
        ("host", "example.com/?q"),
        ("prefix", "example.com/a?q=1"),
        ("host", "javascript:alert(1)"),
        ("url", "http://"),
    ],
)
def test_bad_patterns_are_refused(match: str, pattern: str) -> None:
    with pytest.raises(ValueError):
        RuleSet().add(rule("x", match, pattern))


def test_allow_is_not_a_rule_verdict() -> None:
    with pytest.raises(ValueError):
        rule("x", "host", "example.com", "allow")


def test_patterns_are_canonicalized() -> None:
    assert rule_key(MatchKind.HOST, "ＥＶＩＬ.Example.") == "evil.example"
    assert rule_key(MatchKind.HOST, "https://user@evil.example:443/") == "evil.example"
    assert rule_key(MatchKind.PREFIX, "Good.Example/x/../bad/") == "good.example/bad"
    assert rule_key(MatchKind.URL, "https://Fine.example/page?id=7#x") == ("fine.example/page?id=7")


LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
SEGMENT = st.from_regex(r"[A-Za-z0-9_~.-]{1,12}", fullmatch=True).filter(
    lambda s: s not in {".", ".."}
)


@given(labels=st.lists(LABEL, min_size=1, max_size=6), path=st.lists(SEGMENT, max_size=4))
def test_host_rule_matches_every_subdomain(labels: list[str], path: list[str]) -> None:
    rules = RuleSet([rule("h", "host", "evil.example")])
    url = f"http://{'.'.join(labels)}.evil.example/{'/'.join(path)}"
    assert check(rules, url) is Decision.BLOCK


@given(label=LABEL)
def test_host_rule_never_matches_a_longer_label(label: str) -> None:
    rules = RuleSet([rule("h", "host", "example.com")])
    assert check(rules, f"http://{label}example.com/") is Decision.ALLOW
    assert check(rules, f"http://example.com{label}/") is Decision.ALLOW


@given(prefix=st.lists(SEGMENT, min_size=1, max_size=4), extra=SEGMENT, tail=st.lists(SEGMENT))
def test_segment_prefix_never_matches_a_longer_segment(
    prefix: list[str], extra: str, tail: list[str]
) -> None:
    pattern = "example.com/" + "/".join(prefix)
    rules = RuleSet([rule("p", "prefix", pattern)])
    # The strategy has no "." or ".." segments, so the longer segment is simply another segment.
    longer = "/".join([*prefix[:-1], prefix[-1] + extra, *tail])
    assert check(rules, "http://example.com/" + longer) is Decision.ALLOW
    assert check(rules, "http://example.com/" + "/".join([*prefix, *tail])) is Decision.BLOCK
