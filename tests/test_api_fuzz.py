"""Property-based tests of every JSON write route: hostile bodies never take the server down.

For each unsafe ``/api`` route (read off the router, so a new one must be added here),
Hypothesis generates bodies — plausible ones and hostile ones: huge and non-finite
numbers, "NaN" strings, years 0001 and 9999, deep nesting, unicode and NUL characters,
wrong types, another patient's ids — and path values to match. Whatever comes in:

- the answer is never a 5xx;
- a 4xx carries a ``detail`` that says what is wrong;
- a refused request writes nothing (every table's row count is unchanged, the audit
  log aside) and the victim's diary is never touched.

Bounded (``MAX_EXAMPLES`` per route, derandomised) so that it runs in well under a
minute on SQLite; PostgreSQL, which refuses NUL characters SQLite keeps, gets fewer.
"""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from painlink.store.account_tables import audit_log, login_attempts, sessions
from painlink.store.tables import metadata
from tests.conftest import LAST_MONTH
from tests.test_access_matrix import UNSAFE, World, app_routes, make_world, snapshot

MAX_EXAMPLES = {"sqlite": 50, "postgresql": 12}


def counts(engine: sa.Engine) -> dict[str, int]:
    skip = {audit_log.name, sessions.name, login_attempts.name}
    with engine.connect() as conn:
        return {
            t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in metadata.sorted_tables
            if t.name not in skip
        }


# ------------------------------------------------------------------ value strategies

HOSTILE_TEXT = [
    "NaN",
    "nan",
    "inf",
    "-Infinity",
    "1e309",
    "-0",
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:59:59",
    "0001-01-01T00:00:00",
    "1899-12-31",
    "2024-02-30",
    "2024-01-01T08:00:00+14:00",
    "2024-01-01T08:00:00Z",
    "",
    " ",
    "\x00",
    "a\x00b",
    "ibuprofen",
    "lumbar",
    "midas",
    "x" * 5000,
    "😀" * 50,
    "'; DROP TABLE attacks; --",
    "<script>alert(1)</script>",
]
numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, 1, 3, 10, -1, 2**63, 2**64, 10**400 // 10**100]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1.25e308, -1.25e308, 1e-320, 0.5]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    numbers,
    st.sampled_from(HOSTILE_TEXT),
    st.text(max_size=30),
)


def deep(depth: int) -> Any:
    value: Any = 1
    for i in range(depth):
        value = [value] if i % 2 else {"a": value}
    return value


values = st.one_of(
    scalars,
    st.lists(scalars, max_size=4),
    st.dictionaries(st.text(max_size=8), scalars, max_size=4),
    st.sampled_from([deep(50), deep(400)]),
)


def body_for(
    world: World, fields: list[str], valid: dict[str, Any] | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts over the route's own field names, plus ids that belong to someone else;
    with ``valid``, also that valid body with one or two fields made hostile (so the
    requests reach the code that stores, not only the validation in front of it)."""
    keys = st.one_of(
        st.sampled_from([*fields, "patient_id", "attack_id", "date", "id"]),
        st.text(alphabet=string.ascii_letters + "_", min_size=1, max_size=12),
    )
    other_ids = st.sampled_from([world.victim, world.victim_attack, world.owner])
    anything = st.dictionaries(keys, st.one_of(values, other_ids), max_size=8)
    if valid is None:
        return anything
    changes = st.dictionaries(
        st.sampled_from([*valid, *fields]), st.one_of(values, other_ids), max_size=2
    )
    return st.one_of(anything, st.just(valid), changes.map(lambda change: {**valid, **change}))


# ------------------------------------------------------------------ routes


ENTRY_KINDS = ["attack", "reading", "medication", "spine", "day", "factor", "x", "%00"]


def entry_ids(w: World) -> st.SearchStrategy[str]:
    """Entry ids of the owner's and the victim's diary, and ids that are none."""
    return st.one_of(
        st.sampled_from([w.owner_attack, w.victim_attack, "1", "2", "0", "-1", "%00", "x" * 300,
                         str(LAST_MONTH), "2024-02-30", "9999-12-31", f"{LAST_MONTH}/x/y"]),
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
    )  # fmt: skip


ATTACK_FIELDS = [
    "start",
    "end",
    "intensity",
    "intensity_nrs",
    "onset_to_peak_min",
    "side",
    "location",
    "quality",
    "nausea",
    "notes",
]
ROUTES: dict[tuple[str, str], Any] = {
    ("POST", "/api/patients/{patient_id}/attacks"): lambda w: (
        st.just(f"/api/patients/{w.owner}/attacks"),
        body_for(w, ["start", "intensity"], {"start": f"{LAST_MONTH}T08:00:00", "intensity": 2}),
    ),
    ("PATCH", "/api/patients/{patient_id}/attacks/{attack_id}"): lambda w: (
        st.sampled_from([w.owner_attack, w.victim_attack, "nope", "%00", "x" * 300]).map(
            lambda a: f"/api/patients/{w.owner}/attacks/{a}"
        ),
        body_for(
            w, ATTACK_FIELDS, {"end": f"{LAST_MONTH.replace(day=28)}T23:00:00", "nausea": True}
        ),
    ),
    ("POST", "/api/patients/{patient_id}/attacks/{attack_id}/readings"): lambda w: (
        st.sampled_from([w.owner_attack, w.victim_attack, "nope"]).map(
            lambda a: f"/api/patients/{w.owner}/attacks/{a}/readings"
        ),
        body_for(w, ["intensity", "intensity_nrs", "at"], {"intensity": 1, "intensity_nrs": 4}),
    ),
    ("POST", "/api/patients/{patient_id}/medications"): lambda w: (
        st.just(f"/api/patients/{w.owner}/medications"),
        body_for(
            w,
            ["drug", "class", "dose", "dose_unit", "relief_2h", "taken_at"],
            {
                "drug": "ibuprofen",
                "dose": 400,
                "dose_unit": "mg",
                "taken_at": f"{LAST_MONTH.replace(day=2)}T09:00",
            },
        ),
    ),
    ("POST", "/api/patients/{patient_id}/spine-pain"): lambda w: (
        st.just(f"/api/patients/{w.owner}/spine-pain"),
        body_for(w, ["region", "side", "start", "end", "nrs"], {"region": "lumbar", "nrs": 5}),
    ),
    ("PUT", "/api/patients/{patient_id}/days/{date}"): lambda w: (
        st.one_of(
            st.dates().map(str),
            st.sampled_from(["9999-12-31", "0001-01-01", "2024-02-30", "today", "%00"]),
        ).map(lambda d: f"/api/patients/{w.owner}/days/{d}"),
        body_for(
            w,
            ["sleep_hours", "stress", "caffeine_mg", "menstruation", "pressure_hpa"],
            {"sleep_hours": 7, "stress": 3, "caffeine_mg": 200},
        ),
    ),
    ("POST", "/api/screen"): lambda w: (
        st.just("/api/screen"),
        body_for(
            w,
            ["onset_to_peak_min", "age", "fever", "thunderclap", "headache_onset_age"],
            {"onset_to_peak_min": 30, "age": 40, "fever": False},
        ),
    ),
    ("POST", "/api/patients/{patient_id}/screens"): lambda w: (
        st.just(f"/api/patients/{w.owner}/screens"),
        st.one_of(
            st.fixed_dictionaries(
                {"answers": body_for(w, ["onset_to_peak_min", "age", "fever"])},
                optional={"attack_id": st.one_of(values, st.just(w.victim_attack))},
            ),
            body_for(w, ["answers", "attack_id"]),
        ),
    ),
    ("POST", "/api/patients/{patient_id}/questionnaires"): lambda w: (
        st.just(f"/api/patients/{w.owner}/questionnaires"),
        st.one_of(
            st.fixed_dictionaries(
                {
                    "instrument": st.sampled_from(["midas", "hit6", "odi", "ndi", "x"]),
                    "completed_on": st.one_of(st.dates().map(str), st.sampled_from(HOSTILE_TEXT)),
                    "items": st.dictionaries(
                        st.one_of(st.sampled_from(["midas-1", "hit6-1", "ndi-1"]), st.text()),
                        st.one_of(st.none(), numbers),
                        max_size=6,
                    ),
                }
            ),
            body_for(w, ["instrument", "completed_on", "items"]),
        ),
    ),
    ("POST", "/api/patients/{patient_id}/questionnaire-responses"): lambda w: (
        st.just(f"/api/patients/{w.owner}/questionnaire-responses"),
        st.one_of(
            st.fixed_dictionaries(
                {
                    "resourceType": st.sampled_from(["QuestionnaireResponse", "Patient", 5]),
                    "questionnaire": st.one_of(
                        st.sampled_from(["http://loinc.org/q/NDI", "midas", "hit6", ""]), values
                    ),
                    "status": st.sampled_from(["completed", "x"]),
                    "authored": st.one_of(st.sampled_from(HOSTILE_TEXT), values),
                    "subject": st.just({"reference": f"Patient/{w.victim}"}),
                    "item": st.one_of(
                        values,
                        st.lists(
                            st.dictionaries(
                                st.sampled_from(["linkId", "answer", "item"]), values, max_size=3
                            ),
                            max_size=4,
                        ),
                    ),
                }
            ),
            body_for(w, ["resourceType", "questionnaire", "item", "authored"]),
        ),
    ),
    ("POST", "/api/patients/{patient_id}/grants"): lambda w: (
        st.just(f"/api/patients/{w.owner}/grants"),
        body_for(w, ["clinician_email"], {"clinician_email": "granted@clinic.org"}),
    ),
    ("DELETE", "/api/patients/{patient_id}/grants/{clinician_id}"): lambda w: (
        st.one_of(
            st.integers(min_value=-(10**30), max_value=10**30).map(str),
            st.sampled_from(["x", "1e3", "%00", str(w.granted_id)]),
        ).map(lambda c: f"/api/patients/{w.owner}/grants/{c}"),
        st.just({}),
    ),
    ("PATCH", "/api/patients/{patient_id}/entries/{kind}/{entry_id:path}"): lambda w: (
        st.tuples(st.sampled_from(ENTRY_KINDS), entry_ids(w)).map(
            lambda ke: f"/api/patients/{w.owner}/entries/{ke[0]}/{ke[1]}"
        ),
        body_for(w, [*ATTACK_FIELDS, "nrs", "value", "stress", "dose", "at"], {"nrs": 5}),
    ),
    ("DELETE", "/api/patients/{patient_id}/entries/{kind}/{entry_id:path}"): lambda w: (
        st.tuples(st.sampled_from(ENTRY_KINDS), entry_ids(w)).map(
            lambda ke: f"/api/patients/{w.owner}/entries/{ke[0]}/{ke[1]}"
        ),
        st.just({}),
    ),
    ("POST", "/api/patients/{patient_id}/corrections/{correction_id}/undo"): lambda w: (
        st.one_of(
            st.integers(min_value=-(10**30), max_value=10**30).map(str),
            st.sampled_from(["x", "1e3", "%00", "1", "2"]),
        ).map(lambda c: f"/api/patients/{w.owner}/corrections/{c}/undo"),
        st.just({}),
    ),
}


def test_every_json_write_route_is_fuzzed(tmp_path: Path) -> None:
    from painlink.web.app import create_app

    app = create_app(f"sqlite:///{tmp_path / 'routes.db'}")
    api_writes = {r for r in app_routes(app, UNSAFE) if r[1].startswith("/api/")}
    assert api_writes == set(ROUTES)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def fuzz_world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, World]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}"
    else:
        import uuid

        import psycopg

        server = request.getfixturevalue("postgres_server")
        name = f"fuzz_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = f"{server.rpartition('/')[0]}/{name}"
    return request.param, make_world(url)


def _send(world: World, method: str, url: str, body: Any) -> Any:
    owner = world.actors["owner"]
    return owner.client.request(
        method,
        url,
        content=json.dumps(body, allow_nan=True),
        headers={"X-CSRF-Token": owner.csrf, "Content-Type": "application/json"},
    )


#: status class → requests sent, per backend (printed at the end of a run: ``pytest -s``)
SENT: dict[str, dict[str, int]] = {}


def _check(world: World, method: str, url: str, body: Any) -> None:
    before, victim = counts(world.engine), snapshot(world.engine, world.victim)
    r = _send(world, method, url, body)
    tally = SENT.setdefault(world.engine.dialect.name, {})
    tally[f"{r.status_code // 100}xx"] = tally.get(f"{r.status_code // 100}xx", 0) + 1
    assert r.status_code < 500, f"{method} {url} {body!r}: {r.status_code} {r.text[:300]}"
    if r.status_code >= 400:
        detail = r.json().get("detail")
        assert detail, f"{method} {url}: {r.status_code} without a detail"
        assert counts(world.engine) == before, f"{method} {url} {body!r}: refused yet wrote"
    assert snapshot(world.engine, world.victim) == victim, f"{method} {url}: victim changed"


@pytest.mark.slow
@pytest.mark.parametrize("route", sorted(ROUTES), ids=lambda r: f"{r[0]} {r[1]}")
def test_hostile_bodies_never_take_the_server_down(
    fuzz_world: tuple[str, World], route: tuple[str, str]
) -> None:
    backend, world = fuzz_world
    paths, bodies = ROUTES[route](world)

    @settings(
        max_examples=MAX_EXAMPLES[backend],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(url=paths, body=bodies)
    def run(url: str, body: Any) -> None:
        _check(world, route[0], url, body)

    run()


@pytest.mark.parametrize("route", sorted(ROUTES), ids=lambda r: f"{r[0]} {r[1]}")
def test_malformed_json_is_a_clear_400_or_422(
    fuzz_world: tuple[str, World], route: tuple[str, str]
) -> None:
    """Bodies no JSON parser should build: 100 000-deep nesting, truncation, NUL bytes."""
    _backend, world = fuzz_world
    method, path = route
    url = (
        path.replace("{patient_id}", world.owner)
        .replace("{attack_id}", world.owner_attack)
        .replace("{date}", "2024-01-01")
        .replace("{clinician_id}", str(world.granted_id))
    )
    owner = world.actors["owner"]
    for raw in ("[" * 100_000 + "]" * 100_000, '{"a": ', "\x00", '{"a": "\x00"}', "nul", "[]", "5"):
        before = counts(world.engine)
        r = owner.client.request(
            method,
            url,
            content=raw,
            headers={"X-CSRF-Token": owner.csrf, "Content-Type": "application/json"},
        )
        assert r.status_code < 500, f"{method} {url} {raw[:20]!r}: {r.status_code}"
        if r.status_code >= 400:
            assert r.json().get("detail")
            assert counts(world.engine) == before


@pytest.mark.slow  # reports on the slow fuzzing above; alone it would have nothing to check
def test_zz_report() -> None:
    """How many requests the fuzzing above sent, by status class (run with ``-s``)."""
    assert SENT, "nothing was sent: run it with the fuzzing tests above"
    for backend, tally in SENT.items():
        print(f"\nfuzz {backend}: {sum(tally.values())} requests, {dict(sorted(tally.items()))}")
    assert all("5xx" not in tally for tally in SENT.values())
