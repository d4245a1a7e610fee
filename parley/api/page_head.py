"""What the pages the server renders itself (/docs, a space's share page, the redirector's pages)
name in their head, so that they stay alike: Parley's icon (index.html names the same file), and
for the pages outside the app the stylesheet they share (web/css/page.css)."""

from __future__ import annotations

from typing import Final

ICON: Final = '<link rel="icon" href="/icon.svg" type="image/svg+xml">\n'
PAGE_STYLESHEET: Final = '<link rel="stylesheet" href="/css/page.css">\n'
