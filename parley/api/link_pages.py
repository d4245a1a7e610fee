"""The redirector's pages: the warning a user may click through, and the refusal.

Plain HTML with no script and no inline style (their stylesheet is a file of the web client's):
they work in any browser, with a keyboard and a screen reader (real links and headings, a
language, a title that says what happened). Everything shown that a person wrote (rule, reason,
URL) is escaped.
"""

from __future__ import annotations

from html import escape
from typing import Final

from parley.api.page_head import ICON, PAGE_STYLESHEET
from parley.core.links.checks import LinkCheck
from parley.services.link_checks import WARNING_REASONS

# Nothing on these pages may run, nor load more than Parley's own stylesheets and icon, nor tell
# the destination where the user was.
HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}

# Parley's icon in the tab, and the look of these pages: files of the web client's, as the
# policy allows no inline style.
HEAD_LINKS: Final = ICON + PAGE_STYLESHEET + '<link rel="stylesheet" href="/css/link.css">\n'


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{escape(title)} · Parley</title>\n"
        f"{HEAD_LINKS}</head>\n"
        f"<body>\n<main>\n<h1>{escape(title)}</h1>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _why(check: LinkCheck) -> str:
    """The rule and its reason, or why the link could not be checked."""
    if check.rule is not None:
        return (
            f"<p>Rule: <strong>{escape(check.rule)}</strong></p>\n"
            f"<p>Reason: {escape(check.reason or '')}</p>"
        )
    reason = WARNING_REASONS.get(check.reason or "", "This link could not be checked.")
    return f"<p>{escape(reason)}</p>"


def _stopped(lead: str, target: str, check: LinkCheck) -> str:
    """Where the link leads, and why the redirector stopped on the way."""
    return f'<p>{lead}</p>\n<p class="url">{escape(target)}</p>\n{_why(check)}\n'


# Home, not the page before: without script there is no going back in the history.
_BACK: Final = '<a class="primary" href="/">Back to Parley</a>\n'


def interstitial(target: str, check: LinkCheck) -> str:
    onward = escape(target, quote=True)
    return _page(
        "This link may be unsafe",
        _stopped("You are about to leave Parley for:", target, check)
        + f'<nav aria-label="Your choice">\n{_BACK}'
        + f'<a href="{onward}" rel="noopener noreferrer nofollow">Continue</a>\n</nav>',
    )


def refusal(target: str, check: LinkCheck) -> str:
    return _page(
        "This link is blocked",
        _stopped("Parley does not send anyone to:", target, check)
        + f'<nav aria-label="Where to go">\n{_BACK}</nav>',
    )


def not_found() -> str:
    return _page(
        "No such link",
        f'<p>This link does not exist.</p>\n<nav aria-label="Where to go">\n{_BACK}</nav>',
    )
