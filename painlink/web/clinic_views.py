"""View models of the clinician's patient page, one per tab.

The page leads with the summary and keeps everything else in tabs a URL names
(``?tab=attacks``), so a reload or a shared link opens the same tab and a phone is not
handed one endless column. Each tab reads only what it shows; the summary slot takes
the report's first page once that exists.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from painlink.clinical.screening import ScreenResult
from painlink.diary.frames import DiaryFrames
from painlink.diary.vocabulary import INTENSITY_LABELS
from painlink.rules.ichd3 import Ichd3Rules
from painlink.rules.medications import ACUTE_CLASSES, DrugClass
from painlink.rules.red_flag_checks import Urgency
from painlink.rules.red_flags import CLINICIAN_ADVICE, RED_FLAGS

#: (key, label) of the tabs in the order the page shows them; the first is the default
TABS: tuple[tuple[str, str], ...] = (
    ("summary", "Summary"),
    ("attacks", "Attacks"),
    ("medications", "Medications"),
    ("notes", "Check-ins and notes"),
    ("neck-back", "Neck and back"),
    ("screens", "Screens"),
    ("exams", "Exams"),
    ("questionnaires", "Questionnaires"),
    ("outcomes", "Outcomes"),
)
TAB_KEYS = frozenset(key for key, _ in TABS)
PAGE_SIZE = 20  # rows of a paged table: a phone screen or two

#: the attack's yes/no features, in the order a headache history asks them
_FEATURES = (
    ("nausea", "nausea"),
    ("vomiting", "vomiting"),
    ("photophobia", "photophobia"),
    ("phonophobia", "phonophobia"),
    ("aggravated_by_activity", "worse with activity"),
    ("cranial_autonomic", "cranial autonomic signs"),
    ("restlessness", "restlessness"),
    ("neck_pain", "neck pain"),
)


def patient_name(conn: Any, patient_id: str) -> str:
    """The name the page is headed with: the diary's display name, else its id."""
    import sqlalchemy as sa

    from painlink.store.tables import patients

    name = conn.execute(
        sa.select(patients.c.display_name).where(patients.c.patient_id == patient_id)
    ).scalar()
    return str(name or patient_id)


def tab_of(value: str | None) -> str:
    """The tab a URL asks for; anything else is the summary (never an error: a stale
    bookmark still opens the patient)."""
    return value if value in TAB_KEYS else "summary"


def page_of(value: str | None) -> int:
    """A table page number from the URL: digits only, at least 1, at most 10,000."""
    if value is None or not value.isdigit() or len(value) > 5:
        return 1
    return max(1, min(int(value), 10_000))


def _paged(frame: pl.DataFrame, page: int) -> tuple[pl.DataFrame, dict[str, int]]:
    pages = max(1, -(-frame.height // PAGE_SIZE))
    page = min(page, pages)
    return frame.slice((page - 1) * PAGE_SIZE, PAGE_SIZE), {
        "page": page,
        "pages": pages,
        "total": frame.height,
    }


def recent_months(months: list[dict[str, Any]], count: int = 3) -> list[dict[str, Any]]:
    """The newest ``count`` months, newest first. ``classify`` numbers its months from
    the newest (month 1) — so the *last* rows of that list are the oldest months."""
    return sorted(months, key=lambda m: m["month_start"], reverse=True)[:count]


def duration_text(start: dt.datetime | None, end: dt.datetime | None) -> str:
    if start is None or end is None:
        return "no end recorded"
    minutes = int((end - start).total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h" if not rest else f"{hours} h {rest} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def _peak(row: dict[str, Any], readings: pl.DataFrame) -> str:
    """The worst pain of an attack: its own rating or any reading during it."""
    levels = [row.get("intensity"), *readings["intensity"].to_list()]
    scores = [row.get("intensity_nrs"), *readings["intensity_nrs"].to_list()]
    level = max((int(v) for v in levels if v is not None), default=None)
    nrs = max((float(v) for v in scores if v is not None), default=None)
    words = INTENSITY_LABELS[level] if level is not None and 0 <= level < 4 else ""
    if nrs is not None:
        words = f"{words} (NRS {nrs:g})".strip()
    return words or "not rated"


def attack_rows(diary: DiaryFrames, page: int) -> dict[str, Any]:
    """The attack table, newest first: start, duration, peak, features, aura, drugs and
    their relief at two hours."""
    attacks = diary.attacks.sort("start", descending=True, nulls_last=True)
    shown, paging = _paged(attacks, page)
    rows = []
    for a in shown.iter_rows(named=True):
        aid = a["attack_id"]
        readings = diary.intensity_readings.filter(pl.col("attack_id") == aid)
        features = [text for key, text in _FEATURES if a.get(key)]
        features += [
            str(a[key]).replace("_", " ").replace(";", ", ")
            for key in ("side", "location", "quality")
            if a.get(key)
        ]
        if a.get("aura") is None:
            aura = "not recorded"
        elif a["aura"]:
            kinds = diary.aura_symptoms.filter(pl.col("attack_id") == aid)["type"].to_list()
            aura = "yes" + (f": {', '.join(str(k) for k in kinds)}" if kinds else "")
        else:
            aura = "no"
        drugs = [
            f"{m['drug']}"
            + (f" {m['dose']:g} {m['dose_unit'] or ''}".rstrip() if m["dose"] is not None else "")
            + (f" (relief at 2 h: {m['relief_2h']})" if m["relief_2h"] else "")
            for m in diary.medications.filter(pl.col("attack_id") == aid)
            .sort("taken_at")
            .iter_rows(named=True)
        ]
        rows.append(
            {
                "start": a["start"].strftime("%Y-%m-%d %H:%M") if a["start"] else "",
                "duration": duration_text(a["start"], a["end"]),
                "peak": _peak(a, readings),
                "features": ", ".join(features) or "none recorded",
                "aura": aura,
                "drugs": "; ".join(drugs) or "none",
                "notes": a.get("notes") or "",
            }
        )
    return {"rows": rows, **paging}


def medication_months(months: list[dict[str, Any]], diary: DiaryFrames) -> dict[str, Any]:
    """Intake days per drug class per month, newest month first, each class beside its
    ICHD-3 8.2 overuse limit; and which drugs the diary names in each class."""
    limits = Ichd3Rules().moh_days
    present = [
        c.value
        for c in DrugClass
        if any(m.get(f"med_{c.value}_days") for m in months)
        or c.value in set(diary.medications["drug_class"].drop_nulls().to_list())
    ]
    drugs: dict[str, list[str]] = {}
    for m in diary.medications.select("drug_class", "drug").unique().iter_rows(named=True):
        drugs.setdefault(m["drug_class"] or "other", []).append(m["drug"])
    classes = [
        {
            "key": c,
            "label": c.replace("_", " "),
            "acute": DrugClass(c) in ACUTE_CLASSES,
            "limit": limits.get(c),
            "drugs": ", ".join(sorted(drugs.get(c, []))),
        }
        for c in present
    ]
    rows = [
        {
            "month_start": m["month_start"],
            "days": m["days"],
            "acute": m["acute_med_days"],
            "per_class": [m.get(f"med_{c['key']}_days") or 0 for c in classes],
        }
        for m in sorted(months, key=lambda m: m["month_start"], reverse=True)
    ]
    return {"classes": classes, "rows": rows}


#: (column, short header) of the check-in table: short, so a phone shows a day per row
_CHECKIN = (
    ("sleep_hours", "Sleep h"),
    ("stress", "Stress"),
    ("neck_pain", "Neck"),
    ("low_back_pain", "Low back"),
    ("menstruation", "Period"),
    ("stoplight", "Light"),
)


def checkin_rows(diary: DiaryFrames, page: int) -> dict[str, Any]:
    """Daily check-ins newest first, and the notes written on attacks."""
    days = diary.days.sort("date", descending=True)
    shown, paging = _paged(days, page)
    # a column the diary never fills (no periods logged, no stoplight) is left out
    kept = [(k, label) for k, label in _CHECKIN if days[k].drop_nulls().len()]
    rows = [
        {"date": d["date"], "values": [_plain(d.get(key)) for key, _ in kept]}
        for d in shown.iter_rows(named=True)
    ]
    notes = [
        {"start": a["start"].strftime("%Y-%m-%d %H:%M"), "notes": a["notes"]}
        for a in diary.attacks.filter(pl.col("notes").is_not_null() & (pl.col("notes") != ""))
        .sort("start", descending=True)
        .head(50)
        .iter_rows(named=True)
    ]
    return {"columns": [label for _, label in kept], "rows": rows, "notes": notes, **paging}


def _plain(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).replace("_", " ")


def spine_rows(diary: DiaryFrames, page: int) -> dict[str, Any]:
    """Neck and back pain episodes newest first (region, side, how long, how bad)."""
    episodes = diary.spine_pain.sort("start", descending=True)
    shown, paging = _paged(episodes, page)
    rows = [
        {
            "start": s["start"].strftime("%Y-%m-%d %H:%M") if s["start"] else "",
            "duration": duration_text(s["start"], s["end"]),
            "region": _plain(s["region"]),
            "side": _plain(s["side"]),
            "nrs": _plain(s["nrs"]),
        }
        for s in shown.iter_rows(named=True)
    ]
    rated = diary.days.filter(
        (pl.col("neck_pain").fill_null(0) > 0) | (pl.col("low_back_pain").fill_null(0) > 0)
    )
    return {"rows": rows, "rated_days": rated.height, "days": diary.days.height, **paging}


def intake_values(answers: dict[str, Any]) -> dict[str, str]:
    """The patient's history answers as the intake form's values ("yes"/"no", numbers)."""
    out: dict[str, str] = {}
    for key, value in answers.items():
        if isinstance(value, bool):
            out[key] = "yes" if value else "no"
        elif value is not None:
            out[key] = f"{value:g}" if isinstance(value, float) else str(value)
    return out


_NAMES = {rule.code: rule.name for rule in RED_FLAGS}


def clinician_result(result: ScreenResult, asked: int) -> dict[str, Any]:
    """A screen's result in clinical terms: the triage level, each red flag with its
    differential and the criterion it rests on, and what the answers could not assess."""
    return {
        "level": result.urgency,
        "advice": CLINICIAN_ADVICE[Urgency[result.urgency]],
        "flags": [
            {
                "name": f.name,
                "level": f.urgency,
                "differential": ", ".join(f.may_point_to),
                "criterion": f.source,
            }
            for f in result.flags
        ],
        "not_assessed": [_NAMES.get(code, code) for code in result.not_asked],
        "asked": asked,
        "rules_version": result.rules_version,
    }


def _answer_labels() -> dict[str, str]:
    from painlink.web.forms import INTAKE_NUMBERS, INTAKE_QUESTIONS

    return dict(INTAKE_QUESTIONS) | dict(INTAKE_NUMBERS)


def screen_rows(stored: list[Any]) -> list[dict[str, Any]]:
    """Screens on record, newest first, each with its answers in clinical terms."""
    labels = _answer_labels()
    return [
        {
            "at": s.at,
            "context": s.context,
            "attack_id": s.attack_id,
            "by": s.answered_by or "",
            "result": clinician_result(s.result, len(s.answers)),
            "answers": [
                (
                    labels.get(k, k.replace("_", " ")),
                    _plain(v)
                    if not isinstance(v, int | float) or isinstance(v, bool)
                    else f"{v:g}",
                )
                for k, v in s.answers.items()
            ],
        }
        for s in stored
    ]


def _first_page(conn: Any, patient_id: str) -> str:
    from painlink.services import report

    made = report.for_patient(conn, patient_id, sections=("summary",))
    return report.first_page_html(made, inline_css=False)  # CSP: no inline <style>


def tab_view(conn: Any, patient_id: str, tab: str, page: int) -> dict[str, Any]:
    """What one tab shows, read for that tab only (the summary's classification is
    not recomputed to show the attack list)."""
    from painlink.analysis.outcome_results import outcomes
    from painlink.clinical.cervical import frt_by_visit
    from painlink.clinical.classify import classify
    from painlink.services import accounts, clinical_records, corrections
    from painlink.services.reading import read
    from painlink.web import presenters

    if tab == "summary":
        summary = presenters.clinical_summary(conn, patient_id)
        months = summary["result"].months if summary["enough"] else []
        return {
            "summary": summary,
            "window": summary["result"].window if summary["enough"] else None,
            "logged": (sum(m["logged_days"] for m in months), sum(m["days"] for m in months)),
            "last_months": recent_months(months),
            "corrections": corrections.corrections(conn, patient_id, 50),
            "time_zone": accounts.time_zone_of(conn, patient_id),
            # the report's page 1 (docs/report.md): what a neurologist reads first
            "first_page": _first_page(conn, patient_id) if summary["enough"] else None,
        }
    diary = read(conn, patient_id)
    if tab == "attacks":
        return {"attacks": attack_rows(diary, page)}
    if tab == "medications":
        months = classify(diary).months if diary.attacks.height or diary.days.height else []
        return {"medications": medication_months(months, diary)}
    if tab == "notes":
        return {"checkins": checkin_rows(diary, page)}
    if tab == "neck-back":
        return {
            "spine": spine_rows(diary, page),
            "findings": presenters.spine_for_clinician(conn, patient_id),
        }
    if tab == "screens":
        prefill, answered_at = clinical_records.intake_from_history(conn, patient_id)
        return {
            "screens": screen_rows(presenters.screens(diary)),
            "prefill": intake_values(prefill),
            "prefilled_at": answered_at,
        }
    if tab == "exams":
        return {
            "frt": frt_by_visit(diary.exam_measurements),
            "findings": diary.clinical_findings.to_dicts(),
        }
    if tab == "questionnaires":
        return {"questionnaires": presenters.questionnaire_history(diary)}
    return {"outcomes": presenters.outcome_rows(outcomes(diary).table)}
