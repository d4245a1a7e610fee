"""Link checks following a shortener's chain over a transport the test answers itself
(httpx.MockTransport): no network, no server, each hop judged against the rules."""

from __future__ import annotations

import httpx

from parley.config import Settings
from parley.core.links.rules import Decision, LinkRule, MatchKind, RuleSet
from parley.services.link_checks import LinkChecks

# Where the test resolves every name: public, since the follower contacts no other kind.
PUBLIC = "93.184.216.34"
CHAINS = {
    "short.test/bad": "https://evil.example/payload",
    "short.test/good": "https://fine.example/page",
    "short.test/twice": "http://short.test/good",
}


def checks_answered_by(seen: list[tuple[str, str, str]]) -> LinkChecks:
    def answer(request: httpx.Request) -> httpx.Response:
        host = request.headers["host"]
        seen.append((request.method, host, request.url.host))
        location = CHAINS.get(f"{host}{request.url.path}")
        if location is None:
            return httpx.Response(200, text="a destination")
        return httpx.Response(301, headers={"Location": location})

    rules = RuleSet()
    rules.add(LinkRule("r1", MatchKind.HOST, "evil.example", Decision.BLOCK, "malware", "Bad host"))
    settings = Settings(link_shorteners=["short.test"])
    checks = LinkChecks(rules, settings, transport=httpx.MockTransport(answer))

    async def resolve(host: str, port: int) -> list[str]:
        return [PUBLIC]

    checks.follower.resolve = resolve
    return checks


async def test_a_chain_is_followed_over_the_given_transport_and_each_hop_judged() -> None:
    seen: list[tuple[str, str, str]] = []
    checks = checks_answered_by(seen)

    bad = await checks.check("http://short.test/bad")
    assert (bad.verdict, bad.rule) == ("block", "malware")
    assert [h.url for h in bad.hops] == ["https://evil.example/payload"]
    # A blocked hop is not fetched: nothing further can make the verdict worse.
    assert seen == [("HEAD", "short.test", PUBLIC)]  # pinned to the address checked

    good = await checks.check("http://short.test/twice")
    assert good.verdict == "allow" and good.chain_error is None
    assert [h.url for h in good.hops] == [
        "http://short.test/good",
        "https://fine.example/page",
    ]
    await checks.close()
