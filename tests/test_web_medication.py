"""Medication entry through HTTP: names as on the box, a dose typed with the name, a
kind for unknown drugs, intakes listed on the attack, "did it help?" two hours later,
and preventives kept apart from attack intakes."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from painlink.services import diary as diary_service
from painlink.store.tables import medications, treatments
from tests.test_web import Web


@pytest.fixture
def web(tmp_path):  # type: ignore[no-untyped-def]
    return Web(tmp_path)


def _attack(web: Web, name: str) -> tuple[object, str, str, str]:
    c, pid, csrf = web.patient(name)
    r = c.post("/attacks/start", data={"csrf_token": csrf})
    attack_id = str(r.url).split("/attacks/")[1].split("?")[0]
    return c, pid, csrf, attack_id


def _intakes(web: Web, pid: str) -> list[dict]:
    with web.engine.connect() as conn:
        rows = conn.execute(
            sa.select(medications).where(medications.c.patient_id == pid).order_by(medications.c.id)
        ).mappings()
        return [dict(r) for r in rows]


@pytest.mark.parametrize(
    ("typed", "drug", "drug_class", "dose"),
    [
        ("Maxalt", "rizatriptan", "triptan", None),
        ("Imitrex", "sumatriptan", "triptan", None),
        ("Advil", "ibuprofen", "non_opioid_analgesic", None),
        ("Tylenol", "paracetamol", "non_opioid_analgesic", None),
        ("Nurtec", "rimegepant", "gepant", None),
        ("Sumatriptan 50 mg", "sumatriptan", "triptan", 50.0),
        ("ibuprofen 400mg", "ibuprofen", "non_opioid_analgesic", 400.0),
        ("Advil 2x200 mg", "ibuprofen", "non_opioid_analgesic", 400.0),
        ("Excedrin", "aspirin+paracetamol+caffeine", "combination_analgesic", None),
    ],
)
def test_names_as_on_the_box_are_taken(
    web: Web, typed: str, drug: str, drug_class: str, dose: float | None
) -> None:
    c, pid, csrf, attack_id = _attack(web, "ana")
    r = c.post(f"/attacks/{attack_id}/medication", data={"csrf_token": csrf, "drug": typed})
    assert r.status_code == 200 and "choose its kind" not in r.text, r.text[:500]
    [row] = _intakes(web, pid)
    assert (row["drug"], row["drug_class"], row["dose"]) == (drug, drug_class, dose)
    assert row["attack_id"] == attack_id
    if dose is not None:
        assert row["dose_unit"] == "mg"


def test_an_unknown_drug_asks_its_kind_in_plain_words(web: Web) -> None:
    c, pid, csrf, attack_id = _attack(web, "ben")
    r = c.post(
        f"/attacks/{attack_id}/medication", data={"csrf_token": csrf, "drug": "Feverfew tea"}
    )
    assert r.status_code == 400
    assert re.search(r'<select[^>]*name="drug_class"', r.text), "no kind field shown"
    assert "A triptan" in r.text and "non_opioid_analgesic</option>" not in r.text
    assert _intakes(web, pid) == []
    r = c.post(
        f"/attacks/{attack_id}/medication",
        data={"csrf_token": csrf, "drug": "Feverfew tea", "drug_class": "other"},
    )
    assert r.status_code == 200
    [row] = _intakes(web, pid)
    assert (row["drug"], row["drug_class"]) == ("Feverfew tea", "other")


def test_intakes_are_listed_on_the_attack_with_their_time(web: Web) -> None:
    c, pid, csrf, attack_id = _attack(web, "cai")
    c.post(f"/attacks/{attack_id}/medication", data={"csrf_token": csrf, "drug": "Maxalt 10"})
    with web.engine.connect() as conn:
        now = diary_service.local_now(conn, pid)
    page = c.get(f"/attacks/{attack_id}").text
    intakes = page.split('id="meds"')[1]
    assert "rizatriptan" in intakes and "10 mg" in intakes
    assert f"{now:%H:%M}" in intakes


def _taken(web: Web, pid: str, hours_ago: float) -> int:
    with web.engine.begin() as conn:
        now = diary_service.local_now(conn, pid)
        conn.execute(
            medications.update()
            .where(medications.c.patient_id == pid)
            .values(taken_at=now - dt.timedelta(hours=hours_ago))
        )
        return conn.execute(sa.select(sa.func.max(medications.c.id))).scalar()


def test_did_it_help_is_asked_two_hours_later_and_fills_relief(web: Web) -> None:
    c, pid, csrf, attack_id = _attack(web, "dee")
    c.post(f"/attacks/{attack_id}/medication", data={"csrf_token": csrf, "drug": "Imitrex 50"})
    _taken(web, pid, 1)
    assert "Did the sumatriptan" not in c.get("/home").text  # too early to ask
    med_id = _taken(web, pid, 2.5)
    home = c.get("/home").text
    assert "Did the sumatriptan" in home and f"/medications/{med_id}/relief" in home
    assert f"/medications/{med_id}/relief" in c.get(f"/attacks/{attack_id}").text
    r = c.post(
        f"/medications/{med_id}/relief",
        data={"csrf_token": csrf, "relief_2h": "partial", "back": "home"},
    )
    assert r.status_code == 200 and str(r.url).split("?")[0].endswith("/home")
    assert _intakes(web, pid)[0]["relief_2h"] == "partial"
    assert "Did the sumatriptan" not in c.get("/home").text
    bad = c.post(f"/medications/{med_id}/relief", data={"csrf_token": csrf, "relief_2h": "x"})
    assert bad.status_code == 400


def test_another_patients_intake_cannot_be_answered(web: Web) -> None:
    c, pid, csrf, attack_id = _attack(web, "eve")
    c.post(f"/attacks/{attack_id}/medication", data={"csrf_token": csrf, "drug": "Advil"})
    med_id = _taken(web, pid, 3)
    other, _opid, ocsrf = web.patient("fay")
    r = other.post(
        f"/medications/{med_id}/relief", data={"csrf_token": ocsrf, "relief_2h": "complete"}
    )
    assert r.status_code == 404
    assert _intakes(web, pid)[0]["relief_2h"] is None


def test_preventives_are_kept_apart_from_attack_intakes(web: Web) -> None:
    c, pid, csrf, attack_id = _attack(web, "gus")
    r = c.post(
        f"/attacks/{attack_id}/medication", data={"csrf_token": csrf, "drug": "Topamax 50 mg"}
    )
    assert r.status_code == 400 and "Preventive treatment" in r.text
    assert _intakes(web, pid) == []
    page = c.get("/preventives")
    assert page.status_code == 200 and "Topamax" in page.text  # offered by the type-ahead
    r = c.post("/preventives", data={"csrf_token": csrf, "drug": "Topamax 50 mg"})
    assert r.status_code == 200 and "topiramate 50 mg" in r.text
    with web.engine.connect() as conn:
        [row] = conn.execute(sa.select(treatments).where(treatments.c.patient_id == pid)).mappings()
    assert (row["name"], row["kind"], row["end"]) == ("topiramate 50 mg", "preventive_drug", None)
    # the same preventive twice would double its days: refused while the first is open
    r = c.post("/preventives", data={"csrf_token": csrf, "drug": "topiramate 50mg"})
    assert r.status_code == 400 and "already listed" in r.text
    r = c.post("/preventives", data={"csrf_token": csrf, "drug": "Maxalt"})
    assert r.status_code == 400 and "attack" in r.text
    # rimegepant is licensed for prevention too (every other day): accepted here
    r = c.post("/preventives", data={"csrf_token": csrf, "drug": "Vydura 75 mg"})
    assert r.status_code == 200 and "rimegepant 75 mg" in r.text
    r = c.post(f"/preventives/{row['id']}/stop", data={"csrf_token": csrf})
    assert r.status_code == 200
    with web.engine.connect() as conn:
        end = conn.execute(sa.select(treatments.c.end).where(treatments.c.id == row["id"])).scalar()
    assert end is not None


def test_a_time_in_the_future_or_an_absurd_dose_is_shown_beside_the_field(web: Web) -> None:
    c, pid, csrf, attack_id = _attack(web, "hal")
    r = c.post(
        f"/attacks/{attack_id}/medication",
        data={"csrf_token": csrf, "drug": "Maxalt", "taken_at": "2099-01-01T10:00"},
    )
    assert r.status_code == 400 and 'id="taken_at-error"' in r.text
    assert re.search(r'<details class="when" open>', r.text)
    r = c.post(
        f"/attacks/{attack_id}/medication",
        data={"csrf_token": csrf, "drug": "ibuprofen 99x999999 g"},
    )
    assert r.status_code == 400 and 'id="dose-error"' in r.text
    assert _intakes(web, pid) == []
