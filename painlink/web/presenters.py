"""What the pages show, computed from the diary: the month grid, insights, the
clinician's list and summary and records of a patient, and a form's stored values.

View models only: each function reads (``painlink.services.reading``) and shapes
data for one template; none writes. The analyses behind insights come from the
cached report in ``painlink.services.analyses``.
"""

from __future__ import annotations

import calendar as cal
import datetime as dt
import math
import re
import threading
from collections import OrderedDict
from typing import Any

import polars as pl
import sqlalchemy as sa

from painlink.analysis import plotting
from painlink.analysis.results import signed
from painlink.analysis.spine_link import MIN_ATTACKS as SPINE_MIN_ATTACKS
from painlink.analysis.spine_link import evidence as spine_evidence
from painlink.clinical.classify import Classification, classify
from painlink.clinical.month_grid import day_marks, diary_rows
from painlink.clinical.month_grid import month_grid as grid_of_rows
from painlink.diary.frames import DiaryFrames
from painlink.rules import plausibility
from painlink.rules.forecast_display import diary_is_current
from painlink.rules.spine import CALLS as SPINE_CALLS
from painlink.rules.spine import EXPLANATIONS as SPINE_EXPLANATIONS
from painlink.rules.triggers import CALLS as TRIGGER_CALLS
from painlink.rules.triggers import EXPLANATIONS as TRIGGER_EXPLANATIONS
from painlink.services.analyses import analysis_report
from painlink.services.reading import Source, read
from painlink.store.diary_io import (
    read_window_rows,
)
from painlink.web import charts
from painlink.web.forms import FACTOR_PREFIX, checkin_values


def day_values(day: dict[str, Any]) -> dict[str, str]:
    """A stored check-in as the check-in form's values (cups, drinks; blanks empty)."""
    return checkin_values(day)


def factor_values(saved: dict[str, float]) -> dict[str, str]:
    """Form values of the patient's own factors: yes/no as "1"/"0", numbers as typed."""
    return {f"{FACTOR_PREFIX}{name}": f"{value:g}" for name, value in saved.items()}


_GRIDS: OrderedDict[
    tuple[str, int, int, dt.date, dt.datetime | None, int], list[list[dict[str, Any]]]
] = OrderedDict()
_GRIDS_LOCK = threading.Lock()
GRID_CACHE_SIZE = 512


def month_grid(
    store: Source, patient_id: str, year: int, month: int, as_of: dt.datetime | None = None
) -> list[list[dict[str, Any]]]:
    """Weeks of days with their headache class, medication and treatment, for the heatmap,
    and each day's marks (``ongoing``, ``stoplight``: :func:`day_marks`).

    The calendar is the most requested analysis (every visit to the page), and most
    visits see a diary unchanged since the last: on a connection the stored rows are
    fetched as tuples and hashed (a few milliseconds), and the month is classified
    again only when they, or today's date, changed. Keyed on the rows themselves, the
    cache is right whichever process or worker wrote them. ``as_of`` (the patient's
    now) counts an attack still in progress; it is in the key only while one is open."""
    first = dt.date(year, month, 1) - dt.timedelta(days=7)
    last = dt.date(year, month, cal.monthrange(year, month)[1])
    if not isinstance(store, sa.Connection):
        rows = diary_rows(read(store, patient_id))
        return _marked(_month_grid(rows, year, month, as_of), day_marks(rows, first, last, as_of))
    seen = read_window_rows(store, patient_id, first, last)
    marks = day_marks(seen, first, last, as_of)
    now = as_of if any(m.get("ongoing") for m in marks.values()) else None
    key = (patient_id, year, month, dt.date.today(), now, hash(tuple(map(tuple, seen.values()))))
    with _GRIDS_LOCK:
        if key in _GRIDS:
            _GRIDS.move_to_end(key)
            return _GRIDS[key]
    # built from the month's rows as the database returned them: no data frames at all
    # the marks found above: without an attack in progress, as_of marks nothing more
    weeks = _marked(_month_grid(seen, year, month, now), marks)
    with _GRIDS_LOCK:
        _GRIDS[key] = weeks
        while len(_GRIDS) > GRID_CACHE_SIZE:
            _GRIDS.popitem(last=False)
    return weeks


def _marked(
    weeks: list[list[dict[str, Any]]], marks: dict[dt.date, dict[str, Any]]
) -> list[list[dict[str, Any]]]:
    return [
        [{"ongoing": False, "stoplight": None, **d, **marks.get(d["date"], {})} for d in week]
        for week in weeks
    ]


def _month_grid(
    rows: dict[str, list[tuple[Any, ...]]],
    year: int,
    month: int,
    as_of: dt.datetime | None = None,
) -> list[list[dict[str, Any]]]:
    """The grid from the month's rows (:mod:`painlink.clinical.month_grid`, well under a
    millisecond where classify_days took ~20 ms); one name for the tests to count."""
    return grid_of_rows(rows, year, month, as_of)


def _clean(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


def spine_findings(table: pl.DataFrame) -> list[dict[str, Any]]:
    """One person's neck/back rows with the estimate and interval behind each verdict in
    words (``spine_link.evidence``) and whether it is a call."""
    return [
        {
            **{k: _clean(v) for k, v in r.items()},
            "evidence": spine_evidence(r),
            "call": r["verdict"] in SPINE_CALLS,
        }
        for r in table.iter_rows(named=True)
    ]


def spine_for_clinician(store: Source, patient_id: str) -> dict[str, Any]:
    """The neck/back verdicts as the clinician's tab shows them: each region's verdict,
    the sentence behind it, and every test's estimate, interval and q (the family's
    rule in docs/analysis.md), with the possible explanations beside any call."""
    diary = read(store, patient_id)
    if diary.attacks.height < 1:
        return {"enough": False}
    report = analysis_report(diary, patient_id, _patient_today(diary))
    rows = spine_findings(report.spine.to_frame(patient_id))
    return {
        "enough": True,
        "rows": [r for r in rows if r["verdict"] != "not recorded"],
        "explanations": list(SPINE_EXPLANATIONS.values()) if any(r["call"] for r in rows) else [],
    }


def insights(store: Source, patient_id: str, today: dt.date | None = None) -> dict[str, Any]:
    """The insights page; ``today`` (default: the date in the patient's zone) chooses the
    cached report, since an ongoing attack counts up to today, and decides whether the
    diary is current enough for tomorrow's forecast."""
    return insights_of(read(store, patient_id), patient_id, today)


def insights_of(
    diary: DiaryFrames,
    patient_id: str,
    today: dt.date | None = None,
    result: Classification | None = None,
) -> dict[str, Any]:
    """:func:`insights` on a diary already read (and classified, when ``result`` is
    given): the clinician's summary reads and classifies once for both."""
    if diary.attacks.height < 1:
        return {"enough": False}
    today = today or _patient_today(diary)
    result = result or classify(diary)
    report = analysis_report(diary, patient_id, today)
    trig = report.triggers.to_frame(patient_id)
    spine = spine_findings(report.spine.to_frame(patient_id))
    last_day = last_diary_day(diary)
    return {
        "enough": True,
        "period_note": report.period_note(patient_id),
        "screen": result.screen,
        "diagnoses": [d for d in result.diagnoses if d.status in ("met", "probable") or d.refer],
        "day_definition": result.day_definition,
        "day_definition_source": _definition_source(result.day_definition),
        "months": result.months[-3:],
        "triggers": [{k: _clean(v) for k, v in r.items()} for r in trig.iter_rows(named=True)],
        "plot": trig.filter(pl.col("odds_ratio").is_not_null()).height > 0,
        # a call is an association: what else it can be is said beside it (issue 13)
        "trigger_explanations": list(TRIGGER_EXPLANATIONS.values())
        if trig.filter(pl.col("verdict").is_in(list(TRIGGER_CALLS))).height
        else [],
        "spine": spine,
        # a picture of shares needs attacks to share out: below the analysis' own
        # minimum (spine_link.MIN_ATTACKS) one attack would draw as "100%"
        "spine_plot": any((s.get("attacks_compared") or 0) >= SPINE_MIN_ATTACKS for s in spine),
        "spine_min_attacks": SPINE_MIN_ATTACKS,
        "spine_recorded": any(s["verdict"] != "not recorded" for s in spine),
        "spine_explanations": list(SPINE_EXPLANATIONS.values())
        if any(s["call"] for s in spine)
        else [],
        "outcomes": outcome_rows(report.outcomes.table),
        "forecast": report.forecast.per_patient.row(0, named=True)
        if report.forecast.per_patient.height
        else None,
        "diary_current": diary_is_current(last_day, today),
        "last_day": last_day,
    }


def _patient_today(diary: DiaryFrames) -> dt.date:
    zone = diary.patients["time_zone"][0] if diary.patients.height else None
    try:
        return plausibility.today(zone or None)
    except (KeyError, ValueError):  # a zone this machine does not know: UTC
        return plausibility.today()


def _definition_source(name: str) -> str:
    """The published source of a migraine-day definition, for the clinician's fold."""
    from painlink.rules.day_definitions import DEFINITIONS

    found = DEFINITIONS.get(name)
    return found.source if found else name.replace("_", " ")


def last_diary_day(diary: DiaryFrames) -> dt.date | None:
    """The last day anything was recorded: a check-in, an own factor's value or an attack."""
    days: list[dt.date] = []
    for frame, column in (
        (diary.days, "date"),
        (diary.factor_values, "date"),
        (diary.attacks, "start"),
    ):
        if frame.height and column in frame.columns:
            last = frame[column].max()
            if isinstance(last, dt.datetime):
                days.append(last.date())
            elif isinstance(last, dt.date):
                days.append(last)
    return max(days, default=None)


#: a note in the rules' wording meant for their maintainers, not for people:
#: "[unverified]", "[unverified, statistics.md §7]"
_UNVERIFIED = re.compile(r"\s*\[unverified[^\]]*\]")


def untagged(text: str) -> tuple[str, bool]:
    """``text`` without the rules' internal "[unverified]" tag, and whether it had one."""
    clean = _UNVERIFIED.sub("", text)
    return clean, clean != text


def outcome_rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Outcome rows for a page: the rules' "[unverified]" mark leaves the words and
    becomes a flag, which the page explains in plain words in a clinician's fold; a row
    that names no treatment says nothing a reader can place, so it is left out."""
    out = []
    for r in frame.iter_rows(named=True):
        if not str(r.get("treatment") or "").strip():
            continue
        row = {k: _clean(v) for k, v in r.items()}
        for k, v in list(row.items()):
            if isinstance(v, str):
                row[k], tagged = untagged(v)
                if tagged:
                    row["unverified"] = True
        if row.get("rate_ratio") is not None:
            row["plain"] = rate_plain(row)
        elif row.get("change") is not None:
            row["plain"] = attack_change_plain(row)
            row["effect"] = attack_change_effect(row)
        out.append(row)
    return out


def attack_change_effect(r: dict[str, Any]) -> str:
    """An attack-duration or -intensity row's estimate and interval for a clinician,
    written as the rate rows beside it are (a ratio's interval "low–high"; a signed
    difference's "low to high", since a dash between negatives reads as a minus)."""
    duration = r["endpoint"] == "attack_duration"
    scale = r.get("change_scale") or (
        "ratio of geometric mean duration" if duration else "difference in mean intensity (0–3)"
    )
    if duration:
        return f"{scale} {r['change']:.2f} (95% CI {r['change_low']:.2f}–{r['change_high']:.2f})"
    return (
        f"{scale} {signed(r['change'])} "
        f"(95% CI {signed(r['change_low'])} to {signed(r['change_high'])})"
    )


def _as_long(ratio: float) -> str:
    """A duration ratio in words: "0.62 times as long" reads as longer to many people,
    so a shorter one is a percentage shorter; up to twice as long a percentage longer,
    beyond it "n times as long"."""
    return _ratio_words(ratio, "shorter", "longer", "times as long")


def _as_many(ratio: float) -> str:
    """A rate ratio in words, as a duration's are: "0.4 times the rate" reads as more
    to many people, and its interval's "1.0" hid a bound of 0.98 beside the verdict
    "fewer"; a percentage fewer or more does neither."""
    return _ratio_words(ratio, "fewer", "more", "times as many")


def _ratio_words(ratio: float, less: str, more: str, times: str) -> str:
    if not math.isfinite(ratio):
        return "no upper limit"
    percent = round(100 * abs(ratio - 1))
    if percent == 0:
        return "about the same"
    if ratio < 1:
        return f"{percent}% {less}"
    return f"{percent}% {more}" if ratio < 1.995 else f"{ratio:.1f} {times}"


def rate_plain(r: dict[str, Any]) -> str:
    """A rate row (attacks, migraine, headache or acute-medication days) in a patient's
    words, worded like the attack rows beside it (the verdict follows it on the page)."""
    return (
        f"{r['before_per_28d']:.1f} → {r['during_per_28d']:.1f} per 28 days: "
        f"{_as_many(r['rate_ratio'])} (somewhere between {_as_many(r['ci_low'])} and "
        f"{_as_many(r['ci_high'])})"
    )


def _points(change: float) -> str:
    """A change on the 0–3 scale in words, without a sign to misread (or a "-0.0")."""
    size = round(abs(change), 1)
    if size == 0:
        return "about the same"
    return f"{size:.1f} {'higher' if change > 0 else 'lower'}"


def attack_change_plain(r: dict[str, Any]) -> str:
    """An attack-duration or -intensity row in a patient's words: what changed, by how
    much, and the range the data leave open (the verdict follows it on the page)."""
    low, high = r["change_low"], r["change_high"]
    if r["endpoint"] == "attack_duration":
        return (
            f"Attacks lasted typically {r['before_value']:.1f} hours before and "
            f"{r['during_value']:.1f} hours during: {_as_long(r['change'])} "
            f"(somewhere between {_as_long(low)} and {_as_long(high)})"
        )
    return (
        f"Attack strength on the 0–3 scale averaged {r['before_value']:.1f} before and "
        f"{r['during_value']:.1f} during: {_points(r['change'])} "
        f"(somewhere between {_points(low)} and {_points(high)})"
    )


def _report_of(store: Source, patient_id: str, today: dt.date | None) -> Any:
    diary = read(store, patient_id)
    return analysis_report(diary, patient_id, today or _patient_today(diary))


def _drawn(report: Any, patient_id: str, kind: str, layout: str) -> Any:
    """The picture in the dark style; the caller holds :data:`plotting.DRAWING` (the
    style is pyplot's global rcParams: two pictures drawn at once took each other's
    colours, a black title on the dark panel)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with plt.style.context("dark_background"):
        return charts.for_page(getattr(report, kind).plot(patient_id), patient_id, layout)


def plot_figure(
    store: Source, patient_id: str, kind: str, today: dt.date | None = None, layout: str = "phone"
) -> Any:
    """One of the insights' pictures, drawn dark to sit on the low-light page (from
    the same cached report as :func:`insights`) and laid out for a phone or, with
    ``layout="wide"``, a desktop's panel (:mod:`painlink.web.charts`): the caller
    closes it."""
    report = _report_of(store, patient_id, today)
    with plotting.DRAWING:
        return _drawn(report, patient_id, kind, layout)


def plot_png(
    store: Source,
    patient_id: str,
    kind: str,
    today: dt.date | None = None,
    layout: str = "phone",
    density: int = 1,
) -> bytes:
    """:func:`plot_figure` as a PNG on the panels' colour, ``density`` device pixels
    to the CSS px."""
    report = _report_of(store, patient_id, today)
    with plotting.DRAWING:
        return charts.png(_drawn(report, patient_id, kind, layout), PLOT_BACKGROUND, density)


PLOT_BACKGROUND = "#181c22"  # the panels' colour in style.css


def patient_list(store: Source, ids: list[str]) -> list[dict[str, Any]]:
    """Consented patients with their flags: red flags, medication overuse, chronic migraine."""
    out = []
    for pid in ids:
        diary = read(store, pid)
        row: dict[str, Any] = {
            "patient_id": pid,
            "name": diary.patients["display_name"][0] if diary.patients.height else pid,
            "flags": [],
            "attacks": diary.attacks.height,
        }
        if diary.attacks.height:
            result = classify(diary)
            if result.screen.flags:
                row["flags"].append(f"red flag: {result.screen.urgency}")
            labels = set(result.labels)
            if "1.3" in labels:
                row["flags"].append("chronic migraine")
            if any(code.startswith("8.2") for code in labels):
                row["flags"].append("medication overuse")
            row["diagnoses"] = ", ".join(sorted(labels - {"11.2.1"}))
        out.append(row)
    return out


def clinical_summary(store: Source, patient_id: str) -> dict[str, Any]:
    diary = read(store, patient_id)
    patient = diary.patients.row(0, named=True) if diary.patients.height else {}
    if not diary.attacks.height:
        return {"patient": patient, "enough": False}
    result = classify(diary)
    return {
        "patient": patient,
        "enough": True,
        "result": result,
        **insights_of(diary, patient_id, result=result),
    }


def exam_overview(store: Source, patient_id: str) -> dict[str, Any]:
    """The clinician's records of a patient: exams, findings, screens, scores, outcomes."""
    from painlink.analysis.outcome_results import outcomes
    from painlink.clinical.cervical import frt_by_visit

    diary = read(store, patient_id)
    return {
        "frt": frt_by_visit(diary.exam_measurements),
        "findings": diary.clinical_findings.to_dicts(),
        "screens": screens(diary),
        "questionnaires": questionnaire_history(diary),
        "outcomes": outcome_rows(outcomes(diary).table),
    }


def screens(diary: DiaryFrames) -> list[Any]:
    from painlink.clinical.screening import screens_stored

    return screens_stored(diary.screening_answers)


def questionnaire_history(diary: DiaryFrames) -> list[dict[str, Any]]:
    """Per instrument, its responses oldest first, each with its change from the first."""
    from painlink.clinical.questionnaires import compare_scores, score_stored

    by_instrument: dict[str, list[Any]] = {}
    for stored in score_stored(diary.questionnaire_items):
        by_instrument.setdefault(stored.score.instrument, []).append(stored)
    out = []
    for key, responses in by_instrument.items():
        first = responses[0].score
        rows = [
            {
                "completed_on": r.completed_on,
                "recorded_by": r.recorded_by,
                "score": r.score,
                "change": untagged(compare_scores(first, r.score))[0] if i else "",
                "unverified": bool(i) and untagged(compare_scores(first, r.score))[1],
            }
            for i, r in enumerate(responses)
        ]
        out.append({"instrument": key, "name": first.name, "responses": rows})
    return out
