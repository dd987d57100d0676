"""The API's documentation page (``/api/docs``), served entirely from painlink itself.

Why not FastAPI's own page: it loads Swagger UI from a CDN and starts it with an inline
script, and painlink's Content-Security-Policy (``script-src 'self'``, no
``'unsafe-inline'``) blocks both — the page was blank, and it could never work on a
server without internet access. Here Swagger UI's files are vendored under
``static/swagger-ui/`` (Apache-2.0, its LICENSE and NOTICE beside them) and started by
``static/api-docs.js``, an external script, so the CSP stays as strict as for every
other page.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

#: the Swagger UI release vendored under static/swagger-ui/ (npm ``swagger-ui-dist``)
SWAGGER_UI_VERSION = "5.35.0"

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>painlink API</title>
<link rel="stylesheet" href="/static/swagger-ui/swagger-ui.css">
<link rel="stylesheet" href="/static/api-docs.css">
</head>
<body>
<main id="swagger-ui" data-spec="{spec}"></main>
<script src="/static/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script>
</body>
</html>
"""


def add_api_docs(app: FastAPI, path: str = "/api/docs") -> None:
    """Serve the documentation page at ``path`` for the app's OpenAPI document."""
    spec = app.openapi_url or "/api/openapi.json"

    async def docs(_request: Request) -> HTMLResponse:
        return HTMLResponse(PAGE.replace("{spec}", spec))

    app.add_route(path, docs, methods=["GET"], include_in_schema=False)
