"""`/docs`: Swagger UI from files Parley serves itself, under the same Content-Security-Policy as
the web client (no CDN, no inline script). `make setup` fetches a pinned, checksummed
swagger-ui-dist into the web client's `vendor/` folder; without it, the page says so and points
to `/openapi.json`, which is always served.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from parley.api.page_head import ICON

ASSETS: Final = "/vendor/swagger-ui"

_PAGE: Final = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Parley API</title>
{ICON}<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
<script src="{ASSETS}/swagger-ui-bundle.js" defer></script>
<script src="/js/api-docs.js" defer></script>
</head>
<body>
<div id="swagger-ui"></div>
</body>
</html>
"""

_MISSING: Final = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Parley API</title>
{ICON}</head>
<body>
<h1>Parley API</h1>
<p>The API browser's files are not installed on this server (<code>make setup</code> fetches
them). The OpenAPI schema is at <a href="/openapi.json">/openapi.json</a>.</p>
</body>
</html>
"""


def router(web: Path) -> APIRouter:
    """The docs page, for the web client's folder `web` (where `vendor/` is looked for)."""
    docs = APIRouter(include_in_schema=False)
    bundle = web / ASSETS.lstrip("/") / "swagger-ui-bundle.js"

    @docs.get("/docs", response_class=HTMLResponse)
    async def swagger_ui() -> HTMLResponse:
        if not bundle.exists():
            return HTMLResponse(_MISSING, status_code=404)
        return HTMLResponse(_PAGE)

    return docs
