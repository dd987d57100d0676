"""Red-flag screens and questionnaire answers, kept as the record they are.

A screen is stored as the answers it was given (a question not asked has no row) and
re-checked when read, so the record shows what was asked and today's rules say what
it means. Questionnaires keep item values, not totals, for the same reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError

from painlink.clinical.questionnaires import (
    QuestionnaireError,
    Score,
    response_values,
    score_values,
)
from painlink.clinical.screening import ScreenResult, answers_of, screen
from painlink.diary.frames import model_row
from painlink.diary.plain_errors import plain_message
from painlink.diary.schemas import PatientIn, QuestionnaireItemIn, ScreeningAnswerIn
from painlink.diary.vocabulary import ScreeningContext
from painlink.rules import plausibility
from painlink.rules.questionnaires import INSTRUMENTS
from painlink.rules.screening_questions import Presentation
from painlink.services.diary import EntryError, local_now, patient_zone
from painlink.store import tables as t

#: What a patient is asked about their own history (patients-table columns).
#: ``family_history_migraine`` is not a red flag but belongs to the same history.
HISTORY_QUESTIONS: list[tuple[str, str]] = [
    ("pattern_change", "Have your headaches changed recently (new kind, more often, worse)?"),
    ("history_cancer", "Have you ever had cancer?"),
    ("history_immunosuppression", "HIV, or a weakened immune system (e.g. medicines)?"),
    ("pregnant_or_postpartum", "Are you pregnant, or did you give birth in the last 6 weeks?"),
    (
        "anticoagulants",
        "Do you take blood thinners (e.g. warfarin, apixaban, rivaroxaban, or aspirin or "
        "clopidogrel every day)?",
    ),
    (
        "hypertension_before_pregnancy",
        "If pregnant: did you have high blood pressure before this pregnancy?",
    ),
    ("osteoporosis", "Have you been told you have thin bones (osteoporosis)?"),
    ("long_term_steroids", "Have you taken steroid tablets (e.g. prednisolone) for months?"),
    ("family_history_migraine", "Does anyone in your family have migraine?"),
]
#: History answers kept only as screen answers (no patients-table column); the latest
#: history screen's answers join every attack screen like the columns do.
_SCREEN_HISTORY = ("hypertension_before_pregnancy", "osteoporosis", "long_term_steroids")
_PATIENT_HISTORY = (
    "headache_onset_age",
    "history_cancer",
    "history_immunosuppression",
    "pregnant_or_postpartum",
    "anticoagulants",
    "family_history_migraine",
)


def _stamp(conn: sa.Connection, patient_id: str) -> dt.datetime:
    """Local time to the microsecond: two screens in one minute stay two records."""
    return dt.datetime.now(patient_zone(conn, patient_id)).replace(tzinfo=None)


def _presentation(answers: dict[str, Any]) -> dict[str, Any]:
    """Answers the screen understands, with None (not asked) dropped; errors per field."""
    given = {k: v for k, v in answers.items() if v is not None and v != ""}
    try:
        Presentation(**given)
    except ValidationError as exc:
        fields = {}
        for e in exc.errors():
            message = plain_message(e)
            if e["loc"]:
                fields[str(e["loc"][0])] = message
            else:  # a check across fields names its field first: "diastolic_bp: ..."
                name, _, reason = message.partition(": ")
                fields[name if reason else "form"] = reason or message
        raise EntryError(fields) from None
    return given


def history_answers(conn: sa.Connection, patient_id: str) -> dict[str, Any]:
    """The patient's own history as screen answers (unknown items left out)."""
    row = (
        conn.execute(sa.select(t.patients).where(t.patients.c.patient_id == patient_id))
        .mappings()
        .first()
    )
    if row is None:
        return {}
    out = {k: row[k] for k in _PATIENT_HISTORY if row[k] is not None}
    a = t.screening_answers.c
    latest = sa.select(sa.func.max(a.at)).where(
        (a.patient_id == patient_id) & (a.context == ScreeningContext.history.value)
    )
    for question, answer in conn.execute(
        sa.select(a.question, a.answer).where(
            (a.patient_id == patient_id)
            & (a.context == ScreeningContext.history.value)
            & (a.at == latest.scalar_subquery())
            & a.question.in_(_SCREEN_HISTORY)
        )
    ):
        out[question] = bool(answer)
    return out


def intake_from_history(
    conn: sa.Connection, patient_id: str
) -> tuple[dict[str, Any], dt.datetime | None]:
    """The patient's own history answers as a starting point for the clinician's intake:
    every question of their latest history screen (a "pattern change" too, which has no
    patients-table column) with the patients-table history over it; and when that screen
    was answered. The clinician checks them with the patient before saving: the intake
    is the clinician's record, so nothing here is stored on their behalf."""
    a = t.screening_answers.c
    latest = conn.execute(
        sa.select(sa.func.max(a.at)).where(
            (a.patient_id == patient_id) & (a.context == ScreeningContext.history.value)
        )
    ).scalar()
    out: dict[str, Any] = {}
    if latest is not None:
        out = answers_of(
            conn.execute(
                sa.select(a.question, a.answer).where(
                    (a.patient_id == patient_id)
                    & (a.context == ScreeningContext.history.value)
                    & (a.at == latest)
                )
            ).all()
        )
    for key, value in history_answers(conn, patient_id).items():
        out[key] = value
    return out, latest


def save_screen(
    conn: sa.Connection,
    patient_id: str,
    context: ScreeningContext,
    answers: dict[str, Any],
    *,
    attack_id: str | None = None,
    answered_by: str | None = None,
) -> ScreenResult:
    """Store the answers a screen used and return its advice."""
    given = _presentation(answers)
    at = _stamp(conn, patient_id)
    rows = []
    for question, answer in given.items():
        try:
            # validated from plain values: the question's name becomes its vocabulary member
            model = ScreeningAnswerIn.model_validate(
                {
                    "patient_id": patient_id,
                    "at": at,
                    "context": context,
                    "question": question,
                    "answer": float(answer),
                    "attack_id": attack_id,
                    "answered_by": answered_by,
                }
            )
        except ValidationError as exc:  # a number the screen took but the record cannot keep
            raise EntryError({question: plain_message(exc.errors()[0])}) from None
        rows.append(model_row(model))
    if rows:
        conn.execute(t.screening_answers.insert(), rows)
    return screen(given)


def screen_attack(
    conn: sa.Connection, patient_id: str, attack_id: str, answers: dict[str, Any]
) -> ScreenResult:
    """The patient's answers at an attack, checked together with their stored history
    (a new headache means more in someone who has had cancer). The attack must be one
    of this patient's: another diary's attack id is "no such attack"."""
    exists = conn.execute(
        sa.select(t.attacks.c.attack_id).where(
            t.attacks.c.patient_id == patient_id, t.attacks.c.attack_id == attack_id
        )
    ).first()
    if exists is None:
        raise EntryError({"attack_id": "no such attack"})
    history = {
        k: v for k, v in history_answers(conn, patient_id).items() if k in Presentation.model_fields
    }
    return save_screen(
        conn,
        patient_id,
        ScreeningContext.attack,
        {**history, **answers},
        attack_id=attack_id,
        answered_by="patient",
    )


def save_history(conn: sa.Connection, patient_id: str, data: dict[str, Any]) -> ScreenResult:
    """Keep the patient's history on their record and as a screen of its own."""
    row = (
        conn.execute(sa.select(t.patients).where(t.patients.c.patient_id == patient_id))
        .mappings()
        .one()
    )
    history = {k: data.get(k) for k in _PATIENT_HISTORY}
    merged = {**dict(row), **history}
    try:
        PatientIn(**{k: v for k, v in merged.items() if k in PatientIn.model_fields})
    except ValidationError as exc:
        raise EntryError({str(e["loc"][0]): plain_message(e) for e in exc.errors()}) from None
    conn.execute(t.patients.update().where(t.patients.c.patient_id == patient_id).values(**history))
    asked = {k: v for k, v in data.items() if k in Presentation.model_fields}
    return save_screen(conn, patient_id, ScreeningContext.history, asked, answered_by="patient")


def save_questionnaire(
    conn: sa.Connection,
    patient_id: str,
    instrument: str,
    completed_on: dt.date,
    values: dict[str, float | None],
    recorded_by: str | None,
) -> Score:
    """Score first (a bad answer stores nothing), then replace that day's response."""
    if instrument not in INSTRUMENTS:
        raise EntryError({"instrument": "choose an instrument"})
    if completed_on > local_now(conn, patient_id).date():
        raise EntryError({"completed_on": "a questionnaire cannot be completed in the future"})
    if problem := plausibility.date_problem(completed_on, patient_zone(conn, patient_id)):
        raise EntryError({"completed_on": problem})
    try:
        result = score_values(instrument, values)
    except QuestionnaireError as exc:
        raise EntryError({"questionnaire": str(exc)}) from None
    rows = []
    for item, value in values.items():
        if value is None:
            continue
        try:
            model = QuestionnaireItemIn.model_validate(
                {
                    "patient_id": patient_id,
                    "completed_on": completed_on,
                    "instrument": instrument,  # a name, checked above, becomes its member
                    "item": item,
                    "value": value,
                    "recorded_by": recorded_by,
                }
            )
        except ValidationError as exc:
            raise EntryError({item: exc.errors()[0]["msg"]}) from None
        rows.append(model_row(model))
    if not rows:
        raise EntryError({"questionnaire": "no item was answered"})
    q = t.questionnaire_items.c
    conn.execute(
        t.questionnaire_items.delete().where(
            (q.patient_id == patient_id)
            & (q.instrument == instrument)
            & (q.completed_on == completed_on)
        )
    )
    conn.execute(t.questionnaire_items.insert(), rows)
    return result


def save_fhir_response(
    conn: sa.Connection, patient_id: str, resource: dict[str, Any], recorded_by: str | None
) -> Score:
    """Store a FHIR R4 QuestionnaireResponse as its item values. Its ``authored`` time
    becomes the patient's local date (today when it has none)."""
    try:
        read = response_values(resource)
        authored = dt.datetime.fromisoformat(read.authored) if read.authored else None
    except QuestionnaireError as exc:
        raise EntryError({"questionnaire": str(exc)}) from None
    except ValueError:
        raise EntryError({"questionnaire": "authored is not a FHIR dateTime"}) from None
    zone = patient_zone(conn, patient_id)
    try:
        if authored is None:
            completed_on = local_now(conn, patient_id).date()
        elif authored.tzinfo is None:
            completed_on = authored.date()
        else:
            completed_on = authored.astimezone(zone).date()
    except OverflowError:  # year 1 or 9999 moved by its offset
        raise EntryError({"questionnaire": "authored is outside the years a diary holds"}) from None
    if why := plausibility.date_problem(completed_on, zone):
        raise EntryError({"questionnaire": f"authored: {why}"})
    return save_questionnaire(
        conn, patient_id, read.instrument, completed_on, read.values, recorded_by
    )
