"""An address that does not exist answers a page a person can read, not JSON.

Found by probing: a typed or stale address (``/histroy``) and a page opened with the
wrong method (``GET /logout``) answered ``{"detail":"Not Found"}`` /
``{"detail":"Method Not Allowed"}`` as raw JSON — the router's own errors bypassed the
app's error page, which every other refusal of a page shows. The JSON API keeps JSON.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_web import Web


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/histroy", 404), ("GET", "/clinic/nowhere/x", 404), ("GET", "/logout", 405),
     ("DELETE", "/home", 405)],
)  # fmt: skip
def test_a_page_that_is_not_there_is_a_page(
    tmp_path: Path, method: str, path: str, status: int
) -> None:
    c, _, _ = Web(tmp_path).patient("ana")
    r = c.request(method, path, headers={"Accept": "text/html"})
    assert r.status_code == status
    assert r.headers["content-type"].startswith("text/html"), r.text[:200]
    assert "<h1>" in r.text and '"detail"' not in r.text


@pytest.mark.parametrize(("method", "path"), [("GET", "/api/nowhere"), ("PUT", "/api/me")])
def test_the_api_keeps_json(tmp_path: Path, method: str, path: str) -> None:
    c, _, _ = Web(tmp_path).patient("ana")
    r = c.request(method, path)
    assert r.status_code in (404, 405)
    assert r.headers["content-type"].startswith("application/json") and "detail" in r.json()
