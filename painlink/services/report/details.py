"""The report's detail pages and the treatment-response letter, as data.

Month calendars, the attack table and the medication table come straight from the
diary's rows (the calendar marks each day with the worst attack on it, bleeding and
acute medication); the questionnaire history is scored by
:mod:`painlink.clinical.questionnaires`; the letter reads the outcome analysis' own
baseline and treatment rates and checks them against
:data:`painlink.rules.report.RESPONSE_RULES`.
"""

from __future__ import annotations

import calendar as cal
import datetime as dt
from typing import Any

import polars as pl

from painlink.diary.frames import DiaryFrames
from painlink.rules import report as rules
from painlink.services.report.model import FirstPage, clean

#: the detail pages show at most this many months of calendars and this many attacks
#: (the newest): a year of diary on a few pages, never a book
MAX_CALENDAR_MONTHS = 12
MAX_ATTACKS = 60
INTENSITY_WORDS = {0: "none", 1: "mild", 2: "moderate", 3: "severe"}
#: menstrual flows that mark a bleeding day on the calendar
BLEEDING = frozenset({"spotting", "light", "medium", "heavy", "unspecified"})
#: a day without an attack, bleeding or medication
BLANK: dict[str, Any] = {"intensity": None, "bleeding": False, "med": False}
ACUTE_CLASSES = frozenset(
    {
        "triptan",
        "ergotamine",
        "non_opioid_analgesic",
        "opioid",
        "combination_analgesic",
        "gepant",
        "ditan",
        "other",
    }
)


def _day_marks(diary: DiaryFrames) -> dict[dt.date, dict[str, Any]]:
    """Per day: the worst attack intensity (0–3) on it, bleeding, acute medication."""
    marks: dict[dt.date, dict[str, Any]] = {}

    def mark(d: dt.date) -> dict[str, Any]:
        return marks.setdefault(d, {"intensity": None, "bleeding": False, "med": False})

    for start, end, intensity in diary.attacks.select("start", "end", "intensity").iter_rows():
        last = (end or start).date()
        d = start.date()
        while d <= last and (d - start.date()).days < 31:
            m = mark(d)
            level = intensity if intensity is not None else 1
            m["intensity"] = max(m["intensity"] or 0, level)
            d += dt.timedelta(days=1)
    if "menstruation" in diary.days.columns:
        for d, flow in diary.days.select("date", "menstruation").iter_rows():
            if flow in BLEEDING:
                mark(d)["bleeding"] = True
    for taken, cls in diary.medications.select("taken_at", "drug_class").iter_rows():
        if cls in ACUTE_CLASSES:
            mark(taken.date())["med"] = True
    return marks


def calendars(diary: DiaryFrames, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """The period's months (the newest :data:`MAX_CALENDAR_MONTHS`), each as weeks of
    days with their marks; days outside the period are blank."""
    marks = _day_marks(diary)
    months: list[tuple[int, int]] = []
    y, m = end.year, end.month
    while (y, m) >= (start.year, start.month) and len(months) < MAX_CALENDAR_MONTHS:
        months.append((y, m))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    out = []
    for y, m in reversed(months):
        weeks = []
        for week in cal.Calendar(firstweekday=0).monthdatescalendar(y, m):
            row = []
            for d in week:
                inside = d.month == m and start <= d <= end
                row.append(
                    {"day": d.day if d.month == m else "", "in": inside, **marks.get(d, BLANK)}
                )
            weeks.append(row)
        out.append({"title": f"{cal.month_name[m]} {y}", "weeks": weeks})
    return out


def _hours(start: dt.datetime, end: dt.datetime | None) -> str:
    if end is None:
        return "ongoing"
    hours = (end - start).total_seconds() / 3600
    return f"{hours:.0f} h" if hours >= 1 else f"{hours * 60:.0f} min"


def attack_rows(diary: DiaryFrames) -> list[dict[str, Any]]:
    """The newest :data:`MAX_ATTACKS` attacks, oldest first: start, duration, peak,
    features, aura, and each drug with its relief at 2 hours."""
    a = diary.attacks.sort("start", descending=True).head(MAX_ATTACKS).sort("start")
    drugs: dict[str, list[str]] = {}
    for attack_id, drug, relief in diary.medications.select(
        "attack_id", "drug", "relief_2h"
    ).iter_rows():
        if attack_id:
            drugs.setdefault(attack_id, []).append(
                f"{clean(drug)} ({relief})" if relief else clean(drug)
            )
    features = (
        ("nausea", "nausea"),
        ("vomiting", "vomiting"),
        ("photophobia", "light"),
        ("phonophobia", "sound"),
        ("aggravated_by_activity", "activity"),
        ("neck_pain", "neck"),
    )
    out = []
    for r in a.iter_rows(named=True):
        peak = r.get("intensity")
        nrs = r.get("intensity_nrs")
        out.append(
            {
                "start": r["start"].strftime("%Y-%m-%d %H:%M"),
                "duration": _hours(r["start"], r.get("end")),
                "peak": INTENSITY_WORDS.get(peak, "") if peak is not None else "",
                "nrs": f"{nrs:g}/10" if nrs is not None else "",
                "side": clean(r.get("side")),
                "features": ", ".join(w for k, w in features if r.get(k)),
                "aura": "yes" if r.get("aura") else "",
                "drugs": "; ".join(drugs.get(r["attack_id"], [])),
            }
        )
    return out


def medication_rows(diary: DiaryFrames, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Per class and drug: intake days, doses, days per 28, and relief at 2 hours."""
    meds = diary.medications
    if not meds.height:
        return []
    days = (end - start).days + 1
    grouped = (
        meds.with_columns(
            pl.col("taken_at").dt.date().alias("day"),
            pl.col("drug_class").fill_null("other"),
        )
        .group_by("drug_class", "drug")
        .agg(
            pl.col("day").n_unique().alias("days"),
            pl.len().alias("doses"),
            (pl.col("relief_2h") == "complete").sum().alias("complete"),
            (pl.col("relief_2h") == "partial").sum().alias("partial"),
            (pl.col("relief_2h") == "none").sum().alias("none"),
        )
        .sort("drug_class", "days", descending=[False, True])
    )
    return [
        {
            "class": str(r["drug_class"]).replace("_", " "),
            "drug": clean(r["drug"]),
            "days": r["days"],
            "doses": r["doses"],
            "per_28": r["days"] * rules.RATE_DAYS / days,
            "relief": f"{r['complete']} complete, {r['partial']} partial, {r['none']} none",
        }
        for r in grouped.iter_rows(named=True)
    ]


def questionnaire_history(diary: DiaryFrames) -> list[dict[str, Any]]:
    """Every scored questionnaire, oldest first, with its change from the first."""
    from painlink.clinical.questionnaires import compare_scores, score_stored

    by: dict[str, list[Any]] = {}
    for stored in score_stored(diary.questionnaire_items, skip_invalid=True):
        by.setdefault(stored.score.instrument, []).append(stored)
    out = []
    for responses in by.values():
        first = responses[0].score
        out.append(
            {
                "name": first.name,
                "rows": [
                    {
                        "on": r.completed_on,
                        "score": f"{r.score.score:g} {r.score.unit}"
                        if r.score.computable
                        else "not scored",
                        "band": clean(r.score.band or r.score.message),
                        "change": clean(compare_scores(first, r.score)) if i else "",
                    }
                    for i, r in enumerate(responses)
                ],
            }
        )
    return out


def letter(page: FirstPage, treatment: str | None = None) -> dict[str, Any] | None:
    """The treatment-response letter's data: one treatment's baseline and treatment
    rates of migraine days per 28 days (the outcome analysis' own), the reduction, and
    the rule it is checked against (≥30 % in chronic migraine, else ≥50 %)."""
    candidates = [
        t
        for t in page.treatments
        if t.get("before_migraine") is not None and t.get("during_migraine") is not None
    ]
    if treatment:
        candidates = [t for t in candidates if t["treatment"].lower() == treatment.lower()]
    if not candidates:
        return None
    t = candidates[-1]
    chronic = any(d["code"] == "1.3" for d in page.diagnoses)
    rule = rules.response_rule(chronic)
    before, during = t["before_migraine"], t["during_migraine"]
    reduction = (before - during) / before if before else 0.0
    short_baseline = (t.get("baseline_days") or 0) < rules.MIN_BASELINE_DAYS
    short_treatment = (t.get("treatment_days") or 0) < rules.MIN_TREATMENT_DAYS
    return {
        "treatment": t,
        "rule": rule,
        "chronic": chronic,
        "reduction": reduction,
        "met": reduction >= rule.reduction and not short_baseline,
        "short_baseline": short_baseline,
        "short_treatment": short_treatment,
        "min_baseline_days": rules.MIN_BASELINE_DAYS,
        "min_treatment_days": rules.MIN_TREATMENT_DAYS,
        "placebo": rules.PLACEBO_RESPONDERS,
        "placebo_source": rules.PLACEBO_SOURCE,
        "other_rules": list(rules.RESPONSE_RULES.values()),
    }
