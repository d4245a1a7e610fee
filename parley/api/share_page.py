"""A space's share page, `/s/{id}`: what a link to the space opens for anyone, with no account.

Rendered here rather than by the single-page client so that it reads without script (title,
host, stage, in the HTML a link preview fetches) and needs no sign-in. The play button is the
one script, `/js/share.js`, which listens by HLS (hls.js, or the browser's own HLS in Safari);
the page's policy is the application's (security_headers.py): Parley's own scripts, media from
itself and MediaSource blobs. Everything a person wrote is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from html import escape
from typing import Final

from parley.api.page_head import ICON, PAGE_STYLESHEET
from parley.core.accounts import Post
from parley.core.instants import readable_time
from parley.core.links.render import TextPart
from parley.core.spaces.model import Role, Space, SpaceStatus
from parley.services.listener_cap import hls_playlist_path
from parley.services.views import SpaceView

# The stage changes, the space ends: a cache may keep the page a few seconds, no more.
CACHE_CONTROL: Final = "public, max-age=5"
ROLE_NAMES: Final = {Role.HOST: "host", Role.COHOST: "cohost", Role.SPEAKER: "speaker"}
STATE_NAMES: Final = {
    SpaceStatus.LIVE: "Live",
    SpaceStatus.SCHEDULED: "Scheduled",
    SpaceStatus.ENDED: "Ended",
    SpaceStatus.CANCELLED: "Cancelled",
}


def _page(title: str, body: str, *, description: str = "", script: bool = False) -> str:
    meta = f'<meta property="og:title" content="{escape(title)}">\n'
    if description:
        meta += f'<meta name="description" content="{escape(description)}">\n'
        meta += f'<meta property="og:description" content="{escape(description)}">\n'
    scripts = '<script type="module" src="/js/share.js"></script>\n' if script else ""
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)} · Parley</title>\n{meta}{ICON}{PAGE_STYLESHEET}"
        f'<link rel="stylesheet" href="/css/share.css">\n{scripts}</head>\n'
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _stage(view: SpaceView) -> str:
    members = sorted(view.stage, key=lambda p: list(ROLE_NAMES).index(p.role))
    items = "".join(
        f'<li><span class="handle">@{escape(p.handle)}</span> '
        f'<span class="role">{ROLE_NAMES[p.role]}</span></li>\n'
        for p in members
        if p.role in ROLE_NAMES
    )
    heading = '<h2 id="stage-h">On stage</h2>\n'
    return f'{heading}<ul class="stage" aria-labelledby="stage-h">\n{items}</ul>'


def _text(parts: Sequence[TextPart]) -> str:
    """A post's text, its links through the redirector (which checks them again at the click)."""
    return "".join(
        f'<a href="{escape(part.href, quote=True)}" rel="nofollow ugc noopener noreferrer">'
        f"{escape(part.text)}</a>"
        if part.href
        else escape(part.text)
        for part in parts
    )


def _pinned(pinned: Sequence[tuple[Post, Sequence[TextPart]]]) -> str:
    if not pinned:
        return ""
    items = "".join(
        f'<li><p class="post">{_text(parts)}</p>'
        f'<p class="by">@{escape(post.author.handle)}</p></li>\n'
        for post, parts in pinned
    )
    heading = '<h2 id="pinned-h">Pinned</h2>\n'
    return f'{heading}<ul class="pinned" aria-labelledby="pinned-h">\n{items}</ul>\n'


def _people(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _audience(space: Space) -> str:
    """What the page of a space that is over says of who listened: who tuned in and the most at
    once (as the web client's cards say it). Not while live: its readers listen by HLS, which
    the count of the room leaves out, and "0 listeners" under a playing Stop button is wrong."""
    if space.state is not SpaceStatus.ENDED or not space.tuned_in:
        return ""
    said = _people(space.tuned_in, "person", "people") + " tuned in"
    if space.peak_listeners:
        said += f", at most {_people(space.peak_listeners, 'listener', 'listeners')} at once"
    return said


def space_page(view: SpaceView, pinned: Sequence[tuple[Post, Sequence[TextPart]]] = ()) -> str:
    """The page of a space shown to everyone; `pinned`, its pinned posts (latest first) with
    their text already in parts."""
    space, host = view.space, view.host
    host_line = ""
    if host is not None:
        host_line = (
            f'<p class="host">Hosted by <strong>{escape(host.display_name)}</strong> '
            f"@{escape(host.handle)}</p>"
        )
    live = space.state is SpaceStatus.LIVE
    player = ""
    if live:
        player = (
            '<p><button type="button" id="play" class="play" '
            f'data-space="{escape(space.id, quote=True)}" '
            f'data-playlist="{escape(hls_playlist_path(space.id), quote=True)}">'
            "Play</button></p>\n"
            '<p id="listen-status" class="status" role="status" aria-live="polite"></p>\n'
            '<audio id="player" preload="none"></audio>\n'
        )
    elif space.state is SpaceStatus.SCHEDULED and space.scheduled_start is not None:
        start = space.scheduled_start
        at = escape(start.astimezone(UTC).isoformat().replace("+00:00", "Z"), quote=True)
        starts = f'<time datetime="{at}">{escape(readable_time(start))}</time>'
        player = f'<p class="status">Starts {starts}.</p>\n'
    else:
        player = '<p class="status">This space is over.</p>\n'
    description = f'<p class="description">{escape(space.description)}</p>\n'
    audience = _audience(space)
    if audience:
        player += f'<p class="audience">{escape(audience)}.</p>\n'
    body = (
        f'<p class="badge state-{space.state.value}">{STATE_NAMES[space.state]}</p>\n'
        f'<h1 id="title">{escape(space.title)}</h1>\n{host_line}\n'
        f"{description if space.description else ''}{player}"
        f"{_stage(view) if live else ''}\n{_pinned(pinned)}"
        f'<nav><a href="/#/spaces/{escape(space.id, quote=True)}">Open in Parley</a></nav>'
    )
    return _page(space.title, body, description=space.description, script=live)


def unavailable(code: str, message: str) -> str:
    """The page for a space that is not shown: no such space, or taken down. `code` is the
    problem code an API client gets for the same request."""
    body = (
        f"<h1>{escape(message)}</h1>\n"
        f'<p class="code" data-code="{escape(code, quote=True)}">{escape(code)}</p>\n'
        '<nav><a href="/">Go to Parley</a></nav>'
    )
    return _page("Not available", body)
