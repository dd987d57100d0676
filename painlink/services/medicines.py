"""Medication around attacks and as ongoing treatment: the intakes of one attack,
the "did it help?" question two hours after an intake, and preventive treatments.

Why relief at two hours: it is the primary end point of acute migraine treatment
trials (IHS guidelines for controlled trials of drugs in migraine, 4th ed., Cephalalgia
2019; pain freedom / relief at 2 h), and the one a person can answer with one tap
when asked at the right time. Why preventives apart: a daily tablet is not an attack
intake; counting it with the attack would inflate acute-medication days (ICHD-3 8.2),
and a preventive is judged over months (treatment periods), not per attack.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from painlink.diary.schemas import TreatmentIn
from painlink.diary.vocabulary import Relief, TreatmentKind
from painlink.rules.drug_entry import parse_drug
from painlink.rules.drug_names import ALSO_PREVENTIVE
from painlink.rules.medications import DRUGS, NAMES
from painlink.services.diary import EntryError, _row, _validate, local_now, patient_zone
from painlink.store import tables as t

#: ask "did it help?" once this long has passed since an intake ...
RELIEF_AFTER = dt.timedelta(hours=2)
#: ... and stop asking after this long: a day later the answer is a guess
RELIEF_UNTIL = dt.timedelta(hours=24)


def drug_choices(preventive: bool) -> list[str]:
    """Names offered by the type-ahead: every generic and brand of the acute drugs (and
    antiemetics), or of the preventives; sorted, without duplicates."""
    return sorted(
        {
            name
            for name, drug in NAMES.items()
            if drug.preventive is preventive or (preventive and drug.name in ALSO_PREVENTIVE)
        }
    )


def generic_names(preventive: bool) -> list[str]:
    return sorted(d.name for d in DRUGS if d.preventive is preventive)


def intakes(conn: sa.Connection, patient_id: str, attack_id: str) -> list[dict[str, Any]]:
    """The medication taken for one attack, in the order taken."""
    m = t.medications.c
    rows = conn.execute(
        sa.select(t.medications)
        .where(m.patient_id == patient_id, m.attack_id == attack_id)
        .order_by(m.taken_at, m.id)
    ).mappings()
    return [dict(r) for r in rows]


def relief_due(conn: sa.Connection, patient_id: str) -> list[dict[str, Any]]:
    """Intakes taken 2-24 hours ago whose relief at two hours is not yet known."""
    now = local_now(conn, patient_id)
    m = t.medications.c
    rows = conn.execute(
        sa.select(t.medications)
        .where(
            m.patient_id == patient_id,
            m.relief_2h.is_(None),
            m.taken_at <= now - RELIEF_AFTER,
            m.taken_at >= now - RELIEF_UNTIL,
            m.drug_class != "preventive",
        )
        .order_by(m.taken_at)
    ).mappings()
    return [dict(r) for r in rows]


def record_relief(
    conn: sa.Connection, patient_id: str, medication_id: int, relief: str
) -> str | None:
    """The answer to "did it help?" for one of the patient's own intakes; the attack it
    was taken for (None: none). LookupError when the diary holds no such intake."""
    m = t.medications.c
    where = (m.patient_id == patient_id) & (m.id == medication_id)
    found = conn.execute(sa.select(m.attack_id).where(where)).first()
    if found is None:
        raise LookupError("no such intake")
    try:
        value = Relief(relief)
    except ValueError:
        raise EntryError({"relief_2h": "choose: not at all, a little, or gone"}) from None
    conn.execute(t.medications.update().where(where).values(relief_2h=value.value))
    return found.attack_id


def preventives(conn: sa.Connection, patient_id: str) -> list[dict[str, Any]]:
    """Preventive drug treatments, current ones first, then the most recent."""
    c = t.treatments.c
    rows = conn.execute(
        sa.select(t.treatments)
        .where(c.patient_id == patient_id, c.kind == TreatmentKind.preventive_drug.value)
        .order_by(c.end.is_not(None), c.start.desc(), c.id.desc())
    ).mappings()
    return [dict(r) for r in rows]


def start_preventive(
    conn: sa.Connection, patient_id: str, text: str, start: str | dt.date | None
) -> None:
    """A preventive begun on ``start`` (today when empty), typed as on the box: stored
    under its generic name with the strength, e.g. "topiramate 50 mg"."""
    entry = parse_drug(text or "")
    if entry.drug is not None and entry.drug.acute and entry.drug.name not in ALSO_PREVENTIVE:
        raise EntryError(
            {"drug": f"{entry.drug.name} is taken for an attack: add it on the attack's page"}
        )
    name = entry.drug.name if entry.drug else entry.name
    if name and entry.dose_mg is not None:
        name = f"{name} {entry.dose_mg:g} mg"
    if not name:
        raise EntryError({"drug": "type the name of the preventive"})
    model = _validate(
        TreatmentIn,
        {
            "patient_id": patient_id,
            "name": name,
            "kind": TreatmentKind.preventive_drug.value,
            "start": start or local_now(conn, patient_id).date(),
        },
        patient_zone(conn, patient_id),
    )
    c = t.treatments.c
    already = conn.execute(
        sa.select(c.start).where(
            c.patient_id == patient_id,
            c.kind == TreatmentKind.preventive_drug.value,
            c.name == name,
            c.end.is_(None),
        )
    ).first()
    if already is not None:  # one period per preventive: a second would double its days
        raise EntryError({"drug": f"{name} is already listed, since {already.start:%d %b %Y}"})
    conn.execute(t.treatments.insert().values(**_row(model, t.treatments)))


def stop_preventive(conn: sa.Connection, patient_id: str, treatment_id: int) -> None:
    """The preventive was stopped today (an open period gets its end)."""
    c = t.treatments.c
    where = (
        (c.patient_id == patient_id)
        & (c.id == treatment_id)
        & (c.kind == TreatmentKind.preventive_drug.value)
    )
    row = conn.execute(sa.select(c.start, c.end).where(where)).first()
    if row is None:
        raise LookupError("no such treatment")
    if row.end is None:
        today = local_now(conn, patient_id).date()
        conn.execute(t.treatments.update().where(where).values(end=max(today, row.start)))
