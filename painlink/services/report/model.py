"""The report's first page as data: every number taken from the analyses the app shows.

Nothing here computes a statistic of its own: the classification
(:func:`painlink.clinical.classify.classify`) gives diagnoses, red flags and the
monthly day counts; the cached analysis report
(:func:`painlink.services.analyses.analysis_report`) gives triggers, the neck/back link
and treatment outcomes; the questionnaires are scored by
:mod:`painlink.clinical.questionnaires`. This module only chooses, orders and words
them for one printed page, so the page and the app can never disagree.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any

from painlink.analysis.outcome_results import attack_change_words
from painlink.analysis.report import AnalysisReport
from painlink.analysis.spine_link import evidence as spine_evidence
from painlink.clinical.classify import Classification
from painlink.diary.frames import DiaryFrames
from painlink.rules import report as rules
from painlink.rules.day_definitions import DEFINITIONS
from painlink.rules.ichd3 import Ichd3Rules
from painlink.rules.questionnaires import INSTRUMENTS
from painlink.rules.triggers import CALLS as TRIGGER_CALLS

#: the instruments page 1 always lists (with "not recorded" when absent)
PAGE_ONE_INSTRUMENTS = ("midas", "hit6", "ndi", "odi")
#: trigger and spine verdicts that are not a call: left off the page
NOT_A_CALL = frozenset({"no association", "not enough data", "no link found", ""})
#: how many triggers and protectors page 1 names
TOP_FACTORS = 3
_UNVERIFIED = re.compile(r"\s*\[unverified\]")


def clean(text: Any) -> str:
    """Words for a page: no internal "[unverified]" tags, underscores as spaces."""
    return _UNVERIFIED.sub("", str(text or "")).strip()


def _num(value: Any) -> float | None:
    """A finite float, or None (analyses give NaN where a number is undefined)."""
    if value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def per_28(count: float, days: float) -> float:
    """``count`` over ``days`` as a rate per 28 days (the IHS "month")."""
    return count * rules.RATE_DAYS / days if days else 0.0


@dataclass
class MonthRow:
    """One 30-day block of the classification (newest last), as rates per 28 days."""

    start: dt.date
    end: dt.date
    days: int
    logged_days: int
    migraine: float
    headache: float
    acute: float
    migraine_days: int
    headache_days: int
    acute_days: int

    @property
    def completeness(self) -> float:
        return self.logged_days / self.days if self.days else 0.0


@dataclass
class Overuse:
    """One acute class's intake days per month against its ICHD-3 8.2 limit."""

    label: str
    code: str
    latest: int  # days in the newest 30-day block
    mean_3: float  # mean over the newest three blocks
    limit: int
    status: str  # the 8.2 diagnosis status from the classification
    unmet: str = ""  # the 8.2 criteria letters not met ("A", "B"), when not met

    @property
    def over(self) -> bool:
        return self.latest >= self.limit

    @property
    def near(self) -> bool:
        return not self.over and self.latest >= rules.NEAR_LIMIT_SHARE * self.limit


@dataclass
class FirstPage:
    """Everything page 1 shows, in the order it shows it."""

    patient_id: str
    name: str
    born: str
    start: dt.date
    end: dt.date
    generated: dt.date
    days_in_period: int
    days_recorded: int
    day_definition: str
    day_definition_words: str
    red_flags: list[dict[str, Any]]
    red_flag_advice: str
    diagnoses: list[dict[str, Any]]
    months: list[MonthRow]
    baseline: dict[str, Any] | None
    overuse: list[Overuse]
    questionnaires: list[dict[str, Any]]
    treatments: list[dict[str, Any]]
    triggers: list[dict[str, Any]]
    spine: list[str]
    topics: list[str]  # filled by painlink.services.report.topics
    message: str | None = None
    chart_svg: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def completeness(self) -> float:
        return self.days_recorded / self.days_in_period if self.days_in_period else 0.0


def days_recorded(diary: DiaryFrames, start: dt.date, end: dt.date) -> int:
    """Days in ``start``..``end`` with any entry: a check-in, an own factor, an attack
    under way, a medication or a neck/back entry (what "recorded" means to a reader)."""
    found: set[dt.date] = set()
    for frame, column in (
        (diary.days, "date"),
        (diary.factor_values, "date"),
        (diary.medications, "taken_at"),
        (diary.spine_pain, "start"),
    ):
        if frame.height:
            col = frame[column]
            found.update(v.date() if isinstance(v, dt.datetime) else v for v in col.to_list() if v)
    for a_start, a_end in diary.attacks.select("start", "end").iter_rows():
        last = (a_end or a_start).date()
        d = a_start.date()
        while d <= last and (d - a_start.date()).days < 31:
            found.add(d)
            d += dt.timedelta(days=1)
    return sum(1 for d in found if start <= d <= end)


def _months(result: Classification) -> list[MonthRow]:
    out = []
    for m in sorted(result.months, key=lambda m: m["month_start"]):
        days = int(m["days"])
        out.append(
            MonthRow(
                start=m["month_start"],
                end=m["month_end"],
                days=days,
                logged_days=int(m["logged_days"]),
                migraine=per_28(m["migraine_days"], days),
                headache=per_28(m["headache_days"], days),
                acute=per_28(m["acute_med_days"], days),
                migraine_days=int(m["migraine_days"]),
                headache_days=int(m["headache_days"]),
                acute_days=int(m["acute_med_days"]),
            )
        )
    return out


def _whole_period(diary: DiaryFrames, result: Classification) -> list[MonthRow]:
    """A diary shorter than one 30-day block has no month in the classification: its
    days counted together (the same day classification), as one row."""
    from painlink.clinical.day_counts import classify_days

    days = classify_days(diary, result.day_definition)
    if not days.height:
        return []
    n = days.height
    migraine = int(days["migraine_day"].sum())
    headache = int(days["headache_day_def"].sum())
    acute = int(days["acute_med_day"].sum())
    return [
        MonthRow(
            start=days["date"].min(),  # type: ignore[arg-type]
            end=days["date"].max(),  # type: ignore[arg-type]
            days=n,
            logged_days=int(days["logged"].sum()),
            migraine=per_28(migraine, n),
            headache=per_28(headache, n),
            acute=per_28(acute, n),
            migraine_days=migraine,
            headache_days=headache,
            acute_days=acute,
        )
    ]


def _baseline(months: list[MonthRow], treatments: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The rates every month is set against: before the first treatment with a
    before/after comparison (the outcome analysis' own baseline), else the first month."""
    with_rates = [t for t in treatments if t.get("before_migraine") is not None]
    if with_rates:
        t = with_rates[0]
        return {
            "label": f"before {t['treatment']} (from {t['start']})",
            "migraine": t["before_migraine"],
            "headache": t.get("before_headache"),
            "acute": t.get("before_acute"),
        }
    if len(months) < 2:  # one block against itself says nothing
        return None
    first = months[0]
    return {
        "label": f"first 30 days of the period ({first.start})",
        "migraine": first.migraine,
        "headache": first.headache,
        "acute": first.acute,
    }


def _overuse(result: Classification, r: Ichd3Rules) -> list[Overuse]:
    """Each acute class the person took in the last three blocks, and all classes
    together, against ICHD-3 8.2's limits (from the classification's month counts)."""
    recent = sorted(
        (m for m in result.months if m["month"] <= r.moh_months), key=lambda m: m["month"]
    )
    if not recent:
        return []
    status = {d.code: d.status for d in result.diagnoses}
    unmet = {
        d.code: "".join(c.letter for c in d.criteria if c.status == "not met")
        for d in result.diagnoses
    }
    from painlink.rules.ichd3 import MOH_CODES

    out = []
    for cls, limit in r.moh_days.items():
        values = [int(m.get(f"med_{cls}_days") or 0) for m in recent]
        if not any(values):
            continue
        code, _name = MOH_CODES[cls]
        out.append(
            Overuse(
                cls.replace("_", " "),
                code,
                values[0],
                sum(values) / len(values),
                limit,
                status.get(code, "not met"),
                unmet.get(code, ""),
            )
        )
    totals = [int(m.get("acute_any_days") or 0) for m in recent]
    if len(out) > 1:
        out.append(
            Overuse(
                "any acute class together",
                "8.2.6",
                totals[0],
                sum(totals) / len(totals),
                r.moh_multiple_days,
                status.get("8.2.6", "not met"),
                unmet.get("8.2.6", ""),
            )
        )
    return out


def _diagnoses(result: Classification) -> list[dict[str, Any]]:
    """Met, probable and referral diagnoses, each with the criteria that decided it."""
    out = []
    for d in result.diagnoses:
        if d.status not in ("met", "probable") and not d.refer:
            continue
        decisive = [
            f"{c.letter}: {clean(c.evidence)}"
            for c in d.criteria
            if c.status in ("met", "not met") and c.evidence
        ]
        out.append({"code": d.code, "name": d.name, "status": d.status, "criteria": decisive[:3]})
    return out


def _questionnaires(diary: DiaryFrames) -> list[dict[str, Any]]:
    """MIDAS, HIT-6, NDI and ODI: the latest score, the first one, and whether the change
    reaches the instrument's important change (its rules' own comparison)."""
    from painlink.clinical.questionnaires import compare_scores, score_stored

    by: dict[str, list[Any]] = {}
    for stored in score_stored(diary.questionnaire_items, skip_invalid=True):
        if stored.score.computable:
            by.setdefault(stored.score.instrument, []).append(stored)
    out = []
    for key in PAGE_ONE_INSTRUMENTS:
        inst = INSTRUMENTS[key]
        short = re.search(r"\(([^)]+)\)", inst.name)
        row: dict[str, Any] = {
            "key": key,
            "name": short.group(1).split()[0] if short else key.upper(),
            "important_change": inst.important_change,
            "unit": inst.unit,
            "responses": len(by.get(key, [])),
            "change": "",
            **dict.fromkeys(("now", "now_on", "band", "before", "before_on")),
        }
        got = by.get(key, [])
        if got:
            now, before = got[-1], got[0]
            row.update(
                now=now.score.score,
                now_on=now.completed_on,
                band=clean(now.score.band),
                before=before.score.score if len(got) > 1 else None,
                before_on=before.completed_on if len(got) > 1 else None,
                change=clean(compare_scores(before.score, now.score)) if len(got) > 1 else "",
            )
        out.append(row)
    return out


def _treatments(report: AnalysisReport, patient_id: str) -> list[dict[str, Any]]:
    """Each treatment's before/after comparison of migraine days (rate ratio with its
    interval, ≥50 % responder, the regression-to-the-mean warning), with the headache-
    and acute-medication-day rates beside it."""
    table = report.outcomes.to_frame(patient_id)
    if not table.height or "rate_ratio" not in table.columns:
        return []
    # one row per course: a treatment stopped and begun again under the same name has a
    # comparison per start (merged by name, the letter once gave one course's date over
    # the other's rates)
    out: dict[tuple[str, Any], dict[str, Any]] = {}
    for r in table.iter_rows(named=True):
        name = clean(r.get("treatment")) or "treatment"
        row = out.setdefault(
            (name, r.get("start")),
            {
                "treatment": name,
                "kind": clean(r.get("kind")),
                "start": r.get("start"),
                **dict.fromkeys(TREATMENT_NUMBERS),
                "responder_50": False,
                "rtm_warning": False,
                "verdict": "",
                "note": "",
            },
        )
        endpoint = r.get("endpoint")
        if endpoint == "migraine_days" and _num(r.get("rate_ratio")) is not None:
            row.update(
                before_migraine=_num(r.get("before_per_28d")),
                during_migraine=_num(r.get("during_per_28d")),
                rate_ratio=_num(r.get("rate_ratio")),
                ci_low=_num(r.get("ci_low")),
                ci_high=_num(r.get("ci_high")),
                responder_50=bool(r.get("responder_50")),
                rtm_warning=bool(r.get("regression_to_mean_warning")),
                verdict=clean(r.get("verdict")),
                note=clean(r.get("note")),
                baseline_days=r.get("baseline_days"),
                treatment_days=r.get("treatment_days"),
            )
        elif endpoint == "headache_days":
            row["before_headache"] = _num(r.get("before_per_28d"))
            row["during_headache"] = _num(r.get("during_per_28d"))
        elif endpoint == "acute_medication_days":
            row["before_acute"] = _num(r.get("before_per_28d"))
            row["during_acute"] = _num(r.get("during_per_28d"))
        elif endpoint == "migraine_days":
            row["verdict"] = row["verdict"] or clean(r.get("verdict"))
            row["note"] = row["note"] or clean(r.get("note"))
        elif endpoint in ("attack_duration", "attack_intensity") and r.get("change") is not None:
            words = f"{attack_change_words(r)}: {clean(r.get('verdict'))}"
            row.setdefault("attack_changes", []).append(words[0].upper() + words[1:])
    return [t for t in out.values() if t.get("verdict") or t.get("rate_ratio") is not None]


#: a treatment row's numbers (None until the outcome analysis gives them)
TREATMENT_NUMBERS = (
    "before_migraine",
    "during_migraine",
    "before_headache",
    "during_headache",
    "before_acute",
    "during_acute",
    "rate_ratio",
    "ci_low",
    "ci_high",
    "baseline_days",
    "treatment_days",
)


def _factor_label(row: dict[str, Any]) -> str:
    name = row.get("factor") or row.get("variable") or row.get("about") or "?"
    words = str(name).replace("_", " ")
    lag = row.get("lag")
    if lag:
        words += f" ({lag} day{'s' if lag != 1 else ''} before)"
    return words


def _triggers(report: AnalysisReport, patient_id: str) -> list[dict[str, Any]]:
    """The data-supported triggers and protectors: only rows whose verdict is a call,
    the strongest first (columns read defensively: the analysis is still growing)."""
    frame = report.triggers.to_frame(patient_id)
    if not frame.height or "verdict" not in frame.columns:
        return []
    # only the calls: "explained by other records", "not recorded" and the rest are not
    rows = [r for r in frame.iter_rows(named=True) if clean(r.get("verdict")) in TRIGGER_CALLS]

    def strength(r: dict[str, Any]) -> float:
        value = _num(r.get("odds_ratio"))
        return abs(math.log(value)) if value and value > 0 else 0.0

    rows.sort(key=strength, reverse=True)
    up = [r for r in rows if (_num(r.get("odds_ratio")) or 1) >= 1][:TOP_FACTORS]
    down = [r for r in rows if (_num(r.get("odds_ratio")) or 1) < 1][:TOP_FACTORS]
    return [
        {
            "label": _factor_label(r),
            "verdict": clean(r.get("verdict")),
            "odds_ratio": _num(r.get("odds_ratio")),
            "ci_low": _num(r.get("ci_low")),
            "ci_high": _num(r.get("ci_high")),
        }
        for r in [*up, *down]
    ]


def _spine(report: AnalysisReport, patient_id: str) -> list[str]:
    """The neck/back link in plain words, for regions where the analysis made a call,
    with the estimate and interval behind it (``spine_link.evidence``, as in the app)."""
    frame = report.spine.to_frame(patient_id)
    out: list[str] = []
    if not frame.height or "verdict" not in frame.columns:
        return out
    for r in frame.iter_rows(named=True):
        verdict = clean(r.get("verdict"))
        region = str(r.get("region") or "neck/back").replace("_", " ").capitalize()
        if verdict in NOT_A_CALL:
            continue
        said = spine_evidence(r)
        behind = f": {said}" if said else ""
        if verdict == "candidate cause":
            out.append(
                f"{region} pain often came the day before an attack{behind}. "
                "A possible contributor worth examining."
            )
        elif verdict == "symptom of the attack":
            out.append(
                f"{region} pain rose with attacks rather than before them{behind}. "
                "More likely part of the attack than its cause."
            )
        else:
            out.append(f"{region} pain: {verdict}{behind}.")
    return out


def first_page(
    diary: DiaryFrames,
    patient_id: str,
    result: Classification,
    report: AnalysisReport,
    start: dt.date,
    end: dt.date,
    generated: dt.date,
) -> FirstPage:
    """Page 1's data for one patient's diary (already limited to ``start``..``end``)."""
    patient = diary.patients.row(0, named=True) if diary.patients.height else {}
    treatments = _treatments(report, patient_id)
    months = _months(result) or _whole_period(diary, result)
    definition = result.day_definition
    page = FirstPage(
        patient_id=patient_id,
        name=clean(patient.get("display_name")) or patient_id,
        born=str(patient.get("birth_year") or ""),
        start=start,
        end=end,
        generated=generated,
        days_in_period=(end - start).days + 1,
        days_recorded=days_recorded(diary, start, end),
        day_definition=DEFINITIONS[definition].source if definition in DEFINITIONS else definition,
        day_definition_words=rules.DAY_DEFINITION_WORDS.get(definition, definition),
        red_flags=[
            {
                "name": clean(f.name),
                "urgency": f.urgency,
                "may_point_to": ", ".join(f.may_point_to),
                "source": f.source,
            }
            for f in result.screen.flags
        ],
        red_flag_advice=clean(result.screen.advice),
        diagnoses=_diagnoses(result),
        months=months,
        baseline=_baseline(months, treatments),
        overuse=_overuse(result, Ichd3Rules()),
        questionnaires=_questionnaires(diary),
        treatments=treatments,
        triggers=_triggers(report, patient_id),
        spine=_spine(report, patient_id),
        topics=[],
        message=report.messages.get(patient_id),
    )
    return page
