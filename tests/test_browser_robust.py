"""In a real browser: the API documentation works offline under the app's own CSP.

Uses the live server and Chromium of tests/test_browser.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_browser import _AUDIT_JS, SIZES, browser, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow

from playwright.sync_api import Browser, Route, expect  # noqa: E402

SHOTS = Path("/tmp/shots-robust")


def test_api_docs_render_their_operations_offline(server: str, browser: Browser) -> None:  # noqa: F811
    """/api/docs was blank: Swagger UI came from a CDN the CSP blocks. Every request
    that leaves the server is refused here, as on a machine without internet."""
    SHOTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport=SIZES["desktop"])
    outside: list[str] = []
    refused: list[str] = []

    def offline(route: Route) -> None:
        if route.request.url.startswith(server):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", offline)
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(f"{server}/api/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=15_000)
    assert page.locator(".opblock").count() >= 10
    expect(page.get_by_text("/api/patients/{patient_id}/attacks").first).to_be_visible()
    audits = {}
    for size in ("desktop", "phone"):
        page.set_viewport_size(SIZES[size])
        page.screenshot(path=str(SHOTS / f"api-docs-{size}.png"), full_page=False)
        audits[size] = {k: v for k, v in page.evaluate(_AUDIT_JS).items() if v}
    # Swagger UI's own greys and small buttons, overridden in static/api-docs.css
    assert audits == {"desktop": {}, "phone": {}}, audits
    assert outside == [], f"the docs page reached outside the server: {outside}"
    assert refused == [], f"the CSP refused part of the page: {refused}"
    page.close()
