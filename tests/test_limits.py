"""Limits that keep one request from hurting the others: one database connection per
request, bounded request bodies, and the security headers on every response."""

from __future__ import annotations

import datetime as dt
import os
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from painlink.store.store import Store
from painlink.web import clinic_views
from tests.conftest import LAST_MONTH
from tests.ports import free_port
from tests.test_web import Web, form_token

ROOT = Path(__file__).resolve().parents[1]


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


def _registered(app: Any) -> tuple[TestClient, dict[str, str], str]:
    """A client signed in as a newly registered patient, its cookies and patient id."""
    web = TestClient(app, base_url="https://t")
    r = web.post("/register", data={"csrf_token": form_token(web, "/register"),
                                    "email": "jo@x.org", "display_name": "Jo",
                                    "password": "correct horse battery"})  # fmt: skip
    assert r.status_code == 200
    return web, dict(web.cookies.items()), web.get("/api/me").json()["patient_id"]


@pytest.mark.slow
def test_every_request_holds_at_most_one_connection(web: Web) -> None:
    """200 users exhausted the pool because calendar and insights took a second
    connection while holding the first: each request must use one at a time."""
    c, pid, csrf = web.patient("jo")
    doc, _ = web.clinician("doc")
    c.post(f"/api/patients/{pid}/grants", json={"clinician_email": "doc@clinic.org"},
           headers={"X-CSRF-Token": csrf})  # fmt: skip
    for i in range(3):
        start = dt.datetime.combine(LAST_MONTH.replace(day=2 + 3 * i), dt.time(8))
        r = c.post(
            f"/api/patients/{pid}/attacks",
            json={"start": start.isoformat(), "intensity": 2},
            headers={"X-CSRF-Token": csrf},
        )
        assert r.status_code == 201
    count = ConnectionCount(web.engine)
    pages = [
        (c, "/home"),
        (c, f"/calendar?month={LAST_MONTH:%Y-%m}"),
        (c, "/insights"),
        (c, "/insights/triggers.png"),
        (c, "/account/export"),
        (c, "/account/export.fhir.json"),
        (c, f"/api/patients/{pid}/calendar?month={LAST_MONTH:%Y-%m}"),
        (c, f"/api/patients/{pid}/classification"),
        (c, f"/api/patients/{pid}/insights"),
        (c, f"/api/patients/{pid}/export"),
        (c, f"/api/patients/{pid}/screens"),
        (c, f"/api/patients/{pid}/questionnaires"),
        (doc, "/clinic"),
        (doc, f"/clinic/patients/{pid}"),
        *[(doc, f"/clinic/patients/{pid}?tab={tab}") for tab in clinic_views.TAB_KEYS],
        (doc, "/api/clinic/patients"),
    ]
    for client, path in pages:
        count.reset()
        r = client.get(path)
        assert r.status_code == 200, (path, r.status_code)
        assert count.peak <= 1, f"{path} held {count.peak} connections at once"


# ------------------------------------------------------------------ security headers

ALWAYS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}


def _secure(r: httpx.Response, https: bool = True) -> None:
    for name, value in ALWAYS.items():
        assert r.headers.get(name) == value, (r.request.url, r.status_code, name)
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    policy = r.headers["permissions-policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in policy, feature
    if https:
        assert r.headers["strict-transport-security"].startswith("max-age=63072000")
    else:
        assert "strict-transport-security" not in r.headers
    if not r.request.url.path.startswith("/static"):
        assert r.headers["cache-control"] == "no-store"


def test_every_response_carries_the_security_headers_errors_too(web: Web) -> None:
    """The unhandled-500 path missed the headers: check a crash, a 404, a 413, a 401,
    a 403, a redirect and a plain page, on a page route and an API route."""

    def boom() -> None:
        raise RuntimeError("a bug")

    web.app.add_api_route("/api/boom", boom)
    web.app.add_api_route("/boom", boom)
    c = TestClient(web.app, base_url="https://testserver", raise_server_exceptions=False)
    checks = [
        (c.get("/api/boom"), 500),
        (c.get("/boom"), 500),
        (c.get("/nowhere"), 404),
        (c.get("/api/nowhere"), 404),
        (c.get("/api/me"), 401),
        (c.get("/home", follow_redirects=False), 303),
        (c.get("/login"), 200),
        (c.get("/static/style.css"), 200),
        (c.post("/login", content=b"x" * (70 * 1024),
                headers={"content-type": "application/x-www-form-urlencoded"}), 413),
    ]  # fmt: skip
    for r, status in checks:
        assert r.status_code == status, (r.request.url, r.status_code)
        _secure(r)
    crash = c.get("/api/boom")
    assert "Traceback" not in crash.text and "a bug" not in crash.text
    assert crash.json()["detail"].startswith("painlink could not answer")
    # plain http (no TLS, no trusted proxy saying https): no HSTS, everything else
    plain = TestClient(web.app, base_url="http://testserver", raise_server_exceptions=False)
    for r in (plain.get("/login"), plain.get("/boom"), plain.get("/api/me")):
        _secure(r, https=False)


# ------------------------------------------------------------------ body limits, in-process


@pytest.mark.slow
def test_bodies_are_limited_by_route_and_session_before_they_are_read(web: Web) -> None:
    c, pid, csrf = web.patient("jo")
    anon = web.client()
    big = b"x" * (2 * 1024 * 1024)
    json_headers = {"content-type": "application/json", "X-CSRF-Token": csrf}
    # signed in: 2 MB to an ordinary route is over its 1 MB limit, declared or streamed
    r = c.post(f"/api/patients/{pid}/attacks", content=big, headers=json_headers)
    assert r.status_code == 413 and "larger than the 1 MB" in r.json()["detail"]

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(big), 65536):
            yield big[i : i + 65536]

    r = c.post(f"/api/patients/{pid}/attacks", content=chunks(), headers=json_headers)
    assert r.status_code == 413 and "larger than the 1 MB" in r.json()["detail"]
    r = c.post("/checkin", content=chunks(),
               headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert r.status_code == 413 and "larger than the 1 MB" in r.text
    # nothing was stored by the refused writes
    assert c.get(f"/api/patients/{pid}/attacks").json() == []
    # ...and an ordinary write still works, also beside a cookie with a space in it
    # (which Python's SimpleCookie gives up on, losing the session cookie after it)
    r = c.post(f"/api/patients/{pid}/attacks", json={"intensity": 2}, headers=json_headers)
    assert r.status_code == 201
    token = c.cookies["painlink_session"]
    odd = {**json_headers, "cookie": f"theme=dark mode; painlink_session={token}"}
    r = web.client().post(f"/api/patients/{pid}/attacks", json={"intensity": 2}, headers=odd)
    assert r.status_code == 201
    # anonymous: refused unread (the redirect/401 a page/API gives without a session)
    r = anon.post("/account/import", content=big, follow_redirects=False,
                  headers={"content-type": "multipart/form-data; boundary=x"})  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/login"
    r = anon.post(f"/api/patients/{pid}/attacks", content=big, headers=json_headers)
    assert r.status_code == 401
    # a made-up session cookie does not open the upload limit
    forged = web.client()
    forged.cookies.set("painlink_session", "made-up")
    r = forged.post("/account/import", content=big, follow_redirects=False,
                    headers={"content-type": "multipart/form-data; boundary=x"})  # fmt: skip
    assert r.status_code == 303
    # public forms take small bodies only
    assert anon.post("/register", content=big).status_code == 413
    login = {"csrf_token": form_token(anon, "/login"), "email": "nobody@x.org"}
    r = anon.post("/login", data={**login, "password": "wrong password"})
    assert r.status_code == 400  # an ordinary wrong login, not a limit
    # a signed-in upload route takes its documented size (the 1 MB FHIR upload's 2 MB
    # is refused, a 300 KB import is read and judged on its content)
    doc, _ = web.clinician("doc")
    r = doc.post(f"/clinic/patients/{pid}/fhir", content=big,
                 headers={"content-type": "multipart/form-data; boundary=x"})  # fmt: skip
    assert r.status_code == 413 and "1 MB" in r.text
    r = c.post("/account/import", data={"csrf_token": csrf, "source": "clue"},
               files={"file": ("clue.json", b"{" * 300_000)})  # fmt: skip
    assert r.status_code == 400 and "nothing was imported" in r.text


# ------------------------------------------------------------------ a real server, 300 MB


def _io(pid: int) -> dict[str, int]:
    """The server's byte counters: rchar counts every byte it read (sockets included),
    wchar every byte it wrote (a spooled upload's temp file included)."""
    fields = dict(line.split(": ") for line in Path(f"/proc/{pid}/io").read_text().splitlines())
    rss = next(
        line.split()[1]
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith("VmRSS:")
    )
    return {"rchar": int(fields["rchar"]), "wchar": int(fields["wchar"]), "rss_kb": int(rss)}


def _send_body(
    port: int, head: bytes, total: int, chunked: bool, start: bytes = b""
) -> tuple[int, bytes]:
    """Send ``start``, then up to ``total`` bytes of body after ``head`` until the
    server answers or stops reading; returns (bytes sent, response head)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(head)
    if start:
        sock.sendall(f"{len(start):x}\r\n".encode() + start + b"\r\n" if chunked else start)
    piece = b"x" * 65536
    frame = f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece
    sent = 0
    sock.setblocking(False)
    deadline = time.monotonic() + 60
    while sent < total and time.monotonic() < deadline:
        readable, writable, _ = select.select([sock], [sock], [], 5)
        if readable:
            break  # the server answered (or closed) before the body was sent
        if not writable:
            break  # the server stopped reading
        try:
            sent += sock.send(frame if chunked else frame[: total - sent])
        except (BlockingIOError, InterruptedError):
            continue
        except OSError:
            break
    sock.setblocking(True)
    sock.settimeout(10)
    answer = b""
    try:
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    except OSError:
        pass
    sock.close()
    return sent, answer.split(b"\r\n\r\n")[0]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, int, Path]]:
    """``painlink serve`` in a subprocess, with its own temp directory."""
    spool = tmp_path / "spool"
    spool.mkdir()
    port = free_port()
    env = {**os.environ, "TMPDIR": str(spool), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "painlink.cli", "serve", "--db",
         f"sqlite:///{tmp_path / 'srv.db'}", "--port", str(port), "--insecure-cookies"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(200):
            try:
                httpx.get(f"http://127.0.0.1:{port}/login", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        yield port, proc.pid, spool
    finally:
        proc.terminate()
        proc.wait(timeout=10)


HUGE = 300 * 1024 * 1024


@pytest.mark.slow
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_anonymous_300_mb_upload_is_refused_unread(
    server: tuple[int, int, Path], chunked: bool
) -> None:
    port, pid, spool = server
    framing = (
        b"Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {HUGE}\r\n".encode()
    )
    head = (
        b"POST /account/import HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: multipart/form-data; boundary=painlink\r\n" + framing + b"\r\n"
    )
    # a well-formed multipart upload: a file part that never ends before 300 MB
    part = (
        b'--painlink\r\nContent-Disposition: form-data; name="file"; '
        b'filename="export.zip"\r\nContent-Type: application/zip\r\n\r\n'
    )
    before = _io(pid)
    sent, answer = _send_body(port, head, HUGE - len(part), chunked, start=part)
    after = _io(pid)
    assert answer.startswith(b"HTTP/1.1 303"), answer[:200]
    assert b"location: /login" in answer.lower()
    read = after["rchar"] - before["rchar"]
    assert read < 8 * 1024 * 1024, f"the server read {read} bytes of an anonymous upload"
    assert after["wchar"] - before["wchar"] < 1024 * 1024  # nothing spooled to disk
    assert after["rss_kb"] - before["rss_kb"] < 50 * 1024
    assert sent < 64 * 1024 * 1024  # the client was stopped long before 300 MB
    assert list(spool.iterdir()) == []
    # and the server still answers; HSTS only when a trusted TLS proxy (uvicorn's
    # FORWARDED_ALLOW_IPS, 127.0.0.1 by default) says the request came over https
    plain = httpx.get(f"http://127.0.0.1:{port}/login")
    assert plain.status_code == 200 and "strict-transport-security" not in plain.headers
    proxied = httpx.get(f"http://127.0.0.1:{port}/login", headers={"X-Forwarded-Proto": "https"})
    assert proxied.headers["strict-transport-security"].startswith("max-age=")


@pytest.mark.slow
def test_a_signed_in_oversized_stream_is_stopped_at_the_limit(
    server: tuple[int, int, Path],
) -> None:
    port, pid, _spool = server
    c = httpx.Client(base_url=f"http://127.0.0.1:{port}")
    r = c.post("/register", data={"csrf_token": form_token(c, "/register"),
                                  "email": "jo@x.org", "display_name": "Jo",
                                  "password": "correct horse battery"})  # fmt: skip
    assert r.status_code in (200, 303), r.text
    me = c.get("/api/me").json()
    cookie = "; ".join(f"{k}={v}" for k, v in c.cookies.items())
    head = (
        f"POST /api/patients/{me['patient_id']}/attacks HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nX-CSRF-Token: {me['csrf_token']}\r\n"
        f"Cookie: {cookie}\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    before = _io(pid)
    sent, answer = _send_body(port, head, HUGE, chunked=True)
    read = _io(pid)["rchar"] - before["rchar"]
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert read < 16 * 1024 * 1024, read  # 1 MB limit plus socket buffers
    assert sent < 64 * 1024 * 1024


def test_the_calendar_is_reused_only_while_the_diary_is_unchanged(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The month grid is cached on the stored rows, so a write from anywhere — this
    app, another worker process, a CLI import — shows at once; a write to another
    month keeps this month's grid."""
    from painlink.web import presenters

    computed: list[int] = []
    real = presenters._month_grid
    monkeypatch.setattr(presenters, "_month_grid", lambda *a: computed.append(1) or real(*a))
    web = Web(tmp_path, db_url)
    c, pid, csrf = web.patient("jo")
    url = f"/api/patients/{pid}/calendar?month={LAST_MONTH:%Y-%m}"

    def kinds() -> dict[str, str]:
        r = c.get(url)
        assert r.status_code == 200
        return {d["date"]: d["kind"] for d in r.json() if d["kind"] != "none"}

    assert kinds() == {}
    r = c.post(f"/api/patients/{pid}/attacks", headers={"X-CSRF-Token": csrf},
               json={"start": f"{LAST_MONTH.replace(day=3)}T08:00:00", "intensity": 2})  # fmt: skip
    assert r.status_code == 201
    first = kinds()
    # still open: it counts up to now, at most 72 h (OPEN_ATTACK_MAX_DAYS) — 4 calendar days
    assert set(first) == {str(LAST_MONTH.replace(day=d)) for d in (3, 4, 5, 6)}
    assert kinds() == first  # unchanged diary: the same answer (from the cache)
    before = len(computed)
    earlier = (LAST_MONTH - dt.timedelta(days=40)).replace(day=5)  # another month
    r = c.put(f"/api/patients/{pid}/days/{earlier}", json={"stress": 3},
              headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert r.status_code == 200
    assert kinds() == first and len(computed) == before  # another month does not touch this one
    # a write by another process: a second engine on the same file, as a worker would
    other = Store(web.engine.url.render_as_string(hide_password=False))
    with other.writing() as conn:
        conn.execute(
            sa.text("UPDATE attacks SET start = :s WHERE patient_id = :p"),
            {"s": f"{LAST_MONTH.replace(day=9)} 08:00:00.000000", "p": pid},
        )
    other.close()
    assert set(kinds()) == {str(LAST_MONTH.replace(day=d)) for d in (9, 10, 11, 12)}


def test_analyses_and_password_hashing_queue_for_their_few_slots(tmp_path: Path) -> None:
    """A burst of analyses (or logins) must not take every request thread: at most
    CpuGates' slots run at once, while an ordinary request goes straight through."""
    import asyncio

    from painlink.web.app import create_app
    from painlink.web.limits import CpuGates

    app = create_app(f"sqlite:///{tmp_path / 'g.db'}")
    running = {"now": 0, "peak": 0}
    lock = threading.Lock()
    release = threading.Event()

    def slow_analysis() -> dict[str, int]:
        with lock:
            running["now"] += 1
            running["peak"] = max(running["peak"], running["now"])
        release.wait(10)  # held until the ordinary request below has been answered
        with lock:
            running["now"] -= 1
        return {"ok": 1}

    app.add_api_route("/insights/probe.png", slow_analysis)  # an analysis address
    app.router.routes.insert(0, app.router.routes.pop())  # ahead of /insights/{kind}.png

    async def burst() -> tuple[int, list[int]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://t") as c:
            analyses = [asyncio.create_task(c.get("/insights/probe.png")) for _ in range(12)]
            await asyncio.sleep(0.5)
            ordinary = await c.get("/login")  # answered while the analyses are held
            release.set()
            return ordinary.status_code, [r.status_code for r in await asyncio.gather(*analyses)]

    ordinary, statuses = asyncio.run(burst())
    assert ordinary == 200
    assert statuses == [200] * 12
    assert 1 <= running["peak"] <= 2 * (os.cpu_count() or 2)
    gates = CpuGates(app)
    post = {"type": "http", "method": "POST"}
    assert gates.gate({**post, "path": "/login"}) is gates.credentials
    assert gates.gate({**post, "path": "/register"}) is gates.credentials
    assert gates.gate({**post, "path": "/checkin"}) is None
    get = {"type": "http", "method": "GET"}
    assert gates.gate({**get, "path": "/insights"}) is gates.analyses
    assert gates.gate({**get, "path": "/api/patients/p1/classification"}) is gates.analyses
    # the calendar's grid is cheap now (clinical/month_grid.py): it does not queue
    assert gates.gate({**get, "path": "/calendar"}) is None
    assert gates.gate({**get, "path": "/api/patients/p1/calendar"}) is None
    assert gates.gate({"type": "http", "method": "GET", "path": "/home"}) is None


def test_a_crowd_larger_than_the_pool_waits_instead_of_failing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More requests in flight than the pool has connections: before, requests holding
    a connection waited for a thread while threads waited for a connection, until the
    pool's timeout turned them into errors. Now every one is answered."""
    import asyncio

    from painlink.web.app import create_app

    monkeypatch.setenv("PAINLINK_DB_POOL_SIZE", "1")  # 1 + 10 overflow connections
    app = create_app(f"sqlite:///{tmp_path / 'crowd.db'}")
    app.state.store.engine.pool._timeout = 3  # fail in 3 s rather than 30 if starved
    _, cookies, pid = _registered(app)

    async def crowd() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="https://t", cookies=cookies
        ) as c:
            rs = await asyncio.gather(*(c.get(f"/api/patients/{pid}/attacks") for _ in range(120)))
            return [r.status_code for r in rs]

    statuses = asyncio.run(crowd())
    assert statuses == [200] * 120, sorted(set(statuses))


def test_registration_hashes_the_password_once_outside_the_write(tmp_path: Path) -> None:
    """The hash computed before the write is the one stored: hashing again inside the
    write held SQLite's single writer for the length of an argon2 hash."""
    from painlink.services import accounts
    from painlink.store.account_tables import users

    store = Store(f"sqlite:///{tmp_path / 'h.db'}")
    store.init()
    data = {"email": "jo@x.org", "display_name": "Jo", "password": "correct horse battery",
            "sex": "unknown", "time_zone": "UTC"}  # fmt: skip
    with store.writing() as conn:
        accounts.register_patient(conn, data, "$argon2id$v=19$m=65536,t=3,p=4$given")
        stored = conn.execute(sa.select(users.c.password_hash)).scalar_one()
    store.close()
    assert stored == "$argon2id$v=19$m=65536,t=3,p=4$given"


def test_the_audit_rows_of_simultaneous_reads_are_committed_together(tmp_path: Path) -> None:
    """One write transaction (one fsync) per page view was the SQLite writer's main
    load; reads arriving together share one, and every row is still stored."""
    import asyncio

    from painlink.store.account_tables import audit_log
    from painlink.web.app import create_app

    app = create_app(f"sqlite:///{tmp_path / 'audit.db'}")
    _, cookies, pid = _registered(app)
    writes = []

    def count(conn: sa.Connection) -> None:
        if conn.get_execution_options().get("sqlite_immediate"):
            writes.append(1)  # a write transaction (reads commit too, and are not counted)

    sa.event.listen(app.state.store.engine, "commit", count)

    async def crowd() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="https://t", cookies=cookies
        ) as c:
            rs = await asyncio.gather(*(c.get(f"/api/patients/{pid}/attacks") for _ in range(120)))
            return [r.status_code for r in rs]

    assert asyncio.run(crowd()) == [200] * 120
    with app.state.store.engine.connect() as conn:
        reads = conn.execute(
            sa.select(sa.func.count()).where(audit_log.c.resource == "attacks")
        ).scalar_one()
    assert reads == 120
    assert len(writes) < 60, f"{len(writes)} write transactions for 120 audit rows"


def test_the_limits_name_the_routes_they_mean(tmp_path: Path) -> None:
    """The body limit, the password-hashing gate and the analysis gate are chosen by
    path before any route runs, so their patterns name routes: each pattern matches
    exactly the routes listed here, and every route they match exists."""
    import re

    from painlink.web.app import create_app
    from painlink.web.limits import ANALYSIS_GETS, CREDENTIAL_POSTS, PUBLIC_POSTS, upload_limit
    from painlink.web.routes import auth
    from tests.test_access_matrix import app_routes

    app = create_app(f"sqlite:///{tmp_path / 'limits.db'}")

    def matched(method: str, pattern: Any) -> set[str]:
        paths = {path for _, path in app_routes(app, {method})}
        return {p for p in paths if pattern(re.sub(r"\{[^}]+\}", "x", p))}

    public = matched("POST", PUBLIC_POSTS.fullmatch)
    assert public == {r.path for r in auth.router.routes if "POST" in getattr(r, "methods", ())}
    assert public == {
        "/login", "/login/totp", "/logout", "/register", "/register/confirm/{token}",
        "/password/forgot", "/password/reset/{token}",
    }  # fmt: skip
    assert matched("POST", CREDENTIAL_POSTS.fullmatch) == public - {"/logout"} | {
        "/account/password"
    }
    # the calendar is not gated: its grid costs less than rendering the page (month_grid)
    assert matched("GET", ANALYSIS_GETS.fullmatch) == {
        "/insights", "/insights/{kind}.png", "/clinic",
        "/clinic/patients/{patient_id}", "/account/export", "/account/export.fhir.json",
        "/api/patients/{patient_id}/classification",
        "/api/patients/{patient_id}/insights", "/api/patients/{patient_id}/export",
        "/api/clinic/patients",
        "/reports/me.pdf", "/clinic/patients/{patient_id}/report.pdf",
    }  # fmt: skip
    assert matched("POST", lambda p: upload_limit(p) is not None) == {
        "/account/import",
        "/clinic/patients/{patient_id}/fhir",
    }
    # an address that is not a route gets no public allowance
    assert not PUBLIC_POSTS.fullmatch("/login/anything") and not PUBLIC_POSTS.fullmatch("/x")
