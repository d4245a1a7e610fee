"""The redirector's pages: the warning a user may click through, and the refusal.

Plain HTML with no script: they work in any browser, with a keyboard and a screen reader (real
links and headings, a language, a title that says what happened). Everything shown that a person
wrote (rule, reason, URL) is escaped.
"""

from __future__ import annotations

from html import escape
from typing import Any, Final

from parley.services.links import WARNING_REASONS

# Nothing on these pages may load or run anything, nor tell the destination where the user was.
HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}

_STYLE: Final = """
body { font: 1.1rem/1.5 system-ui, sans-serif; margin: 0; background: #f6f6f6; color: #1a1a1a; }
main { max-width: 36rem; margin: 12vh auto; padding: 2rem; background: #fff; border-radius: 12px;
       box-shadow: 0 1px 4px #0002; }
h1 { font-size: 1.5rem; margin-top: 0; }
.url { word-break: break-all; font-family: ui-monospace, monospace; background: #f0f0f0;
       padding: .5rem; border-radius: 6px; }
nav { display: flex; gap: 1rem; flex-wrap: wrap; margin-top: 1.5rem; }
nav a { padding: .6rem 1.2rem; border-radius: 999px; text-decoration: none; font-weight: 600;
        border: 2px solid #1a1a1a; color: #1a1a1a; }
nav a.primary { background: #1a1a1a; color: #fff; }
a:focus-visible { outline: 3px solid #0a58ca; outline-offset: 2px; }
"""


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{escape(title)} · Parley</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _why(check: dict[str, Any]) -> str:
    """The rule and its reason, or why the link could not be checked."""
    if check["rule"] is not None:
        return (
            f"<p>Rule: <strong>{escape(check['rule'])}</strong></p>\n"
            f"<p>Reason: {escape(check['reason'] or '')}</p>"
        )
    reason = WARNING_REASONS.get(check["reason"] or "", "This link could not be checked.")
    return f"<p>{escape(reason)}</p>"


def interstitial(target: str, check: dict[str, Any]) -> str:
    return _page(
        "This link may be unsafe",
        "<h1>This link may be unsafe</h1>\n"
        "<p>You are about to leave Parley for:</p>\n"
        f'<p class="url">{escape(target)}</p>\n'
        f"{_why(check)}\n"
        '<nav aria-label="Your choice">\n'
        '<a class="primary" href="/">Go back</a>\n'
        f'<a href="{escape(target, quote=True)}" rel="noopener noreferrer nofollow">Continue</a>\n'
        "</nav>",
    )


def refusal(target: str, check: dict[str, Any]) -> str:
    return _page(
        "This link is blocked",
        "<h1>This link is blocked</h1>\n"
        "<p>Parley does not send anyone to:</p>\n"
        f'<p class="url">{escape(target)}</p>\n'
        f"{_why(check)}\n"
        '<nav aria-label="Where to go">\n<a class="primary" href="/">Go back</a>\n</nav>',
    )


def not_found() -> str:
    return _page(
        "No such link",
        "<h1>No such link</h1>\n<p>This link does not exist.</p>\n"
        '<nav aria-label="Where to go">\n<a class="primary" href="/">Go back</a>\n</nav>',
    )
