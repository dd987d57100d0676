"""What the pages show, computed from the diary: form parsing, the month grid, insights,
the clinician's list and summary, the data export."""

from __future__ import annotations

import calendar as cal
import datetime as dt
import io
import math
import tempfile
import threading
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from painlink.clinical.classify import classify
from painlink.clinical.month_grid import diary_rows
from painlink.clinical.month_grid import month_grid as grid_of_rows
from painlink.diary.frames import DiaryFrames
from painlink.interop.csv_diary import write_diary_folder
from painlink.rules.cervical import CERVICOGENIC_ITEMS
from painlink.rules.plausibility import date_problem_anywhere
from painlink.rules.questionnaires import INSTRUMENTS
from painlink.store.account_tables import audit_log, users
from painlink.store.diary_io import (
    WINDOW_COLUMNS,
    read_diary,
    read_window_rows,
)
from painlink.store.store import Store

#: where a view reads a diary from: the request's own connection (the web app: one
#: connection per request, never a second one from the pool while the first is held),
#: or a Store (commands and tests, which open a connection for the read)
Source = sa.Connection | Store


def read(source: Source, patient_id: str) -> DiaryFrames:
    """One patient's whole diary, on the caller's connection when given one."""
    if isinstance(source, sa.Connection):
        return read_diary(source, [patient_id])
    return source.read([patient_id])


#: The attack-time safety check, in plain words for someone mid-attack: groups of
#: (presentation field, question), each answered yes / no / not sure (unknown).
#: The pregnancy group is left out when the person's history says they are not pregnant.
ATTACK_GROUPS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "This headache",
        [
            ("worst_ever", "Is this the worst headache of your life?"),
            ("after_head_trauma", "Did it start after a blow to the head?"),
            ("recent_neck_manipulation", "Did it start after neck manipulation or a neck injury?"),
            ("vomiting", "Have you been sick (vomited) with it?"),
            ("wakes_from_sleep", "Did it wake you up, or is it worst when you wake?"),
            ("worse_upright", "Is it worse sitting or standing up, and better lying flat?"),
            ("worse_lying_or_straining", "Is it worse lying down, or when you cough or strain?"),
        ],
    ),
    (
        "Fever and infection",
        [
            ("fever", "Do you have a fever, or feel hot and shivery?"),
            ("neck_stiffness", "Is your neck stiff, so your chin will not touch your chest?"),
            ("rash", "Do you have a new rash?"),
            ("confusion", "Are you confused, or do people say you are not making sense?"),
        ],
    ),
    (
        "Weakness, numbness, speech or sight",
        [
            ("neuro_deficit", "Any weakness, numbness, trouble speaking, or loss of sight?"),
            ("motor_weakness", "If yes: is an arm, a leg or one side of your face weak?"),
            ("deficit_still_present", "If yes: is it still there now?"),
        ],
    ),
    (
        "If you are pregnant or gave birth in the last 6 weeks",
        [
            ("visual_disturbance", "Blurred sight, flashing lights or spots before your eyes?"),
            ("ruq_epigastric_pain", "Pain high in your tummy, just below the ribs?"),
        ],
    ),
]
PREGNANCY_GROUP = ATTACK_GROUPS[-1][0]
#: every yes / no question of the attack-time check, flat
SAFETY_QUESTIONS: list[tuple[str, str]] = [q for _, group in ATTACK_GROUPS for q in group]
#: how fast the headache reached its worst → presentation answers (ICHD-3 4.4, NICE CG150)
ONSET_CHOICES: list[tuple[str, str, dict[str, Any]]] = [
    ("minute", "Within a minute", {"thunderclap": True}),
    ("five", "Within 5 minutes", {"thunderclap": False, "onset_to_peak_min": 5.0}),
    ("slower", "More slowly", {"thunderclap": False}),
]
#: optional measured numbers of the attack-time check (field, label)
ATTACK_NUMBERS: list[tuple[str, str]] = [
    ("deficit_minutes", "If it has gone: how many minutes did it last?"),
    ("systolic_bp", "Upper number (mmHg)"),
    ("diastolic_bp", "Lower number (mmHg)"),
]


def screen_form_answers(
    data: dict[str, str], questions: list[tuple[str, str]], numbers: list[tuple[str, str]]
) -> dict[str, Any]:
    """yes → True, no → False, anything else (not sure, nothing chosen) left out: the
    screen reads a missing answer as not asked, never as no. Numbers as typed (a word is
    kept as text so the screen names the field in its error)."""
    answers: dict[str, Any] = {}
    for key, _ in questions:
        choice = data.get(key)
        if choice in ("yes", "no"):
            answers[key] = choice == "yes"
    for key, _ in numbers:
        number = parse_number(data.get(key))
        if number is not None:
            answers[key] = number
    for value, _, given in ONSET_CHOICES:
        if data.get("onset") == value:
            answers.update(given)
    if data.get("thunderclap") in ("yes", "no"):  # the earlier form's yes / no question
        answers["thunderclap"] = data["thunderclap"] == "yes"
    return answers


#: (name, label, kind, options) of the daily check-in, in screen order
CHECKIN_FIELDS: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("sleep_hours", "Sleep last night (hours)", "number", ()),
    ("stress", "Stress today (0–10)", "range", ()),
    ("skipped_meals", "Meals skipped", "number", ()),
    ("caffeine_mg", "Caffeine (mg; a coffee ≈ 80)", "number", ()),
    ("alcohol_units", "Alcohol (units)", "number", ()),
    ("menstruation", "Period", "select", ("", "none", "spotting", "light", "medium", "heavy")),
    ("neck_pain", "Neck pain (0–10)", "range", ()),
    ("low_back_pain", "Low back pain (0–10)", "range", ()),
    ("exercise_min", "Exercise (minutes)", "number", ()),
]

ATTACK_FLAGS = (
    "nausea",
    "vomiting",
    "photophobia",
    "phonophobia",
    "aggravated_by_activity",
    "neck_pain",
)


def parse_date(text: str | None, *, plausible: bool = False) -> dt.date | None:
    """A ``YYYY-MM-DD`` date, or None. With ``plausible``, a date outside
    rules/plausibility.py is None too: for dates that only choose what a page shows
    (year 0001 once overflowed "the day before" into a 500)."""
    try:
        day = dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None
    if plausible and day is not None and date_problem_anywhere(day):
        return None
    return day


def parse_month(text: str | None) -> dt.date | None:
    """The first day of a ``YYYY-MM`` month a calendar may show (1900 to tomorrow's
    month), or None: month 9999-12 once overflowed into a 500."""
    first = parse_date(f"{text}-01") if text else None
    if first is None or date_problem_anywhere(first):
        return None
    return first


def parse_number(value: str | None) -> float | str | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except ValueError:
        return value  # left as text: the schema names the field in its error


def attack_changes(data: dict[str, str]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for key in ("side", "quality"):
        if key in data:
            changes[key] = data[key] or None
    for key in ATTACK_FLAGS:
        if f"has_{key}" in data:  # the form lists which boxes it showed
            changes[key] = key in data
    if data.get("end"):
        changes["end"] = data["end"]
    if data.get("intensity_nrs"):
        changes["intensity_nrs"] = parse_number(data["intensity_nrs"])
    if "notes" in data:
        changes["notes"] = data["notes"] or None
    return changes


def medication_fields(data: dict[str, str]) -> dict[str, Any]:
    return {
        "drug": data.get("drug", ""),
        "class": data.get("drug_class") or None,
        "dose": parse_number(data.get("dose")),
        "dose_unit": data.get("dose_unit") or None,
        "relief_2h": data.get("relief_2h") or None,
    }


def day_values(day: dict[str, Any]) -> dict[str, str]:
    out = {}
    for name, *_ in CHECKIN_FIELDS:
        value = day.get(name)
        out[name] = (
            "" if value is None else (f"{value:g}" if isinstance(value, float) else str(value))
        )
    return out


def day_fields(data: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, _label, kind, _ in CHECKIN_FIELDS:
        value = data.get(name, "")
        out[name] = (value or None) if kind == "select" else parse_number(value)
    return out


FACTOR_PREFIX = "factor__"


def factor_values(saved: dict[str, float]) -> dict[str, str]:
    """Form values of the patient's own factors: yes/no as "1"/"0", numbers as typed."""
    return {f"{FACTOR_PREFIX}{name}": f"{value:g}" for name, value in saved.items()}


def factor_errors(by_name: dict[str, str]) -> dict[str, str]:
    """Errors keyed by factor name, re-keyed to the check-in form's fields."""
    return {f"{FACTOR_PREFIX}{name}": message for name, message in by_name.items()}


def factor_fields(data: dict[str, str]) -> dict[str, Any]:
    """Own-factor answers from the check-in form; an unanswered factor stays unknown."""
    return {
        key.removeprefix(FACTOR_PREFIX): parse_number(value)
        for key, value in data.items()
        if key.startswith(FACTOR_PREFIX)
    }


_GRIDS: OrderedDict[tuple[str, int, int, dt.date, int], list[list[dict[str, Any]]]] = OrderedDict()
_GRIDS_LOCK = threading.Lock()
GRID_CACHE_SIZE = 512


def month_grid(store: Source, patient_id: str, year: int, month: int) -> list[list[dict[str, Any]]]:
    """Weeks of days with their headache class, medication and treatment, for the heatmap.

    The calendar is the most requested analysis (every visit to the page), and most
    visits see a diary unchanged since the last: on a connection the stored rows are
    fetched as tuples and hashed (a few milliseconds), and the month is classified
    again only when they, or today's date, changed. Keyed on the rows themselves, the
    cache is right whichever process or worker wrote them."""
    if not isinstance(store, sa.Connection):
        return _month_grid(diary_rows(read(store, patient_id)), year, month)
    first = dt.date(year, month, 1) - dt.timedelta(days=7)
    last = dt.date(year, month, cal.monthrange(year, month)[1])
    seen = read_window_rows(store, patient_id, first, last)
    key = (patient_id, year, month, dt.date.today(), hash(tuple(map(tuple, seen.values()))))
    with _GRIDS_LOCK:
        if key in _GRIDS:
            _GRIDS.move_to_end(key)
            return _GRIDS[key]
    # built from the month's rows as the database returned them: no data frames at all
    weeks = _month_grid(seen, year, month)
    with _GRIDS_LOCK:
        _GRIDS[key] = weeks
        while len(_GRIDS) > GRID_CACHE_SIZE:
            _GRIDS.popitem(last=False)
    return weeks


def _window_rows(
    rows: dict[str, list[tuple]], first: dt.date, last: dt.date
) -> dict[str, list[tuple]]:
    """The stored rows in a month grid's window (what the grid can depend on), from a whole
    diary's rows: the reference that :func:`read_window_rows` (the same rows, selected
    by the database) is tested against."""
    from painlink.store.diary_io import _specs

    lo, hi = first.isoformat(), last.isoformat()
    out: dict[str, list[tuple]] = {}
    kept_attacks: set[Any] = set()
    for name, table_rows in rows.items():
        column = WINDOW_COLUMNS.get(name)
        if column is None:
            out[name] = table_rows
            continue
        i = list(_specs(name)).index(column)
        out[name] = [r for r in table_rows if r[i] is not None and lo <= str(r[i])[:10] <= hi]
        if name == "attacks":
            a = list(_specs(name)).index("attack_id")
            kept_attacks = {r[a] for r in out[name]}
    if "aura_symptoms" in rows:
        a = list(_specs("aura_symptoms")).index("attack_id")
        out["aura_symptoms"] = [r for r in rows["aura_symptoms"] if r[a] in kept_attacks]
    return out


def _month_grid(
    rows: dict[str, list[tuple[Any, ...]]], year: int, month: int
) -> list[list[dict[str, Any]]]:
    """The grid from the month's rows (:mod:`painlink.clinical.month_grid`, well under a
    millisecond where classify_days took ~20 ms); one name for the tests to count."""
    return grid_of_rows(rows, year, month)


def _clean(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


_REPORTS: OrderedDict[tuple[str, dt.date, int], Any] = OrderedDict()
_REPORTS_LOCK = threading.Lock()
REPORT_CACHE_SIZE = 64


def _fingerprint(diary: DiaryFrames) -> int:
    """A hash of every row: the same diary content gives the same analysis."""
    return hash(
        tuple(
            (name, frame.height, int(frame.hash_rows().sum()) if frame.height else 0)
            for name, frame in diary.items()
        )
    )


def analysis(diary: DiaryFrames, patient_id: str) -> Any:
    """The person's AnalysisReport, computed once per diary content and day (an ongoing
    attack counts up to today): the insights page and its four pictures share it."""
    from painlink.analysis.report import analyze

    key = (patient_id, dt.date.today(), _fingerprint(diary))
    with _REPORTS_LOCK:
        if key in _REPORTS:
            _REPORTS.move_to_end(key)
            return _REPORTS[key]
    report = analyze(diary)
    with _REPORTS_LOCK:
        _REPORTS[key] = report
        while len(_REPORTS) > REPORT_CACHE_SIZE:
            _REPORTS.popitem(last=False)
    return report


def insights(store: Source, patient_id: str) -> dict[str, Any]:
    diary = read(store, patient_id)
    if diary.attacks.height < 1:
        return {"enough": False}
    result = classify(diary)
    report = analysis(diary, patient_id)
    trig = report.triggers.to_frame(patient_id)
    return {
        "enough": True,
        "period_note": report.period_note(patient_id),
        "screen": result.screen,
        "diagnoses": [d for d in result.diagnoses if d.status in ("met", "probable") or d.refer],
        "day_definition": result.day_definition,
        "months": result.months[-3:],
        "triggers": [{k: _clean(v) for k, v in r.items()} for r in trig.iter_rows(named=True)],
        "plot": trig.filter(pl.col("odds_ratio").is_not_null()).height > 0,
        "spine": [
            {k: _clean(v) for k, v in r.items()}
            for r in report.spine.to_frame(patient_id).iter_rows(named=True)
        ],
        "outcomes": outcome_rows(report.outcomes.table),
        "forecast": report.forecast.per_patient.row(0, named=True)
        if report.forecast.per_patient.height
        else None,
    }


def outcome_rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [{k: _clean(v) for k, v in r.items()} for r in frame.iter_rows(named=True)]


def plot_png(store: Source, patient_id: str, kind: str) -> bytes:
    """One of the insights' pictures, drawn dark to sit on the low-light page."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    diary = read(store, patient_id)
    with plt.style.context("dark_background"):
        fig = getattr(analysis(diary, patient_id), kind).plot(patient_id)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110, facecolor=PLOT_BACKGROUND)
        plt.close(fig)
    return buffer.getvalue()


PLOT_BACKGROUND = "#181c22"  # the panels' colour in style.css


def export_zip(store: Source, patient_id: str) -> bytes:
    """The whole diary in the painlink CSV format (docs/csv-format.md), zipped."""
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp:
        write_diary_folder(read(store, patient_id), tmp)
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in sorted(Path(tmp).iterdir()):
                archive.write(file, file.name)
    return buffer.getvalue()


def patient_list(store: Source, ids: list[str]) -> list[dict[str, Any]]:
    """Consented patients with their flags: red flags, medication overuse, chronic migraine."""
    out = []
    for pid in ids:
        diary = read(store, pid)
        row = {
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
    return {"patient": patient, "enough": True, "result": result, **insights(store, patient_id)}


def admin_overview(conn: sa.Connection) -> dict[str, Any]:
    people = list(
        conn.execute(
            sa.select(users.c.id, users.c.email, users.c.role, users.c.created_at).order_by(
                users.c.id
            )
        )
    )
    # who, what, when, whose — never the detail column, which may say more than an
    # admin (who reads no health data) needs
    shown = [audit_log.c[n] for n in ("seq", "at", "user_id", "role", "action", "patient_id")]
    log = list(
        conn.execute(
            sa.select(*shown, audit_log.c.resource).order_by(audit_log.c.seq.desc()).limit(100)
        )
    )
    return {"people": people, "log": log}


#: the clinician's intake screen: every yes / no question of the screen, by topic
INTAKE_GROUPS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Onset and course",
        [
            ("thunderclap", "Thunderclap onset (worst within a minute)"),
            ("worst_ever", "Worst headache of their life"),
            ("new_headache", "New headache (recent onset)"),
            ("pattern_change", "Change in the usual pattern"),
            ("progressive", "Progressively worsening"),
            ("atypical", "Atypical presentation"),
            ("vomiting", "Vomiting with the headache"),
            ("wakes_from_sleep", "Wakes them from sleep / worst on waking"),
        ],
    ),
    (
        "Posture and provocation",
        [
            ("positional", "Positional (direction not known)"),
            ("worse_upright", "Worse upright, better lying (low CSF pressure)"),
            ("worse_lying_or_straining", "Worse lying down or straining (raised pressure)"),
            ("precipitated_by_valsalva", "Precipitated by cough/strain/exercise"),
        ],
    ),
    (
        "Systemic and infection",
        [
            ("fever", "Fever"),
            ("neck_stiffness", "Neck stiffness"),
            ("rash", "Rash"),
            ("confusion", "Confusion"),
            ("weight_loss", "Weight loss"),
            ("night_sweats", "Night sweats"),
        ],
    ),
    (
        "Neurological",
        [
            ("neuro_deficit", "Neurological deficit (any)"),
            ("motor_weakness", "Motor weakness"),
            ("deficit_still_present", "Deficit still present"),
            ("decreased_consciousness", "Reduced consciousness"),
            ("seizure", "Seizure"),
            ("papilloedema", "Papilloedema"),
            ("transient_visual_obscurations", "Transient visual obscurations"),
            ("visual_disturbance", "Visual disturbance"),
            ("painful_eye_autonomic", "Painful red eye / eye pain with autonomic signs"),
            ("jaw_claudication", "Jaw claudication"),
            ("scalp_tenderness", "Scalp tenderness"),
        ],
    ),
    (
        "History",
        [
            ("after_head_trauma", "After head trauma"),
            ("anticoagulants", "Anticoagulant or antiplatelet drugs"),
            ("pregnant_or_postpartum", "Pregnant or ≤6 weeks postpartum"),
            ("hypertension_before_pregnancy", "Hypertension before pregnancy"),
            ("ruq_epigastric_pain", "Right upper quadrant / epigastric pain"),
            ("history_cancer", "History of cancer"),
            ("history_immunosuppression", "HIV or immunosuppression"),
            ("painkiller_overuse", "Painkiller overuse"),
            ("new_drug_at_onset", "New drug at onset"),
        ],
    ),
    (
        "Neck (after manipulation or trauma)",
        [
            ("recent_neck_manipulation", "Recent neck manipulation"),
            ("neck_trauma", "Neck trauma"),
            ("new_neck_pain", "New neck pain"),
            ("dizziness", "Dizziness"),
            ("diplopia", "Double vision"),
            ("dysarthria", "Dysarthria"),
            ("dysphagia", "Dysphagia"),
            ("ataxia", "Ataxia"),
            ("drop_attack", "Drop attack"),
            ("nystagmus", "Nystagmus"),
            ("facial_numbness", "Facial numbness"),
        ],
    ),
    (
        "Spine",
        [
            ("spinal_pain", "Spinal pain"),
            ("spinal_trauma", "Significant spinal trauma"),
            ("minor_spinal_trauma", "Minor spinal trauma"),
            ("osteoporosis", "Osteoporosis"),
            ("long_term_steroids", "Long-term corticosteroids"),
            ("night_pain", "Night pain"),
            ("iv_drug_use", "Injected drug use"),
            ("saddle_anaesthesia", "Saddle anaesthesia"),
            ("bladder_bowel_dysfunction", "Bladder/bowel dysfunction"),
            ("bilateral_leg_weakness", "Bilateral leg weakness"),
        ],
    ),
]
INTAKE_QUESTIONS: list[tuple[str, str]] = [q for _, group in INTAKE_GROUPS for q in group]
#: (field, label) of the intake's measured numbers
INTAKE_NUMBERS: list[tuple[str, str]] = [
    ("age", "Age"),
    ("headache_onset_age", "Age at onset"),
    ("onset_to_peak_min", "Minutes to peak"),
    ("deficit_minutes", "Deficit lasted (min)"),
    ("systolic_bp", "Systolic BP (mmHg)"),
    ("diastolic_bp", "Diastolic BP (mmHg)"),
    ("weeks_since_birth", "Weeks since birth"),
]

FINDING_ITEMS = [(k, f"{letter}: {text}") for k, (letter, text) in CERVICOGENIC_ITEMS.items()]

#: instrument → how many items, in the order the clinician's form offers them
INSTRUMENT_ITEMS = {key: len(INSTRUMENTS[key].items) for key in ("ndi", "odi", "midas", "hit6")}


def intake_answers(data: dict[str, str]) -> dict[str, Any]:
    """yes / no per question, nothing chosen = not asked; the measured numbers."""
    return screen_form_answers(data, INTAKE_QUESTIONS, INTAKE_NUMBERS)


def exam_fields(data: dict[str, str]) -> dict[str, float | None]:
    """Form fields ``measure#repeat`` → numbers (blank: not measured)."""
    out: dict[str, float | None] = {}
    for key, value in data.items():
        if key.startswith(("frt_", "crom_", "atlas_", "headache_provoked")):
            number = parse_number(value)
            if isinstance(number, str):
                raise ValueError(f"{key.split('#')[0]}: not a number")
            out[key] = number
    return out


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
                "change": compare_scores(first, r.score) if i else "",
            }
            for i, r in enumerate(responses)
        ]
        out.append({"instrument": key, "name": first.name, "responses": rows})
    return out


def history_values(data: dict[str, str]) -> dict[str, Any]:
    """The history form: yes / no / not sure (unknown) per question, onset age a number."""
    from painlink.web.clinical_records import HISTORY_QUESTIONS

    out: dict[str, Any] = {
        key: {"yes": True, "no": False}.get(data.get(key, "")) for key, _ in HISTORY_QUESTIONS
    }
    onset = parse_number(data.get("headache_onset_age", ""))
    out["headache_onset_age"] = onset if onset is None or isinstance(onset, str) else int(onset)
    return out


def score_form(data: dict[str, str]) -> tuple[str, dt.date, dict[str, float | None]]:
    """The questionnaire form → (instrument, completed on, linkId → value); errors per field."""
    from painlink.web.diary_service import EntryError

    instrument = data.get("instrument", "")
    if instrument not in INSTRUMENT_ITEMS:
        raise EntryError({"instrument": "choose an instrument"})
    try:
        completed_on = dt.date.fromisoformat(
            data.get("completed_on") or dt.date.today().isoformat()
        )
    except ValueError:
        raise EntryError({"completed_on": "use a date like 2026-03-01"}) from None
    values: dict[str, float | None] = {}
    for i, link in enumerate(INSTRUMENTS[instrument].items, 1):
        number = parse_number(data.get(f"item{i}", ""))
        if isinstance(number, str):
            raise EntryError({f"item{i}": "not a number"})
        values[link] = number
    return instrument, completed_on, values
