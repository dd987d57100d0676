"""No page or API route answers 500: not for a brand-new, empty diary, not for garbage
in a form (issue 12, point 12).

The routes are read off the app's router, so a new route is walked the day it is added:

- every GET route, for a brand-new patient, a clinician the patient shares with, an
  admin and a visitor, with its path parameters filled sensibly (the patient's own
  id, today, every picture) and with garbage, and every query parameter its handler
  reads (found in its source) with garbage;
- every POST/PUT/PATCH/DELETE route with garbage values: for a page form, the fields
  of the form as the page renders it (found by walking every page the session can
  read), each in turn set to each garbage value while the others keep what the page
  put there, and then all at once; a JSON route gets its body model's fields, each set
  to each garbage value and to values of the wrong type.

Every answer must be below 500 and a plain error: no traceback, no exception names.
"""

from __future__ import annotations

import datetime as dt
import inspect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from painlink.analysis.plotting import PICTURES
from painlink.services import accounts
from painlink.web.app import create_app
from painlink.web.security import AuthSettings
from tests.test_access_matrix import UNSAFE, app_routes
from tests.test_web import form_token

pytestmark = pytest.mark.slow  # several thousand requests

PASSWORD = "correct horse battery"
TODAY = dt.date.today()
GARBAGE: dict[str, str] = {
    "empty": "",
    "abc": "abc",
    "huge": "1e308",
    "minus one": "-1",
    "far future": "9999-12-31",
    "NUL": "a\x00b",
    "10 kB": "x" * 10_000,
    "inf": "inf",
    "unicode": "Käse 🧀 ‮",
}
#: what a plain error never shows (a traceback, Python's or a library's own words)
NOT_PLAIN = re.compile(
    r"Traceback|File \"|sqlalchemy\.|psycopg|IntegrityError|DataError|KeyError|"
    r"TypeError|AttributeError|ValueError\(|NoneType|errors\.pydantic\.dev|<built-in"
)


# ------------------------------------------------------------------ the world


@dataclass
class Session:
    name: str
    client: TestClient
    email: str | None = None
    patient_id: str | None = None

    def relogin(self) -> None:
        """Sign in again after a request ended the session (log out, a changed password)."""
        if self.email is None or self.client.get("/api/me").status_code == 200:
            return
        self.client.cookies.clear()
        token = form_token(self.client, "/login")
        r = self.client.post(
            "/login", data={"csrf_token": token, "email": self.email, "password": PASSWORD}
        )
        assert r.status_code in (200, 303), r.text


@dataclass
class World:
    app: Any
    patient: Session
    clinician: Session
    admin: Session
    visitor: Session
    problems: list[str] = field(default_factory=list)
    requests: list[int] = field(default_factory=lambda: [0])

    def sessions(self) -> Iterator[Session]:
        yield from (self.patient, self.clinician, self.admin, self.visitor)


def _client(app: Any) -> TestClient:
    return TestClient(
        app, base_url="https://testserver", follow_redirects=False, raise_server_exceptions=False
    )


def make_world(url: str) -> World:
    app = create_app(url, auth=AuthSettings(require_totp_for_staff=False))
    c = _client(app)
    r = c.post(
        "/register",
        data={
            "csrf_token": form_token(c, "/register"),
            "email": "new@x.org",
            "display_name": "New",
            "password": PASSWORD,
            "time_zone": "Europe/Berlin",
        },
    )
    assert r.status_code in (200, 303), r.text
    patient = Session("patient", c, "new@x.org", c.get("/api/me").json()["patient_id"])
    with app.state.store.engine.begin() as conn:
        accounts.create_staff(conn, "dr@clinic.org", "Dr", PASSWORD, "clinician")
        accounts.create_staff(conn, "admin@x.org", "Admin", PASSWORD, "admin")
        accounts.grant(conn, patient.patient_id or "", "dr@clinic.org")
    staff = []
    for name, email in (("clinician", "dr@clinic.org"), ("admin", "admin@x.org")):
        s = Session(name, _client(app), email)
        s.relogin()
        staff.append(s)
    return World(app, patient, staff[0], staff[1], Session("visitor", _client(app)))


def check(world: World, who: str, method: str, url: str, r: Any, sent: str = "") -> None:
    world.requests[0] += 1
    where = f"{who} {method} {url[:120]!r} {sent[:80]!r} → {r.status_code}"
    if r.status_code >= 500:
        world.problems.append(f"{where}: {r.text[:200]!r}")
    elif found := NOT_PLAIN.search(r.text):
        world.problems.append(f"{where}: not a plain error ({found.group(0)!r})")


# ------------------------------------------------------------------ reads


def _path_values(name: str, world: World) -> list[str]:
    sensible = {
        "patient_id": [world.patient.patient_id or ""],
        "date": [str(TODAY), str(TODAY - dt.timedelta(days=400))],
        "kind": [*PICTURES, "attack", "medication", "day", "factor"],
        "entry_id": ["1", str(TODAY)],
        "correction_id": ["1"],
        "medication_id": ["1"],
        "treatment_id": ["1"],
    }.get(name, [])
    return [*sensible, "abc", "-1", "1e308", "9999-12-31", "x" * 300, quote("Käse 🧀", safe="")]


def _query_names(route: APIRoute) -> set[str]:
    """Query parameters a handler reads: declared ones, and ``query_params.get("x")``."""
    names = {p.name for p in route.dependant.query_params}
    source = inspect.getsource(route.endpoint)
    names |= set(re.findall(r"query_params\.get\(\s*\"(\w+)\"", source))
    return names


def _routes(app: Any, methods: set[str]) -> dict[tuple[str, str], APIRoute]:
    found = {}
    for route in app.routes:
        contexts = (
            route.effective_route_contexts() if hasattr(route, "effective_route_contexts") else []
        )
        for ctx in contexts:
            r = ctx.original_route
            if isinstance(r, APIRoute):
                for m in r.methods & methods:
                    found[(m, ctx.path)] = r
    assert set(found) == app_routes(app, methods)
    return found


def _fill(path: str, world: World) -> Iterator[str]:
    """Every combination of the path's parameters with each of their values (one
    parameter varied at a time; the others take their first, sensible value)."""
    names = re.findall(r"{(\w+)(?::\w+)?}", path)  # {entry_id:path} is a parameter too
    values = {n: _path_values(n, world) for n in names}
    base = {n: v[0] for n, v in values.items()}

    def filled(chosen: dict[str, str]) -> str:
        return re.sub(r"{(\w+)(?::\w+)?}", lambda m: chosen[m.group(1)], path)

    yield filled(base)
    for n in names:
        for v in values[n][1:]:
            yield filled({**base, n: v})


def read_urls(world: World) -> dict[str, set[str]]:
    """Route path → the URLs to fetch."""
    out: dict[str, set[str]] = {}
    pid = world.patient.patient_id or ""
    for (_m, path), route in _routes(world.app, {"GET"}).items():
        urls = set(_fill(path, world))
        queries = _query_names(route)
        for url in list(urls)[:3]:
            for q in queries:
                sensible = {"patient": pid, "month": f"{TODAY:%Y-%m}", "date": str(TODAY)}
                if q in sensible:
                    urls.add(f"{url}?{q}={sensible[q]}")
                for g in GARBAGE.values():
                    urls.add(f"{url}?{q}={quote(g[:2000], safe='')}")
            if "patient" in queries:  # a clinician's chart of the empty diary, with a month
                urls.add(f"{url}?patient={pid}&month={TODAY:%Y-%m}")
        out[path] = urls
    return out


def walk_reads(world: World) -> None:
    urls = read_urls(world)
    for session in world.sessions():
        for route_urls in urls.values():
            for url in sorted(route_urls):
                r = session.client.get(url)
                check(world, session.name, "GET", url, r)


def test_every_read_route_answers_a_new_empty_diary(db_url: str) -> None:
    world = make_world(db_url)
    walk_reads(world)
    print(f"\n{world.requests[0]} reads")
    assert not world.problems, "\n".join(world.problems[:40])


# ------------------------------------------------------------------ forms


@dataclass
class Form:
    page: str  # where the form is shown
    action: str
    method: str
    fields: list[tuple[str, str, str]]  # (name, type, value the page put there)
    files: list[str]


class _Forms(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self.current: Form | None = None
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.current = Form(
                self.page, a.get("action") or self.page, a.get("method", "get"), [], []
            )
            self.forms.append(self.current)
            return
        if self.current is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind == "file":
                self.current.files.append(name)
            elif kind in ("radio", "checkbox"):
                if "checked" in a or not any(f[0] == name for f in self.current.fields):
                    self.current.fields = [f for f in self.current.fields if f[0] != name]
                    value = a.get("value", "on") if "checked" in a else ""
                    self.current.fields.append((name, kind, value))
            elif kind not in ("submit", "button", "reset", "image"):
                self.current.fields.append((name, kind, a.get("value", "")))
        elif tag == "select" and name:
            self.select = name
            self.current.fields.append((name, "select", ""))
        elif tag == "option" and self.select:
            if "selected" in a or not next(
                v for n, _, v in self.current.fields if n == self.select
            ):
                self.current.fields = [f for f in self.current.fields if f[0] != self.select]
                self.current.fields.append((self.select, "select", a.get("value", "")))
        elif tag == "textarea" and name:
            self.current.fields.append((name, "textarea", ""))
        elif tag == "button" and name:
            self.current.fields.append((name, "button", a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None


def forms_on(session: Session, page: str) -> list[Form]:
    r = session.client.get(page)
    if r.status_code != 200 or "html" not in r.headers.get("content-type", ""):
        return []
    parser = _Forms(page)
    parser.feed(r.text)
    return [f for f in parser.forms if f.method.lower() == "post"]


def _pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\{\w+\\}", "[^/]+", re.escape(path)) + "$")


def _pages(world: World, session: Session) -> list[str]:
    """Every page this session can read, sensibly filled in (no garbage)."""
    pid = world.patient.patient_id or ""
    pages = []
    for (_m, path), _route in _routes(world.app, {"GET"}).items():
        if path.startswith("/api/") or path.endswith(".png") or "export" in path:
            continue
        url = next(_fill(path, world))
        if "{attack_id}" in path:
            url = path.replace("{attack_id}", world_attack(world))
        pages.append(url)
        if session.name == "clinician" and path in ("/calendar", "/insights"):
            pages.append(f"{url}?patient={pid}")
    return pages


_ATTACK: dict[int, str] = {}


def world_attack(world: World) -> str:
    """An attack of the patient (started through the home page's form), for its page."""
    if id(world) not in _ATTACK:
        c = world.patient.client
        home = forms_on(world.patient, "/home")
        start = next(f for f in home if f.action == "/attacks/start")
        c.post(start.action, data={n: v for n, _, v in start.fields})
        attacks = c.get(f"/api/patients/{world.patient.patient_id}/attacks").json()
        rows = attacks if isinstance(attacks, list) else attacks.get("attacks", [])
        _ATTACK[id(world)] = str(rows[0]["attack_id"]) if rows else "no-attack"
    return _ATTACK[id(world)]


def _fresh(session: Session, form: Form) -> Form:
    """The same form as the page renders it now (per-render tokens are fresh)."""
    for f in forms_on(session, form.page):
        if f.action == form.action:
            return f
    return form


#: forms whose success ends the session: sign in again after each post to them
ENDS_SESSION = ("/logout", "/account/delete", "/account/password", "/account/2fa")


def _post_form(
    world: World, session: Session, form: Form, garbage: dict[str, Any], label: str
) -> None:
    data = {n: v for n, _, v in form.fields}
    files = {name: ("x.csv", b"not,a\x00file\n" * 3, "text/csv") for name in form.files}
    for n, v in garbage.items():
        if isinstance(v, bytes):  # a wrong type: a file where text is expected
            data.pop(n, None)
            files[n] = ("a.bin", v, "application/octet-stream")
        else:
            data[n] = v
    r = session.client.post(form.action, data=data, files=files or None)
    check(world, session.name, "POST", form.action, r, label)
    if form.action.startswith(ENDS_SESSION):
        session.relogin()


def _fuzz_form(world: World, session: Session, form: Form) -> None:
    names = list(dict.fromkeys(n for n, _, _ in form.fields if n != "csrf_token"))
    for gname, g in [*GARBAGE.items(), ("file", b"\x00\xff")]:
        form = _fresh(session, form)  # once per value: a per-render token stays fresh
        for n in names:
            _post_form(world, session, form, {n: g}, f"{n}={gname}")
        _post_form(world, session, form, {n: g for n in names}, f"all={gname}")


def _json_fields(route: APIRoute) -> list[str]:
    names: list[str] = []
    for param in route.dependant.body_params:
        model = getattr(param.field_info, "annotation", None) or getattr(param, "type_", None)
        names += list(getattr(model, "model_fields", {}) or [])
    return names


def _fuzz_json(world: World, method: str, path: str, route: APIRoute) -> None:
    s = world.patient
    csrf = s.client.get("/api/me").json().get("csrf_token", "")
    urls = list(_fill(path.replace("{attack_id}", world_attack(world)), world))
    names = _json_fields(route) or ["value"]
    wrong: list[Any] = [None, [], {}, 1e308, -1, True, "x" * 10_000, "a\x00b", "9999-12-31"]
    headers = {"X-CSRF-Token": csrf}
    # every field × every value on the sensible address (the API's schema fuzzing,
    # tests/test_schemathesis.py, covers the rest); an empty body on the garbage ones
    for n in names:
        for v in [*GARBAGE.values(), *wrong]:
            r = s.client.request(method, urls[0], json={n: v}, headers=headers)
            check(world, "patient", method, urls[0], r, f"{n}={v!r}"[:80])
    for url in urls:
        r = s.client.request(method, url, json={}, headers=headers)
        check(world, "patient", method, url, r, "{}")
        r = s.client.request(
            method,
            url,
            content=b"[not json",
            headers={**headers, "Content-Type": "application/json"},
        )
        check(world, "patient", method, url, r, "not json")


def test_every_form_refuses_garbage_plainly(db_url: str) -> None:
    world = make_world(db_url)
    writes = _routes(world.app, UNSAFE)
    found: dict[str, list[tuple[Session, Form]]] = {}
    for session in world.sessions():  # each form once, from the first session showing it
        for page in _pages(world, session):
            for form in forms_on(session, page):
                for _m, path in writes:
                    if path not in found and _pattern(path).match(form.action.split("?")[0]):
                        found[path] = [(session, form)]
    every_field = sorted({n for forms in found.values() for _, f in forms for n, _, _ in f.fields})
    # the session-ending forms last: they are fuzzed like the others, then signed in again
    for (method, path), route in sorted(
        writes.items(), key=lambda kv: kv[0][1] in ("/logout", "/account/delete")
    ):
        if path.startswith("/api/"):
            _fuzz_json(world, method, path, route)
            continue
        if path in found:
            for session, form in found[path]:
                _fuzz_form(world, session, form)
            continue
        # no page shows this form to these sessions (a link from an e-mail, mid sign-in):
        # every field name any form has, with garbage, from each session
        url = next(_fill(path, world))
        for session in world.sessions():
            csrf = ""
            if session.email:
                csrf = session.client.get("/api/me").json().get("csrf_token", "")
            for gname, g in GARBAGE.items():
                data = {n: g for n in every_field if n != "csrf_token"} | {"csrf_token": csrf}
                r = session.client.post(url, data=data)
                check(world, session.name, "POST", url, r, f"all={gname}")
                session.relogin()
    # and every page again, over whatever the garbage left that was accepted (an FRT
    # of -1° once broke the clinic page for good)
    walk_reads(world)
    print(f"\n{world.requests[0]} requests; forms found for {sorted(found)}")
    assert not world.problems, "\n".join(_grouped(world.problems))


def _grouped(problems: list[str]) -> list[str]:
    """One line per route and field (the garbage values that broke it after it)."""
    groups: dict[str, list[str]] = {}
    for p in problems:
        m = re.match(r"(\w+ \w+ '[^']*') '([^=']*)=([^']*)'", p)
        key, value = (f"{m.group(1)} {m.group(2)}", m.group(3)) if m else (p[:150], "")
        groups.setdefault(key, []).append(value)
    return [f"{k}: {', '.join(v)}" for k, v in groups.items()]
