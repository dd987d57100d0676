"""The pages' forms: what each form asks, and its fields read into typed values.

A form post arrives as text fields; these functions turn them into the numbers,
dates and answers the services validate (``painlink.services``). A value that is not
a number is passed on as text where the service's schema names the field in its error,
so every message appears next to the field that caused it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from painlink.rules.cervical import CERVICOGENIC_ITEMS
from painlink.rules.checkin import ALCOHOL_UNITS_PER_DRINK, CAFFEINE_MG_PER_CUP, STOPLIGHTS
from painlink.rules.plausibility import date_problem_anywhere
from painlink.rules.questionnaires import INSTRUMENTS
from painlink.services.clinical_records import HISTORY_QUESTIONS
from painlink.services.diary import EntryError

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


@dataclass(frozen=True)
class CheckinField:
    """One question of the daily check-in, asked the quick way.

    ``kind``: "stepper" (− / + buttons round a number; empty until touched, then it
    starts from ``start``), "slider" (0–10; stored only once moved, so an untouched
    slider never records a 0 nobody chose) or "chips" (one tap on an option). A stepper
    may ask in an everyday unit (cups, drinks): ``per`` stored units per form unit, from
    painlink/rules/checkin.py, and ``field`` the form's own name for it."""

    name: str  # the diary's column
    label: str
    kind: str
    field: str = ""  # the form's name (the column's when blank)
    unit: str = ""
    step: float = 1.0
    start: float = 0.0
    top: float = 24.0
    per: float = 1.0
    hint: str = ""
    options: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        return self.field or self.name


#: the daily check-in, in screen order
CHECKIN_FIELDS: list[CheckinField] = [
    CheckinField("sleep_hours", "Sleep last night", "stepper", unit="hours", step=0.5, start=7),
    CheckinField("stress", "Stress today", "slider", hint="0 none, 10 the worst"),
    CheckinField(
        "caffeine_mg",
        "Coffee",
        "stepper",
        field="coffee_cups",
        unit="cups",
        top=5000 // CAFFEINE_MG_PER_CUP,
        per=CAFFEINE_MG_PER_CUP,
        hint="A mug of tea or a can of cola is about half a cup.",
    ),
    CheckinField(
        "alcohol_units",
        "Alcohol",
        "stepper",
        field="alcohol_drinks",
        unit="drinks",
        top=100 // ALCOHOL_UNITS_PER_DRINK,
        per=ALCOHOL_UNITS_PER_DRINK,
        hint="A pint of beer or a glass of wine; a single shot is half.",
    ),
    CheckinField("skipped_meals", "Meals skipped", "stepper", top=10),
    CheckinField("exercise_min", "Exercise", "stepper", unit="minutes", step=10, top=1440),
    CheckinField(
        "menstruation",
        "Period",
        "chips",
        options=(
            ("none", "None"),
            ("spotting", "Spotting"),
            ("light", "Light"),
            ("medium", "Medium"),
            ("heavy", "Heavy"),
        ),
    ),
    CheckinField("neck_pain", "Neck pain", "slider", hint="0 none, 10 the worst"),
    CheckinField("low_back_pain", "Low back pain", "slider", hint="0 none, 10 the worst"),
]
#: the "how was today" chips: (value, label, meaning); "" is a day without migraine
STOPLIGHT_CHOICES: list[tuple[str, str, str]] = [
    ("", "Fine", "no migraine"),
    *((value, label, meaning) for value, (label, meaning) in STOPLIGHTS.items()),
]
#: a slider's companion field, "1" once the slider was moved (or held a saved value)
RATED = "_rated"

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
    """A typed number, None when blank. Not a finite number (``abc``, ``inf``, ``nan``,
    ``1e999``) is left as text, so the schema refuses it and names the field; ``inf``
    once reached ``int()`` and answered 500."""
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except ValueError:
        return value  # left as text: the schema names the field in its error
    return number if math.isfinite(number) else value


#: the largest id a form may name (SQLite's and PostgreSQL's BIGINT)
MAX_ID = 2**63 - 1


def parse_id(value: str | None) -> int | None:
    """A row's number from a form field (a grant, an attack), or None when it is none."""
    text = (value or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def attack_changes(data: dict[str, str]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for key in ("side", "quality"):
        if key in data:
            changes[key] = data[key] or None
    for key in ATTACK_FLAGS:
        if f"has_{key}" in data:  # the form lists which boxes it showed
            changes[key] = key in data
    if data.get("start"):  # a start given "now" by mistake is corrected here
        changes["start"] = data["start"]
    if data.get("end"):
        changes["end"] = data["end"]
    if data.get("intensity_nrs"):
        changes["intensity_nrs"] = parse_number(data["intensity_nrs"])
    if "notes" in data:
        changes["notes"] = data["notes"] or None
    return changes


#: the kind of a drug painlink does not know, in plain words (value: its DrugClass);
#: preventives are not offered: they are entered on their own page
DRUG_KINDS: tuple[tuple[str, str], ...] = (
    ("triptan", "A triptan (sumatriptan, rizatriptan …)"),
    ("non_opioid_analgesic", "A painkiller: paracetamol, aspirin, ibuprofen or similar"),
    ("combination_analgesic", "A combination painkiller (two drugs, or with caffeine)"),
    ("opioid", "An opioid (codeine, tramadol …)"),
    ("gepant", "A gepant (rimegepant, ubrogepant …)"),
    ("ditan", "Lasmiditan"),
    ("ergotamine", "Ergotamine or dihydroergotamine"),
    ("antiemetic", "An anti-sickness medicine (metoclopramide, domperidone …)"),
    ("other", "Another medicine for the pain (not sure what kind)"),
)


def medication_fields(data: dict[str, str]) -> dict[str, Any]:
    return {
        "drug": data.get("drug", ""),
        "class": data.get("drug_class") or None,
        "dose": parse_number(data.get("dose")),
        "dose_unit": data.get("dose_unit") or None,
        "relief_2h": data.get("relief_2h") or None,
        "taken_at": data.get("taken_at") or None,
    }


def day_fields(data: dict[str, str]) -> dict[str, Any]:
    """The check-in form → the diary's fields: cups and drinks back into mg and units,
    a slider only when it was moved, a stepper or chip left empty as unknown."""
    out: dict[str, Any] = {}
    for f in CHECKIN_FIELDS:
        value = data.get(f.key, "")
        if f.kind == "chips":
            out[f.name] = value or None
        elif f.kind == "slider":  # the page's slider sends its mark; another client does not
            moved = data.get(f.key + RATED, "1") == "1"
            out[f.name] = parse_number(value) if moved else None
        elif f.key not in data and f.name in data:  # a client posting the diary's own unit
            out[f.name] = parse_number(data[f.name])
        else:
            number = parse_number(value)
            out[f.name] = number * f.per if isinstance(number, float) else number
            if isinstance(number, str) and f.per != 1:  # name the form's field, not the column
                raise EntryError({f.key: f"write the number of {f.unit}, like 2"})
    if data.get("stoplight") is not None:
        out["stoplight"] = data["stoplight"] or None
    return out


def checkin_errors(by_column: dict[str, str]) -> dict[str, str]:
    """The diary's errors keyed by column → the form's fields, in the form's units (an
    error about ``caffeine_mg`` is about the cups field, and says cups)."""
    out: dict[str, str] = {}
    for key, message in by_column.items():
        f = next((f for f in CHECKIN_FIELDS if f.name == key), None)
        if f is None:
            out[key] = message
        elif f.kind == "stepper":
            out[f.key] = f"Between 0 and {f.top:g} {f.unit}, please."
        elif f.kind == "slider":
            out[f.key] = "Choose from 0 to 10."
        else:
            out[f.key] = "Choose one of the options."
    return out


def checkin_values(day: dict[str, Any]) -> dict[str, str]:
    """A stored check-in as the form's values: mg as cups, units as drinks, blanks empty,
    and each slider's "moved" mark where a value was saved."""
    out: dict[str, str] = {}
    for f in CHECKIN_FIELDS:
        value = day.get(f.name)
        if value is None:
            out[f.key] = ""
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[f.key] = f"{round(float(value) / f.per, 1):g}"
        else:
            out[f.key] = str(value)
        if f.kind == "slider":
            out[f.key + RATED] = "1"
    out["stoplight"] = day.get("stoplight") or ""
    return out


FACTOR_PREFIX = "factor__"


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


def history_values(data: dict[str, str]) -> dict[str, Any]:
    """The history form: yes / no / not sure (unknown) per question, onset age a number."""
    out: dict[str, Any] = {
        key: {"yes": True, "no": False}.get(data.get(key, "")) for key, _ in HISTORY_QUESTIONS
    }
    onset = parse_number(data.get("headache_onset_age", ""))
    out["headache_onset_age"] = onset if onset is None or isinstance(onset, str) else int(onset)
    return out


def score_form(data: dict[str, str]) -> tuple[str, dt.date, dict[str, float | None]]:
    """The questionnaire form → (instrument, completed on, linkId → value); errors per field."""
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
