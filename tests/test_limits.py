"""Limits that keep one request from hurting the others: one database connection per
request, bounded request bodies, and the security headers on every response."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.test_web import Web


class ConnectionCount:
    """Counts connections checked out of the engine's pool at the same time, per thread
    of work (TestClient sends one request at a time, so the peak is one request's)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.now = 0
        self.peak = 0
        self._lock = threading.Lock()
        sa.event.listen(engine, "checkout", self._out)
        sa.event.listen(engine, "checkin", self._in)

    def _out(self, *_: object) -> None:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def _in(self, *_: object) -> None:
        with self._lock:
            self.now -= 1

    def reset(self) -> None:
        self.peak = self.now


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Web]:
    yield Web(tmp_path)


def test_every_request_holds_at_most_one_connection(web: Web) -> None:
    """200 users exhausted the pool because calendar and insights took a second
    connection while holding the first: each request must use one at a time."""
    c, pid, csrf = web.patient("jo")
    doc, _ = web.clinician("doc")
    c.post(f"/api/patients/{pid}/grants", json={"clinician_email": "doc@clinic.org"},
           headers={"X-CSRF-Token": csrf})  # fmt: skip
    for i in range(3):
        start = dt.datetime(2026, 11, 2 + 3 * i, 8)
        r = c.post(
            f"/api/patients/{pid}/attacks",
            json={"start": start.isoformat(), "intensity": 2},
            headers={"X-CSRF-Token": csrf},
        )
        assert r.status_code == 201
    count = ConnectionCount(web.engine)
    pages = [
        (c, "/home"),
        (c, "/calendar?month=2026-11"),
        (c, "/insights"),
        (c, "/insights/triggers.png"),
        (c, "/account/export"),
        (c, "/account/export.fhir.json"),
        (c, f"/api/patients/{pid}/calendar?month=2026-11"),
        (c, f"/api/patients/{pid}/classification"),
        (c, f"/api/patients/{pid}/insights"),
        (c, f"/api/patients/{pid}/export"),
        (c, f"/api/patients/{pid}/screens"),
        (c, f"/api/patients/{pid}/questionnaires"),
        (doc, "/clinic"),
        (doc, f"/clinic/patients/{pid}"),
        (doc, "/api/clinic/patients"),
    ]
    for client, path in pages:
        count.reset()
        r = client.get(path)
        assert r.status_code == 200, (path, r.status_code)
        assert count.peak <= 1, f"{path} held {count.peak} connections at once"
