"""Every route × every kind of actor: nobody writes into, or reads, a diary that is not theirs.

The routes are read off the app's router, so a new route is covered the day it is added:
``test_every_route_has_a_sample`` fails until the route is listed here with a sample
request. Each unsafe route is sent by six actors — the owner of the diary, another
patient, a clinician the owner granted access, a clinician without a grant, an admin
and an anonymous visitor — twice: with a clean body, and with a hostile one that names
a victim patient (her ``patient_id``, her attack, her e-mail). The victim shares her
diary with nobody, so after every request her rows must be byte-for-byte what they
were; the owner's rows may change only when the actor is allowed to write them; the
audit trail must never claim a write to a diary that was not written; and the answer
must be the one the access rules give (401, 403, 404, 422 or success).

Decision (documented in docs/web.md): the address and the session choose the diary.
A JSON body whose ``patient_id`` differs from the address is refused (422); the typed
bodies refuse any field they do not define; forms read only their own fields, so a
``patient_id`` field in a form is ignored.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from painlink.services import accounts
from painlink.store.account_tables import audit_log, grants, login_attempts, users
from painlink.store.tables import medications, metadata, treatments
from painlink.web.app import create_app
from painlink.web.security import AuthSettings
from tests.test_web import form_token

PASSWORD = "correct horse battery"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
ACTORS = ("owner", "other_patient", "granted_clinician", "clinician", "admin", "anonymous")
ROLE = {
    "owner": "patient",
    "other_patient": "patient",
    "granted_clinician": "clinician",
    "clinician": "clinician",
    "admin": "admin",
    "anonymous": None,
}
# The matrix carries its own files, so it runs on a plain clone: a Migraine Buddy export
# (the app's CSV columns, one made-up attack) and the README's made-up NDI response.
MB_EXPORT = (
    b'"Date","Time Period","Description","Notes"\n'
    b'"No ongoing events recorded during this period.","","",""\n\n'
    b'"#","Started","Lasted","Start UTC Offset (min)","End UTC Offset (min)","Geohash",'
    b'"Attack Types","Attack Location","Pain Level","Affected Activities","Potential Triggers",'
    b'"Symptoms","Most Bothersome Symptom","Premonitory Symptoms","Pain Positions",'
    b'"Helpful Medication","Somewhat Helpful Medication","Unhelpful Medication",'
    b'"Unsure Medication","Helpful Non Drug Relief Methods",'
    b'"Somewhat Helpful Non Drug Relief Methods","Unhelpful Non Drug Relief Methods",'
    b'"Unsure Non Drug Relief Methods","Notes"\n'
    b'"1","03/02/25 09:40","02h 30m","60","60","","","","6","","Stress",'
    b'"Throbbing pain","","","Left Temple","","","","No medication","","","","",""\n'
)
NDI_FHIR = Path(__file__).parents[1] / "examples" / "ndi-response.json"


# ------------------------------------------------------------------ the world


@dataclass
class Actor:
    name: str
    email: str | None
    client: TestClient
    csrf: str = ""
    patient_id: str | None = None
    user_id: int | None = None


@dataclass
class World:
    app: Any
    engine: sa.Engine
    actors: dict[str, Actor]
    owner: str  # the diary the requests address
    victim: str  # the diary every hostile body names; shared with nobody
    victim_email: str
    owner_attack: str
    victim_attack: str
    granted_id: int
    clinician_email: str
    counter: list[int] = field(default_factory=lambda: [0])

    def fresh(self, role: str | None) -> Actor:
        """A throwaway account of ``role`` (for requests that end the session or account)."""
        self.counter[0] += 1
        n = self.counter[0]
        if role is None:
            return Actor("anonymous", None, _client(self.app))
        if role == "patient":
            return _register(self.app, f"tmp{n}")
        with self.engine.begin() as conn:
            accounts.create_staff(conn, f"tmp{n}@clinic.org", f"Tmp {n}", PASSWORD, role)
        return _login(self.app, f"tmp{n}@clinic.org", role)


# One date for the whole run: a run that crosses midnight must write and read the same day.
TODAY = dt.date.today()


def _client(app: Any) -> TestClient:
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def _me(actor: Actor) -> Actor:
    me = actor.client.get("/api/me").json()
    actor.csrf, actor.patient_id, actor.user_id = me["csrf_token"], me["patient_id"], me["id"]
    return actor


def _register(app: Any, name: str) -> Actor:
    c = _client(app)
    r = c.post(
        "/register",
        data={
            "csrf_token": form_token(c, "/register"),
            "email": f"{name}@x.org",
            "display_name": name,
            "password": PASSWORD,
            "time_zone": "Europe/Berlin",
            "birth_year": "1988",
            "sex": "female",
        },
    )
    assert r.status_code == 303, r.text
    return _me(Actor(name, f"{name}@x.org", c))


def _login(app: Any, email: str, name: str) -> Actor:
    c = _client(app)
    token = form_token(c, "/login")
    r = c.post("/login", data={"csrf_token": token, "email": email, "password": PASSWORD})
    assert r.status_code == 303, r.text
    return _me(Actor(name, email, c))


def _seed(actor: Actor) -> str:
    """A little diary (two attacks, a check-in), so that reads have something to show."""
    h = {"X-CSRF-Token": actor.csrf}
    pid = actor.patient_id
    today = TODAY  # the date the read matrix asks for, fixed once: a run may cross midnight
    first = actor.client.post(
        f"/api/patients/{pid}/attacks",
        json={"start": f"{today - dt.timedelta(days=9)}T08:00:00", "intensity": 2},
        headers=h,
    )
    assert first.status_code == 201, first.text
    actor.client.post(
        f"/api/patients/{pid}/attacks",
        json={"start": f"{today - dt.timedelta(days=3)}T08:00:00", "intensity": 3},
        headers=h,
    )
    r = actor.client.put(
        f"/api/patients/{pid}/days/{today - dt.timedelta(days=1)}",
        json={"sleep_hours": 7, "stress": 4},
        headers=h,
    )
    assert r.status_code == 200, r.text
    return first.json()["attack_id"]


def make_world(url: str) -> World:
    # staff second factor off: the matrix is about whose diary, not about TOTP (test_auth)
    app = create_app(url, auth=AuthSettings(require_totp_for_staff=False))
    engine = app.state.store.engine
    owner = _register(app, "owner")
    victim = _register(app, "victim")
    other = _register(app, "other")
    with engine.begin() as conn:
        accounts.create_staff(conn, "granted@clinic.org", "Dr Granted", PASSWORD, "clinician")
        accounts.create_staff(conn, "plain@clinic.org", "Dr Plain", PASSWORD, "clinician")
        accounts.create_staff(conn, "admin@x.org", "Admin", PASSWORD, "admin")
        accounts.grant(conn, owner.patient_id or "", "granted@clinic.org")
    granted = _login(app, "granted@clinic.org", "granted_clinician")
    actors = {
        "owner": owner,
        "other_patient": other,
        "granted_clinician": granted,
        "clinician": _login(app, "plain@clinic.org", "clinician"),
        "admin": _login(app, "admin@x.org", "admin"),
        "anonymous": Actor("anonymous", None, _client(app)),
    }
    owner_attack = _seed(owner)
    victim_attack = _seed(victim)
    _seed(other)
    return World(
        app,
        engine,
        actors,
        owner.patient_id or "",
        victim.patient_id or "",
        victim.email or "",
        owner_attack,
        victim_attack,
        granted.user_id or 0,
        "plain@clinic.org",
    )


def _restore(world: World) -> None:
    """Undo what a cell may change in who-sees-what (grants, login throttling), so that
    every cell starts from the same access rules."""
    with world.engine.begin() as conn:
        conn.execute(grants.delete().where(grants.c.patient_id == world.owner))
        conn.execute(
            grants.insert().values(
                patient_id=world.owner, clinician_id=world.granted_id, granted_at=dt.datetime.now()
            )
        )
        conn.execute(login_attempts.delete())


def snapshot(engine: sa.Engine, patient_id: str) -> dict[str, list[str]]:
    """Every row naming the patient, in every table but the audit log and the clinic
    list's summaries (a cache of the diary, recomputed when read), as text."""
    out = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            if "patient_id" not in table.c or table.name in ("audit_log", "patient_summaries"):
                continue
            rows = conn.execute(sa.select(table).where(table.c.patient_id == patient_id))
            out[table.name] = sorted(repr(tuple(r)) for r in rows)
    return out


# ------------------------------------------------------------------ the samples


@dataclass(frozen=True)
class Sample:
    """One request to a route. ``build(world, target, hostile)`` → (url, request kwargs).

    ``roles``: account roles the route serves. ``scope``: "path" when the diary is in the
    address (access also needs the owner or a granted clinician, ``clinician_ok``),
    "own" when it is the session's own diary, "none" when no diary is written.
    ``hostile_refused``: the hostile body itself is refused (422) even for the owner.
    ``fresh``: the request ends the session or account, so it is sent from a throwaway
    account of the actor's role.
    """

    method: str
    route: str
    build: Callable[[World, str, bool], tuple[str, dict[str, Any]]]
    roles: frozenset[str]
    scope: str = "path"
    clinician_ok: bool = False
    hostile_refused: bool = False
    fresh: bool = False
    ok_codes: frozenset[int] = frozenset({200, 201, 303})
    refusal_everyone: frozenset[int] = frozenset()
    success_to_login: bool = False  # success is a redirect to /login (log out, delete)
    hostile_code: str = "422"  # a hostile address (another diary's entry) is not found: 404


P, C, A = "patient", "clinician", "admin"


def _j(body: dict[str, Any]) -> dict[str, Any]:
    return {"json": body}


def _api(world: World, target: str, path: str) -> str:
    return f"/api/patients/{target}{path}"


def _attack(world: World, target: str, hostile: bool) -> str:
    if hostile:
        return world.victim_attack
    return world.owner_attack if target == world.owner else world.victim_attack


def _vid(world: World, hostile: bool) -> dict[str, Any]:
    return {"patient_id": world.victim} if hostile else {}


def _new_factor(world: World) -> str:
    world.counter[0] += 1
    return f"factor {world.counter[0]}"


def _new_preventive(world: World) -> str:
    """A preventive not yet listed (the same open one twice is refused)."""
    world.counter[0] += 1
    return f"Topamax {25 + world.counter[0]} mg"


def _fhir(world: World, hostile: bool) -> bytes:
    resource = json.loads(NDI_FHIR.read_text())
    if hostile:
        resource["subject"] = {"reference": f"Patient/{world.victim}"}
    return json.dumps(resource).encode()


def _owner_row(world: World, table: sa.Table, values: dict[str, Any]) -> int:
    """A fresh row in the owner's diary, for routes that address one row by its id."""
    with world.engine.begin() as conn:
        return int(
            conn.execute(
                table.insert().values(patient_id=world.owner, **values).returning(table.c.id)
            ).scalar_one()
        )


def _owner_intake(world: World) -> int:
    return _owner_row(
        world,
        medications,
        {
            "taken_at": dt.datetime.now().replace(microsecond=0),
            "drug": "ibuprofen",
            "drug_class": "non_opioid_analgesic",
        },
    )


def _owner_preventive(world: World) -> int:
    return _owner_row(
        world, treatments, {"name": "propranolol", "kind": "preventive_drug", "start": TODAY}
    )


SAMPLES: list[Sample] = [
    # ---- JSON API
    Sample(
        "POST",
        "/api/patients/{patient_id}/attacks",
        lambda w, t, h: (
            _api(w, t, "/attacks"),
            _j({"start": f"{TODAY}T06:00:00", "intensity": 1, **_vid(w, h)}),
        ),
        frozenset({P}),
        hostile_refused=True,
    ),
    Sample(
        "PATCH",
        "/api/patients/{patient_id}/attacks/{attack_id}",
        lambda w, t, h: (
            _api(w, t, f"/attacks/{_attack(w, t, h)}"),
            _j({"notes": "changed", **_vid(w, h)}),
        ),
        frozenset({P}),
        hostile_refused=True,
    ),
    Sample(
        "POST",
        "/api/patients/{patient_id}/attacks/{attack_id}/readings",
        lambda w, t, h: (
            _api(w, t, f"/attacks/{_attack(w, t, h)}/readings"),
            _j({"intensity": 1, **_vid(w, h)}),
        ),
        frozenset({P}),
        hostile_refused=True,
    ),
    Sample(
        "POST",
        "/api/patients/{patient_id}/medications",
        lambda w, t, h: (
            _api(w, t, "/medications"),
            _j(
                {
                    "drug": "ibuprofen",
                    "taken_at": f"{TODAY}T07:00:00",
                    **({"patient_id": w.victim, "attack_id": w.victim_attack} if h else {}),
                }
            ),
        ),
        frozenset({P}),
        hostile_refused=True,
    ),
    Sample(
        "POST",
        "/api/patients/{patient_id}/spine-pain",
        lambda w, t, h: (
            _api(w, t, "/spine-pain"),
            _j({"region": "lumbar", "nrs": 4, **_vid(w, h)}),
        ),
        frozenset({P}),
        hostile_refused=True,
    ),
    Sample(
        "PUT",
        "/api/patients/{patient_id}/days/{date}",
        lambda w, t, h: (_api(w, t, f"/days/{TODAY}"), _j({"stress": 5, **_vid(w, h)})),
        frozenset({P}),
        hostile_refused=True,
    ),
    Sample(
        "POST",
        "/api/screen",  # computes advice, keeps nothing
        lambda w, t, h: ("/api/screen", _j({"fever": True, **_vid(w, h)})),
        frozenset({P, C, A}),
        scope="none",
        hostile_refused=True,
        ok_codes=frozenset({200}),
    ),
    Sample(
        "POST",
        "/api/patients/{patient_id}/screens",
        lambda w, t, h: (
            _api(w, t, "/screens"),
            _j(
                {
                    "answers": {"fever": False},
                    **({"patient_id": w.victim, "attack_id": w.victim_attack} if h else {}),
                }
            ),
        ),
        frozenset({P, C}),
        clinician_ok=True,
        hostile_refused=True,
    ),
    Sample(
        "POST",
        "/api/patients/{patient_id}/questionnaires",
        lambda w, t, h: (
            _api(w, t, "/questionnaires"),
            _j(
                {
                    "instrument": "midas",
                    "completed_on": str(TODAY),
                    "items": {f"midas-{i}": 1 for i in range(1, 6)},
                    **_vid(w, h),
                }
            ),
        ),
        frozenset({P, C}),
        clinician_ok=True,
        hostile_refused=True,
    ),
    Sample(
        "POST",
        "/api/patients/{patient_id}/questionnaire-responses",
        lambda w, t, h: (
            _api(w, t, "/questionnaire-responses"),
            {"content": _fhir(w, h), "headers": {"Content-Type": "application/json"}},
        ),
        frozenset({P, C}),
        clinician_ok=True,  # a FHIR subject is ignored: the address names the diary
    ),
    Sample(
        "POST",
        "/api/patients/{patient_id}/grants",
        lambda w, t, h: (
            _api(w, t, "/grants"),
            _j({"clinician_email": w.clinician_email, **_vid(w, h)}),
        ),
        frozenset({P}),
        hostile_refused=True,
    ),
    Sample(
        "DELETE",
        "/api/patients/{patient_id}/grants/{clinician_id}",
        lambda w, t, h: (_api(w, t, f"/grants/{w.granted_id}"), {}),
        frozenset({P}),
    ),
    # ---- forms (the diary is the session's own, or the clinician's patient in the address)
    Sample(
        "POST",
        "/login",
        lambda w, t, h: ("/login", {"data": {"email": w.victim_email, "password": "x" * 12}}),
        frozenset({P, C, A, "anon"}),
        scope="none",
        refusal_everyone=frozenset({400, 403, 429}),
    ),
    Sample(
        "POST",
        "/register",
        lambda w, t, h: (
            "/register",
            {
                "data": {
                    "email": w.victim_email,
                    "display_name": "someone",
                    "password": PASSWORD,
                    "patient_id": w.victim,
                }
            },
        ),
        frozenset({P, C, A, "anon"}),
        scope="none",
        refusal_everyone=frozenset({400, 403}),
    ),
    Sample(
        "POST",
        "/logout",
        lambda w, t, h: ("/logout", {"data": {"patient_id": w.victim} if h else {}}),
        frozenset({P, C, A, "anon"}),
        scope="none",
        fresh=True,
        success_to_login=True,
    ),
    Sample(
        "POST",
        "/history",
        lambda w, t, h: (
            "/history",
            {"data": {"history_cancer": "no", "anticoagulants": "no", **_vid(w, h)}},
        ),
        frozenset({P}),
        scope="own",
    ),
    Sample(
        "POST",
        "/attacks/start",
        lambda w, t, h: ("/attacks/start", {"data": _vid(w, h)}),
        frozenset({P}),
        scope="own",
    ),
    *[
        Sample(
            "POST",
            f"/attacks/{{attack_id}}/{what}",
            lambda w, t, h, what=what, body=body: (
                f"/attacks/{w.owner_attack}/{what}",
                {"data": {**body, **_vid(w, h)}},
            ),
            frozenset({P}),
            scope="own-attack",
        )
        for what, body in (
            ("intensity", {"intensity": "2"}),
            ("safety", {"fever": "no"}),
            ("details", {"notes": "form note", "has_nausea": "1"}),
            ("medication", {"drug": "ibuprofen"}),
            ("end", {}),
        )
    ],
    Sample(
        "POST",
        "/checkin",
        lambda w, t, h: ("/checkin", {"data": {"date": str(TODAY), "stress": "3", **_vid(w, h)}}),
        frozenset({P}),
        scope="own",
    ),
    Sample(
        "POST",
        "/checkin/factors",
        lambda w, t, h: (
            "/checkin/factors",
            {"data": {"name": _new_factor(w), "kind": "boolean", **_vid(w, h)}},
        ),
        frozenset({P}),
        scope="own",
    ),
    Sample(
        "POST",
        "/medications/{medication_id}/relief",
        lambda w, t, h: (
            f"/medications/{_owner_intake(w)}/relief",
            {"data": {"relief_2h": "partial", **_vid(w, h)}},
        ),
        frozenset({P}),
        scope="own-attack",  # the intake id is looked up in the session's own diary
    ),
    Sample(
        "POST",
        "/preventives",
        lambda w, t, h: ("/preventives", {"data": {"drug": _new_preventive(w), **_vid(w, h)}}),
        frozenset({P}),
        scope="own",
    ),
    Sample(
        "POST",
        "/preventives/{treatment_id}/stop",
        lambda w, t, h: (f"/preventives/{_owner_preventive(w)}/stop", {"data": _vid(w, h)}),
        frozenset({P}),
        scope="own-attack",  # the treatment id is looked up in the session's own diary
    ),
    Sample(
        "POST",
        "/spine",
        lambda w, t, h: (
            "/spine",
            {"data": {"pick_thoracic": "1", "nrs_thoracic": "3", **_vid(w, h)}},
        ),
        frozenset({P}),
        scope="own",
    ),
    Sample(
        "POST",
        "/sharing",
        lambda w, t, h: (
            "/sharing",
            {"data": {"clinician_email": w.clinician_email, **_vid(w, h)}},
        ),
        frozenset({P}),
        scope="own",
    ),
    Sample(
        "POST",
        "/account/import",
        lambda w, t, h: (
            "/account/import",
            {
                "data": {"source": "migraine-buddy", **_vid(w, h)},
                "files": {"file": ("mb.csv", MB_EXPORT)},
            },
        ),
        frozenset({P}),
        scope="own",
    ),
    Sample(
        "POST",
        "/account/time-zone",
        lambda w, t, h: ("/account/time-zone", {"data": {"time_zone": "Berlin", **_vid(w, h)}}),
        frozenset({P}),
        scope="own",
    ),
    Sample(
        "POST",
        "/account/delete",
        lambda w, t, h: ("/account/delete", {"data": {"confirm": "DELETE", **_vid(w, h)}}),
        frozenset({P, C, A}),
        scope="none",
        fresh=True,
        success_to_login=True,
    ),
    Sample(
        "POST",
        "/clinic/patients/{patient_id}/fhir",
        lambda w, t, h: (
            f"/clinic/patients/{t}/fhir",
            {"data": _vid(w, h), "files": {"response": ("r.json", _fhir(w, h))}},
        ),
        frozenset({C}),
        clinician_ok=True,
    ),
    *[
        Sample(
            "POST",
            f"/clinic/patients/{{patient_id}}/{what}",
            lambda w, t, h, what=what, body=body: (
                f"/clinic/patients/{t}/{what}",
                {"data": {**body, **_vid(w, h)}},
            ),
            frozenset({C}),
            clinician_ok=True,
        )
        for what, body in (
            ("screen", {"fever": "1", "age": "40"}),
            ("exam", {"frt_left_deg#1": "40"}),
            ("finding", {"item": "cervical_lesion", "present": "yes"}),
            ("score", {"instrument": "hit6", **{f"item{i}": "6" for i in range(1, 7)}}),
        )
    ],
]


# ---- corrections (painlink/web/routes/corrections.py, api_corrections.py): each cell gets
# an entry of its own, made before the snapshots; the hostile request names the victim's
# entry (or her deleted one) under the owner's address or session: not found (404)


def _spine_entry(world: World, patient_id: str) -> int:
    from painlink.store.tables import spine_pain

    with world.engine.begin() as conn:
        row = {"patient_id": patient_id, "region": "lumbar", "nrs": 3,
               "start": dt.datetime.combine(TODAY, dt.time(7))}  # fmt: skip
        return int(conn.execute(spine_pain.insert().values(**row)).inserted_primary_key[0])


def _deleted_entry(world: World, patient_id: str) -> int:
    from painlink.services import corrections

    entry = _spine_entry(world, patient_id)
    with world.engine.begin() as conn:
        return corrections.delete_entry(conn, patient_id, "spine", {"id": entry})


def _entry_for(world: World, target: str, hostile: bool) -> int:
    return _spine_entry(world, world.victim if hostile else target)


def _deleted_for(world: World, target: str, hostile: bool) -> int:
    return _deleted_entry(world, world.victim if hostile else target)


SAMPLES += [
    Sample(
        "PATCH",
        "/api/patients/{patient_id}/entries/{kind}/{entry_id:path}",
        lambda w, t, h: (_api(w, t, f"/entries/spine/{_entry_for(w, t, h)}"), _j({"nrs": 6})),
        frozenset({P}),
        hostile_refused=True,
        hostile_code="404",
    ),
    Sample(
        "DELETE",
        "/api/patients/{patient_id}/entries/{kind}/{entry_id:path}",
        lambda w, t, h: (_api(w, t, f"/entries/spine/{_entry_for(w, t, h)}"), {}),
        frozenset({P}),
        hostile_refused=True,
        hostile_code="404",
    ),
    Sample(
        "POST",
        "/api/patients/{patient_id}/corrections/{correction_id}/undo",
        lambda w, t, h: (_api(w, t, f"/corrections/{_deleted_for(w, t, h)}/undo"), {}),
        frozenset({P}),
        hostile_refused=True,
        hostile_code="404",
    ),
    Sample(
        "POST",
        "/entries/{kind}/edit/{entry_id:path}",
        lambda w, t, h: (
            f"/entries/spine/edit/{_entry_for(w, w.owner, h)}",
            {"data": {"nrs": "6", **_vid(w, h)}},
        ),
        frozenset({P}),
        scope="own-attack",
        hostile_refused=True,
        hostile_code="404",
    ),
    Sample(
        "POST",
        "/entries/{kind}/delete/{entry_id:path}",
        lambda w, t, h: (
            f"/entries/spine/delete/{_entry_for(w, w.owner, h)}",
            {"data": _vid(w, h)},
        ),
        frozenset({P}),
        scope="own-attack",
        hostile_refused=True,
        hostile_code="404",
    ),
    Sample(
        "POST",
        "/entries/undo/{correction_id}",
        lambda w, t, h: (f"/entries/undo/{_deleted_for(w, w.owner, h)}", {"data": _vid(w, h)}),
        frozenset({P}),
        scope="own-attack",
        hostile_refused=True,
        hostile_code="404",
    ),
]


# ---- accounts and signing in (painlink/web/routes/auth.py, account.py): no diary is written; the
# hostile body names the victim's e-mail or patient id, which must change nothing of hers
SAMPLES += [
    *[
        Sample(
            "POST",
            route,
            lambda w, t, h, url=url: (url, {"data": {"email": w.victim_email, **_vid(w, h)}}),
            frozenset({P, C, A, "anon"}),
            scope="none",
            # no pre-session token in these requests (403), a link that does not exist
            # (400/404), or no second step pending (back to /login)
            refusal_everyone=frozenset({303, 400, 403, 404}),
        )
        for route, url in (
            ("/password/forgot", "/password/forgot"),
            ("/password/reset/{token}", "/password/reset/not-a-token"),
            ("/register/confirm/{token}", "/register/confirm/not-a-token"),
            ("/login/totp", "/login/totp"),
        )
    ],
    Sample(
        "POST",
        "/account/password",
        lambda w, t, h: (
            "/account/password",
            {
                "data": {
                    "current": PASSWORD,
                    "password": "quiet orchard lantern 42",
                    "confirm": "quiet orchard lantern 42",
                    **_vid(w, h),
                }
            },
        ),
        frozenset({P, C, A}),
        scope="none",
        fresh=True,  # ends the account's other sessions
        ok_codes=frozenset({200, 303, 400}),
    ),
    Sample(
        "POST",
        "/account/2fa",
        lambda w, t, h: (
            "/account/2fa",
            {"data": {"secret": "JBSWY3DPEHPK3PXP", "code": "000000", **_vid(w, h)}},
        ),
        frozenset({P, C, A}),
        scope="none",
        fresh=True,
        ok_codes=frozenset({200, 303, 400}),  # a wrong code is shown on the form
    ),
    Sample(
        "POST",
        "/admin/reset",
        lambda w, t, h: ("/admin/reset", {"data": {"email": w.victim_email, **_vid(w, h)}}),
        frozenset({A}),
        scope="none",
    ),
]


# ------------------------------------------------------------------ the expectations


def expected(sample: Sample, actor: str, world: World, target: str, hostile: bool) -> str:
    """ "ok", or the status code the refusal must carry ("login" = redirect to /login)."""
    role = ROLE[actor]
    api = sample.route.startswith("/api/")
    if sample.refusal_everyone:
        return "refused-everyone"
    if role is None:
        if "anon" in sample.roles:
            return "ok"
        return "401" if api else "login"
    if role not in sample.roles:
        return "403"
    if sample.scope == "path":
        mine = actor == "owner" and target == world.owner
        granted = sample.clinician_ok and actor == "granted_clinician" and target == world.owner
        if not (mine or granted):
            return "404"
    if sample.scope == "own-attack" and actor != "owner":
        return "404"  # another patient's attack id is not found in one's own diary
    if hostile and sample.hostile_refused:
        return sample.hostile_code
    return "ok"


def _is_login_redirect(r: Any) -> bool:
    return r.status_code == 303 and r.headers.get("location", "").endswith("/login")


def _audit_rows(engine: sa.Engine, after: int) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(audit_log.c.action, audit_log.c.patient_id).where(audit_log.c.id > after)
            )
        )


def _last_audit(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.coalesce(sa.func.max(audit_log.c.id), 0))).scalar()


def run_cell(
    world: World, sample: Sample, actor_name: str, target: str, hostile: bool
) -> str | None:
    """Send one request and check it; a description of what went wrong, or None."""
    actor = world.actors[actor_name]
    if sample.fresh:
        actor = world.fresh(ROLE[actor_name])
    url, kwargs = sample.build(world, target, hostile)
    kwargs = dict(kwargs)
    if sample.route.startswith("/api/"):
        kwargs["headers"] = {**kwargs.get("headers", {}), "X-CSRF-Token": actor.csrf}
    elif actor.csrf:
        kwargs["data"] = {**kwargs.get("data", {}), "csrf_token": actor.csrf}
    victim_before = snapshot(world.engine, world.victim)
    owner_before = snapshot(world.engine, world.owner)
    own_before = snapshot(world.engine, actor.patient_id) if actor.patient_id else None
    audit_mark = _last_audit(world.engine)
    r = actor.client.request(sample.method, url, **kwargs)
    want = expected(sample, actor_name, world, target, hostile)
    where = f"{sample.method} {url} as {actor_name} ({'hostile' if hostile else 'clean'})"
    problems = []
    if r.status_code >= 500:
        problems.append(f"server error {r.status_code}")
    elif want == "ok":
        if r.status_code not in sample.ok_codes or (
            _is_login_redirect(r) and not sample.success_to_login
        ):
            problems.append(f"expected success, got {r.status_code} {r.text[:200]}")
    elif want == "login":
        if not _is_login_redirect(r):
            problems.append(f"expected a redirect to /login, got {r.status_code}")
    elif want == "refused-everyone":
        if r.status_code not in sample.refusal_everyone:
            problems.append(f"expected {sorted(sample.refusal_everyone)}, got {r.status_code}")
    elif str(r.status_code) != want:
        problems.append(f"expected {want}, got {r.status_code} {r.text[:200]}")
    if r.status_code == 422 and not r.json().get("detail"):
        problems.append("a 422 without a detail")
    if snapshot(world.engine, world.victim) != victim_before:
        problems.append("THE VICTIM'S DIARY CHANGED")
    owner_may_change = want == "ok" and (
        (sample.scope == "path" and target == world.owner)
        or (sample.scope in ("own", "own-attack") and actor_name == "owner")
    )
    if not owner_may_change and snapshot(world.engine, world.owner) != owner_before:
        problems.append("the owner's diary changed")
    if (
        want != "ok"
        and own_before is not None
        and snapshot(world.engine, actor.patient_id or "") != own_before
    ):
        problems.append("a refused request changed the actor's own diary")
    written = {pid for action, pid in _audit_rows(world.engine, audit_mark) if action == "write"}
    if world.victim in written:
        problems.append("an audit row claims a write to the victim's diary")
    if want == "ok" and sample.scope != "none":
        diary = target if sample.scope == "path" else actor.patient_id
        if diary not in written:
            problems.append(f"no audit row names the diary written ({diary}): {written}")
    _restore(world)
    return f"{where}: {'; '.join(problems)}" if problems else None


# ------------------------------------------------------------------ the tests


def app_routes(app: Any, methods: set[str]) -> set[tuple[str, str]]:
    """(method, path) of every endpoint the app serves, included routers too (FastAPI
    ≥ 0.13x keeps an included router whole and resolves its routes lazily)."""
    found = set()
    for route in app.routes:
        if hasattr(route, "effective_route_contexts"):
            pairs = [
                (ctx.path, getattr(ctx.original_route, "methods", None) or set())
                for ctx in route.effective_route_contexts()
                if isinstance(ctx.original_route, APIRoute)
            ]
        elif isinstance(route, APIRoute):
            pairs = [(route.path, route.methods)]
        else:
            continue
        found |= {(m, path) for path, ms in pairs for m in ms if m in methods}
    return found


def test_every_route_has_a_sample(tmp_path: Path) -> None:
    """A new route fails here until it is in the matrix (and a listed one must exist)."""
    app = create_app(f"sqlite:///{tmp_path / 'routes.db'}")
    writes = app_routes(app, UNSAFE)
    listed = {(s.method, s.route) for s in SAMPLES}
    assert writes - listed == set(), "write routes missing from the matrix"
    assert listed - writes == set(), "matrix samples for routes that do not exist"
    reads = app_routes(app, {"GET"})
    listed_reads = {("GET", r.route) for r in READS}
    assert reads - listed_reads == set(), "read routes missing from the matrix"
    assert listed_reads - reads == set(), "matrix samples for routes that do not exist"


@pytest.mark.slow
def test_write_matrix(db_url: str) -> None:
    """Every write route × every actor × clean and hostile bodies, on the owner's and the
    victim's address: the victim's diary never changes; access answers as the rules say."""
    world = make_world(db_url)
    failures = []
    order = sorted(SAMPLES, key=lambda s: s.fresh)  # nothing depends on the throwaways
    cells = 0
    for sample in order:
        targets = [world.owner, world.victim] if sample.scope == "path" else [world.owner]
        for target in targets:
            for actor in ACTORS:
                for hostile in (False, True):
                    cells += 1
                    if problem := run_cell(world, sample, actor, target, hostile):
                        failures.append(problem)
    routes = len({(s.method, s.route) for s in SAMPLES})
    print(f"\nwrite matrix: {routes} routes, {len(SAMPLES)} samples, {cells} cells, "
          f"{len(failures)} failed")  # fmt: skip
    assert not failures, f"{len(failures)} cell(s) failed:\n" + "\n".join(failures)


# ------------------------------------------------------------------ reads


@dataclass(frozen=True)
class Read:
    route: str
    url: Callable[[World, str], str]
    roles: frozenset[str]
    scope: str = "path"  # "path", "query" (clinicians name the patient in ?patient=), "own"
    clinician_ok: bool = True
    ok_codes: frozenset[int] = frozenset({200})
    any_role: bool = False  # any account may ask; who has no access gets 404, not 403


READS: list[Read] = [
    Read("/", lambda w, t: "/", frozenset({P, C, A, "anon"}), "none", ok_codes=frozenset({303})),
    Read("/login", lambda w, t: "/login", frozenset({P, C, A, "anon"}), "none"),
    Read("/register", lambda w, t: "/register", frozenset({P, C, A, "anon"}), "none"),
    Read("/history", lambda w, t: "/history", frozenset({P}), "own"),
    Read("/home", lambda w, t: "/home", frozenset({P}), "own"),
    Read(
        "/attacks/{attack_id}",
        lambda w, t: f"/attacks/{w.owner_attack}",
        frozenset({P}),
        "own-attack",
    ),
    Read("/checkin", lambda w, t: "/checkin", frozenset({P}), "own"),
    Read("/entries", lambda w, t: "/entries", frozenset({P}), "own"),
    Read(
        "/entries/{kind}/edit/{entry_id:path}",
        lambda w, t: f"/entries/attack/edit/{w.owner_attack}",
        frozenset({P}),
        "own-attack",
    ),
    Read("/spine", lambda w, t: "/spine", frozenset({P}), "own"),
    Read("/preventives", lambda w, t: "/preventives", frozenset({P}), "own"),
    Read("/calendar", lambda w, t: f"/calendar?patient={t}", frozenset({P, C}), "query"),
    Read("/insights", lambda w, t: f"/insights?patient={t}", frozenset({P, C}), "query"),
    Read(
        "/insights/{kind}.png",
        lambda w, t: f"/insights/triggers.png?patient={t}",
        frozenset({P, C}),
        "query",
    ),
    Read("/sharing", lambda w, t: "/sharing", frozenset({P}), "own"),
    Read("/account", lambda w, t: "/account", frozenset({P, C, A}), "none"),
    Read("/account/export", lambda w, t: "/account/export", frozenset({P}), "own"),
    Read(
        "/account/export.fhir.json", lambda w, t: "/account/export.fhir.json", frozenset({P}), "own"
    ),
    Read("/clinic", lambda w, t: "/clinic", frozenset({C}), "none"),
    Read("/clinic/patients/{patient_id}", lambda w, t: f"/clinic/patients/{t}", frozenset({C})),
    Read(
        "/clinic/patients/{patient_id}/report.pdf",
        lambda w, t: f"/clinic/patients/{t}/report.pdf",
        frozenset({C}),
    ),
    Read("/reports/me.pdf", lambda w, t: "/reports/me.pdf", frozenset({P}), "own"),
    Read("/admin", lambda w, t: "/admin", frozenset({A}), "none"),
    Read("/account/password", lambda w, t: "/account/password", frozenset({P, C, A}), "none"),
    Read("/account/2fa", lambda w, t: "/account/2fa", frozenset({P, C, A}), "none"),
    Read("/password/forgot", lambda w, t: "/password/forgot", frozenset({P, C, A, "anon"}), "none"),
    Read(
        "/password/reset/{token}",
        lambda w, t: "/password/reset/not-a-token",
        frozenset({P, C, A, "anon"}),
        "none",
        ok_codes=frozenset({200, 400, 404}),  # a link that does not exist says so
    ),
    Read(
        "/register/confirm/{token}",
        lambda w, t: "/register/confirm/not-a-token",
        frozenset({P, C, A, "anon"}),
        "none",
        ok_codes=frozenset({200, 400, 404}),
    ),
    Read(
        "/login/totp",
        lambda w, t: "/login/totp",
        frozenset({P, C, A, "anon"}),
        "none",
        ok_codes=frozenset({200, 303}),  # nobody here is between password and code
    ),
    Read("/api/me", lambda w, t: "/api/me", frozenset({P, C, A}), "none"),
    *[
        Read(
            f"/api/patients/{{patient_id}}{tail}",
            lambda w, t, tail=tail: _api(w, t, tail),
            roles,
            any_role=roles == frozenset({P, C}),
        )
        for tail, roles in (
            ("/attacks", frozenset({P, C})),
            ("/days/{date}", frozenset({P, C})),
            ("/calendar", frozenset({P, C})),
            ("/classification", frozenset({P, C})),
            ("/insights", frozenset({P, C})),
            ("/export", frozenset({P})),
            ("/screens", frozenset({P, C})),
            ("/questionnaires", frozenset({P, C})),
            ("/grants", frozenset({P})),
            ("/corrections", frozenset({P, C})),
        )
    ],
    Read("/api/clinic/patients", lambda w, t: "/api/clinic/patients", frozenset({C}), "none"),
    Read("/api/admin/audit", lambda w, t: "/api/admin/audit", frozenset({A}), "none"),
]

_READ_URLS = {
    "/days/{date}": lambda: f"/days/{TODAY - dt.timedelta(days=1)}",
    "/calendar": lambda: f"/calendar?month={TODAY:%Y-%m}",
}


def _read_url(read: Read, world: World, target: str) -> str:
    url = read.url(world, target)
    for tail, concrete in _READ_URLS.items():
        if url.endswith(tail):
            url = url.removesuffix(tail) + concrete()
    return url


def expected_read(read: Read, actor: str, world: World, target: str) -> str:
    role = ROLE[actor]
    api = read.route.startswith("/api/")
    if role is None:
        return "ok" if "anon" in read.roles else ("401" if api else "login")
    if role not in read.roles:
        return "404" if read.any_role else "403"
    if read.scope == "own-attack":
        return "ok" if actor == "owner" else "404"
    if read.scope == "own" or (read.scope == "query" and role == "patient"):
        return "ok"  # the session's own diary, whatever the address says
    if read.scope in ("path", "query"):
        mine = role == "patient" and actor == "owner" and target == world.owner
        granted = read.clinician_ok and actor == "granted_clinician" and target == world.owner
        return "ok" if mine or granted else "404"
    return "ok"


@pytest.mark.slow
def test_read_matrix(db_url: str) -> None:
    """Every read route × every actor, on the owner's and the victim's address: nobody
    sees the victim's diary; a patient's page with ``?patient=`` shows their own."""
    world = make_world(db_url)
    failures = []
    cells = 0
    for read in READS:
        for target in (world.owner, world.victim):
            for actor_name in ACTORS:
                actor = world.actors[actor_name]
                url = _read_url(read, world, target)
                r = actor.client.get(url)
                cells += 1
                want = expected_read(read, actor_name, world, target)
                where = f"GET {url} as {actor_name}"
                if r.status_code >= 500:
                    failures.append(f"{where}: server error {r.status_code}")
                elif want == "ok":
                    if r.status_code not in read.ok_codes:
                        failures.append(f"{where}: expected success, got {r.status_code}")
                    elif world.victim.encode() in r.content and actor_name != "admin":
                        failures.append(f"{where}: the answer names the victim")
                elif want == "login":
                    if not _is_login_redirect(r):
                        failures.append(f"{where}: expected /login, got {r.status_code}")
                elif str(r.status_code) != want:
                    failures.append(f"{where}: expected {want}, got {r.status_code}")
    print(f"\nread matrix: {len(READS)} routes, {cells} cells, {len(failures)} failed")
    assert not failures, f"{len(failures)} cell(s) failed:\n" + "\n".join(failures)


def test_the_audit_names_the_diary_written(tmp_path: Path) -> None:
    """Defect 1 as the probe found it: a body naming another patient used to write into
    her diary while the audit named the writer's. Now it is refused and nothing moves."""
    world = make_world(f"sqlite:///{tmp_path / 'a.db'}")
    owner = world.actors["owner"]
    before = snapshot(world.engine, world.victim)
    mark = _last_audit(world.engine)
    for path, body in (
        ("/medications", {"drug": "ibuprofen", "taken_at": f"{TODAY}T07:00:00"}),
        ("/spine-pain", {"region": "lumbar", "nrs": 5}),
    ):
        r = owner.client.post(
            _api(world, world.owner, path),
            json={**body, "patient_id": world.victim},
            headers={"X-CSRF-Token": owner.csrf},
        )
        assert r.status_code == 422 and "patient_id" in r.json()["detail"], r.text
    assert snapshot(world.engine, world.victim) == before
    with world.engine.connect() as conn:
        assert not conn.execute(
            sa.select(audit_log.c.id).where(
                audit_log.c.id > mark,
                audit_log.c.patient_id == world.victim,
                audit_log.c.action == "write",
            )
        ).first()
        assert conn.execute(sa.select(sa.func.count()).select_from(users)).scalar() == 6
