"""Link rules (moderators), link checks (anyone), links for the web client, and the redirector.

The redirector lives at the root, `/l/{id}`, like a short link: it is what users click.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from parley.api import link_pages
from parley.api.deps import CallerDep, NodeDep, limit
from parley.api.errors import problem
from parley.api.schemas.links import LinkCheckOut, LinkIn, LinkOut, LinkRuleIn, LinkRuleOut
from parley.core.errors import NotFound
from parley.core.links.rules import Decision
from parley.core.ratelimit import LimitName
from parley.services.link_checks import URL_MAX

router = APIRouter(tags=["trust and safety"])
redirector = APIRouter(tags=["links"])


@router.get("/admin/link-rules", response_model=list[LinkRuleOut])
async def link_rules(
    caller: CallerDep,
    node: NodeDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[LinkRuleOut]:
    """Link rules, newest first."""
    found = await node.link_rules.list_rules(caller, limit=limit, offset=offset)
    return [LinkRuleOut.of(r) for r in found]


@router.post("/admin/link-rules", status_code=201, response_model=LinkRuleOut)
async def add_link_rule(body: LinkRuleIn, caller: CallerDep, node: NodeDep) -> LinkRuleOut:
    """Warn about or block links by host (with its subdomains), host + path prefix (whole
    segments), or exact URL. Takes effect on every node at once, for links already posted too."""
    added = await node.link_rules.add_rule(
        caller, body.match, body.pattern, body.verdict, body.rule, body.reason
    )
    return LinkRuleOut.of(added)


@router.delete("/admin/link-rules/{rule_id}", status_code=204)
async def remove_link_rule(rule_id: str, caller: CallerDep, node: NodeDep) -> Response:
    await node.link_rules.remove_rule(caller, rule_id)
    return Response(status_code=204)


@router.get(
    "/links/check", response_model=LinkCheckOut, dependencies=[limit(LimitName.LINK_CHECKS_ADDRESS)]
)
async def check_link(
    node: NodeDep, url: Annotated[str, Query(min_length=1, max_length=URL_MAX)]
) -> LinkCheckOut:
    """The verdict for a URL, as posting it would meet it: canonicalized, matched against the
    link rules, and for a link shortener every hop of its redirect chain checked too."""
    return LinkCheckOut.of(await node.link_checks.check(url))


@router.post(
    "/links", status_code=201, response_model=LinkOut, dependencies=[limit(LimitName.LINKS_MINTED)]
)
async def add_link(body: LinkIn, caller: CallerDep, node: NodeDep) -> LinkOut:
    """A redirector link (`href`) for a URL; it is checked again when clicked. Links in stored
    content need none of this: posts, profiles and spaces carry their links as `*_parts`."""
    minted = await node.redirector.add_link(body.url, caller.account.id)
    return LinkOut(id=minted.id, url=minted.url, href=minted.href)


@redirector.get(
    "/l/{link_id}",
    response_class=HTMLResponse,
    status_code=302,
    responses={
        200: {"description": "a warning page the user may click through"},
        403: {"description": "the link is blocked: a refusal page"},
        404: {"description": "no such link"},
    },
)
async def open_link(link_id: str, request: Request, node: NodeDep) -> Response:
    """Checked at click time, so a rule added after the link was posted applies: allow →
    redirect; warn → a warning page; block → a refusal page."""
    browser = "text/html" in request.headers.get("accept", "")
    try:
        target, check = await node.redirector.open_link(link_id)
    except NotFound:
        if not browser:
            raise
        return HTMLResponse(link_pages.not_found(), 404, headers=link_pages.HEADERS)
    if check.verdict is Decision.BLOCK:
        if not browser:
            # API clients get the same refusal as a problem document, like every other 4xx.
            return problem(403, "link_blocked", "This link is blocked", rule=check.rule, url=target)
        return HTMLResponse(link_pages.refusal(target, check), 403, headers=link_pages.HEADERS)
    if check.verdict is Decision.WARN:
        return HTMLResponse(link_pages.interstitial(target, check), headers=link_pages.HEADERS)
    return Response(status_code=302, headers={"Location": target, **link_pages.HEADERS})
