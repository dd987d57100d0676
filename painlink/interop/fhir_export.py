"""Write a person's diary as a FHIR R4 Bundle: what a clinic's record system can take in.

There is no published FHIR profile for a headache diary, so painlink uses the plainest
resources and standard codes, and validates every resource with fhir.resources:

- ``Patient`` — id, gender, birth year.
- each attack → ``Observation`` (SNOMED CT 25064002 *Headache*, category *survey*),
  ``effectivePeriod`` start–end in the patient's time zone, components: the 0–10
  rating (LOINC 72514-3), the IHS 0–3 intensity (painlink's code system), and
  nausea, vomiting, photophobia, phonophobia (SNOMED CT) as yes/no — a question not
  answered in the diary has no component, never "no";
- each day's check-in → one ``Observation`` per recorded measure (sleep duration
  LOINC 93832-4; neck and low back pain LOINC 72514-3 with the body site; stress,
  caffeine, alcohol, meals, exercise and menstrual flow with painlink's codes), on
  the diary's day; each neck/back pain episode → a 0–10 pain ``Observation`` with its
  region and side;
- each intake → ``MedicationStatement`` (status *completed*, the drug by name and ATC
  code when painlink knows it), linked to its attack, relief at 2 h as a note;
- each stored questionnaire → ``QuestionnaireResponse`` with the item linkIds and
  scored values only (the instruments' wording is licensed). painlink's own FHIR
  reader scores them back to the same totals (tested).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from fhir.resources.R4B.bundle import Bundle

from painlink.diary.frames import DiaryFrames
from painlink.rules.medications import lookup
from painlink.rules.questionnaires import INSTRUMENTS

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ATC = "http://www.whocc.no/atc"
PAINLINK = "urn:painlink:diary"  # painlink's own codes, where no standard one exists
SYMPTOMS = {
    "nausea": ("422587007", "Nausea"),
    "vomiting": ("422400008", "Vomiting"),
    "photophobia": ("409668002", "Photophobia"),
    "phonophobia": ("313387002", "Phonophobia"),
}
GENDER = {"female": "female", "male": "male", "other": "other", "unknown": "unknown"}
PAIN_NRS = {"system": LOINC, "code": "72514-3", "display": "Pain severity 0-10 NRS"}
#: a check-in's measures: column → (code, unit or None for a plain value)
DAILY: dict[str, tuple[dict[str, str], str | None]] = {
    "sleep_hours": ({"system": LOINC, "code": "93832-4", "display": "Sleep duration"}, "h"),
    "stress": ({"system": PAINLINK, "code": "stress-0-10"}, None),
    "skipped_meals": ({"system": PAINLINK, "code": "skipped-meals"}, None),
    "caffeine_mg": ({"system": PAINLINK, "code": "caffeine"}, "mg"),
    "alcohol_units": ({"system": PAINLINK, "code": "alcohol-units"}, None),
    "exercise_min": ({"system": PAINLINK, "code": "exercise"}, "min"),
    "menstruation": ({"system": PAINLINK, "code": "menstrual-flow"}, None),
    "neck_pain": (PAIN_NRS, None),
    "low_back_pain": (PAIN_NRS, None),
}
BODY_SITE = {"neck_pain": "neck", "low_back_pain": "low back"}


_SURVEY = {
    "coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey"}
    ]
}


def _fhir_id(*parts: object) -> str:
    """A FHIR id ([A-Za-z0-9-.], at most 64): painlink's ids may hold underscores."""
    return re.sub(r"[^A-Za-z0-9.\-]", "-", "-".join(str(p) for p in parts))[-64:]


def _observation(
    id_: str, code: dict[str, str], subject: dict[str, str], status: str = "final", **fields: Any
) -> dict[str, Any]:
    """An Observation as every one in the Bundle has it: a survey answer about the person."""
    return {
        "resourceType": "Observation",
        "id": id_,
        "status": status,
        "category": [_SURVEY],
        "code": {"coding": [code]},
        "subject": subject,
        **fields,
    }


def _instant(value: dt.datetime, zone: ZoneInfo) -> str:
    """FHIR wants an offset on a dateTime with a time: the diary's wall clock, placed."""
    return value.replace(tzinfo=zone).isoformat()


def _questionnaire_url(key: str) -> str:
    rules = INSTRUMENTS[key]
    return f"{LOINC}/q/{rules.loinc}" if rules.loinc else f"urn:painlink:questionnaire:{key}"


def diary_bundle(
    diary: DiaryFrames, patient_id: str, corrected: Collection[tuple[str, str]] = ()
) -> dict[str, Any]:
    """One person's diary as a validated FHIR R4 ``collection`` Bundle (a plain dict).

    ``corrected`` names entries the patient edited after entering them, as
    ``("attack", attack_id)`` or ``("day", "YYYY-MM-DD")``: their Observations carry
    FHIR's own status for it, ``corrected`` ("subsequent to being final, modified to
    correct an error"), instead of ``final``."""
    fixed = set(corrected)
    person = diary.patients.filter(diary.patients["patient_id"] == patient_id)
    if person.is_empty():
        raise ValueError(f"no patient {patient_id!r} in this diary")
    p = person.row(0, named=True)
    zone = ZoneInfo(p["time_zone"] or "UTC")
    subject = {"reference": f"Patient/{_fhir_id(patient_id)}"}
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": _fhir_id(patient_id),
        "gender": GENDER.get(p["sex"] or "unknown", "unknown"),
    }
    if p["birth_year"]:
        patient["birthDate"] = str(p["birth_year"])
    resources: list[dict[str, Any]] = [patient]

    def mine(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(pl.col("patient_id") == patient_id)

    attacks = mine(diary.attacks).sort("start")
    for a in attacks.iter_rows(named=True):
        period = {"start": _instant(a["start"], zone)}
        if a["end"] is not None:
            period["end"] = _instant(a["end"], zone)
        components = []
        if a["intensity_nrs"] is not None:
            components.append(
                {
                    "code": {"coding": [PAIN_NRS]},
                    "valueInteger": round(a["intensity_nrs"]),
                }
            )
        if a["intensity"] is not None:
            components.append(
                {
                    "code": {"coding": [{"system": PAINLINK, "code": "intensity-ihs-0-3"}]},
                    "valueInteger": int(a["intensity"]),
                }
            )
        for field, (code, display) in SYMPTOMS.items():
            if a[field] is not None:
                components.append(
                    {
                        "code": {"coding": [{"system": SNOMED, "code": code, "display": display}]},
                        "valueBoolean": bool(a[field]),
                    }
                )
        observation = _observation(
            _fhir_id(patient_id, "attack", a["attack_id"]),
            {"system": SNOMED, "code": "25064002", "display": "Headache"},
            subject,
            ("corrected" if ("attack", a["attack_id"]) in fixed else "final")
            if a["end"] is not None
            else "preliminary",
            effectivePeriod=period,
        )
        if components:
            observation["component"] = components
        if a["notes"]:
            observation["note"] = [{"text": a["notes"]}]
        resources.append(observation)
    for d in mine(diary.days).sort("date").iter_rows(named=True):
        for column, (coding, unit) in DAILY.items():
            value = d.get(column)
            if value is None:
                continue
            measure = _observation(
                _fhir_id(patient_id, column.replace("_", "-"), d["date"]),
                coding,
                subject,
                "corrected" if ("day", str(d["date"])) in fixed else "final",
                effectiveDateTime=str(d["date"]),  # the diary's day, not a moment
            )
            if isinstance(value, str):
                measure["valueString"] = value
            elif unit:
                measure["valueQuantity"] = {"value": float(value), "unit": unit}
            else:
                measure["valueInteger" if float(value).is_integer() else "valueDecimal"] = (
                    int(value) if float(value).is_integer() else float(value)
                )
            if column in BODY_SITE:
                measure["bodySite"] = {"text": BODY_SITE[column]}
            resources.append(measure)
    for i, sp in enumerate(mine(diary.spine_pain).sort("start").iter_rows(named=True), 1):
        episode = _observation(
            _fhir_id(patient_id, "spine-pain", i),
            PAIN_NRS,
            subject,
            bodySite={
                "text": sp["region"].replace("_", " ") + (f", {sp['side']}" if sp["side"] else "")
            },
            valueInteger=round(sp["nrs"]),
        )
        if sp["end"] is not None:
            episode["effectivePeriod"] = {
                "start": _instant(sp["start"], zone),
                "end": _instant(sp["end"], zone),
            }
        else:
            episode["effectiveDateTime"] = _instant(sp["start"], zone)
        resources.append(episode)
    for i, m in enumerate(mine(diary.medications).sort("taken_at").iter_rows(named=True), 1):
        drug = lookup(m["drug"])
        concept: dict[str, Any] = {"text": m["drug"]}
        if drug and drug.atc:
            concept["coding"] = [{"system": ATC, "code": drug.atc, "display": drug.name}]
        statement: dict[str, Any] = {
            "resourceType": "MedicationStatement",
            "id": _fhir_id(patient_id, "medication", i),
            "status": "completed",
            "medicationCodeableConcept": concept,
            "subject": subject,
            "effectiveDateTime": _instant(m["taken_at"], zone),
        }
        if m["attack_id"]:
            statement["reasonReference"] = [
                {"reference": f"Observation/{_fhir_id(patient_id, 'attack', m['attack_id'])}"}
            ]
        if m["relief_2h"]:
            statement["note"] = [{"text": f"relief at 2 hours: {m['relief_2h']}"}]
        if m["dose"] is not None:
            statement["dosage"] = [
                {"doseAndRate": [{"doseQuantity": {"value": m["dose"], "unit": m["dose_unit"]}}]}
            ]
        resources.append(statement)
    items = mine(diary.questionnaire_items)
    keys = ["instrument", "completed_on"]
    for (key, completed_on), group in items.sort([*keys, "item"]).group_by(
        keys, maintain_order=True
    ):
        order = {link: n for n, link in enumerate(INSTRUMENTS[str(key)].items)}
        answered = sorted(
            zip(group["item"], group["value"], strict=True), key=lambda x: order[x[0]]
        )
        resources.append(
            {
                "resourceType": "QuestionnaireResponse",
                "id": _fhir_id(patient_id, key, completed_on),
                "questionnaire": _questionnaire_url(str(key)),
                "status": "completed",
                "subject": subject,
                "authored": str(completed_on),
                "item": [
                    {"linkId": link, "answer": [{"valueDecimal": float(value)}]}
                    for link, value in answered
                ],
            }
        )
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "entry": [
            {"fullUrl": f"urn:painlink:{r['resourceType']}/{r['id']}", "resource": r}
            for r in resources
        ],
    }
    Bundle.model_validate(bundle)  # every resource in it is validated too
    return bundle
