"""The report for the doctor: a printable summary of one patient's diary (HTML and PDF).

``build`` assembles it from the same results the app shows (the classification, the
cached analysis report, the scored questionnaires), ``html`` renders it with the print
templates beside this module, ``pdf`` lays that out on A4 pages with WeasyPrint, and
``first_page_html`` gives page 1 alone as an HTML fragment with its own scoped CSS
(the clinician's patient page shows it at the top). The command line
(``painlink report``) and the web app (``/reports/me.pdf``,
``/clinic/patients/{id}/report.pdf``) both call :func:`for_patient`.

Why WeasyPrint (README, "Python libraries and why"): the report is HTML and CSS the
project already writes, paged by CSS paged media (running header and footer, "page X
of Y", ``break-inside: avoid``); the same template is the HTML version. ReportLab would
need a second layout in Python drawing calls.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from painlink.diary.frames import DiaryFrames
from painlink.diary.shown_text import without_direction_controls
from painlink.rules import plausibility
from painlink.rules import report as rules
from painlink.services.report import charts, details, model
from painlink.services.report.model import FirstPage
from painlink.services.report.topics import topics

TEMPLATES = Path(__file__).parent / "templates"
#: every section a report can hold, in print order ("summary" is page 1)
SECTIONS = (
    "summary",
    "calendar",
    "attacks",
    "medications",
    "triggers",
    "spine",
    "questionnaires",
    "letter",
)
#: the period a report covers when none is given: the last year of the diary
DEFAULT_DAYS = 365
DISCLAIMER = "Self-reported diary data; not a diagnosis"


class ReportError(ValueError):
    """A report that cannot be made as asked (unknown section, period the wrong way)."""


@dataclass
class Report:
    page: FirstPage
    sections: tuple[str, ...]
    calendars: list[dict[str, Any]] = field(default_factory=list)
    attacks: list[dict[str, Any]] = field(default_factory=list)
    attacks_total: int = 0
    medications: list[dict[str, Any]] = field(default_factory=list)
    questionnaires: list[dict[str, Any]] = field(default_factory=list)
    forest_svg: str = ""
    spine_svg: str = ""
    outcomes_svg: str = ""
    letter: dict[str, Any] | None = None
    period_note: str | None = None


def parse_sections(text: str | None) -> tuple[str, ...]:
    """``"summary,letter"`` → the sections in print order; None or "" → all of them."""
    if not text:
        return SECTIONS
    asked = [s.strip().lower() for s in text.split(",") if s.strip()]
    unknown = [s for s in asked if s not in SECTIONS]
    if unknown:
        raise ReportError(f"unknown section(s) {', '.join(unknown)}: use {', '.join(SECTIONS)}")
    return tuple(s for s in SECTIONS if s in asked)


def _dates(diary: DiaryFrames) -> list[dt.date]:
    out: list[dt.date] = []
    for frame, column in (
        (diary.days, "date"),
        (diary.attacks, "start"),
        (diary.medications, "taken_at"),
        (diary.spine_pain, "start"),
        (diary.factor_values, "date"),
    ):
        if frame.height:
            for v in (frame[column].min(), frame[column].max()):
                if isinstance(v, dt.datetime):
                    out.append(v.date())
                elif isinstance(v, dt.date):
                    out.append(v)
    return out


def period(
    diary: DiaryFrames, today: dt.date, start: dt.date | None, end: dt.date | None
) -> tuple[dt.date, dt.date]:
    """The period to report: as asked, else the last :data:`DEFAULT_DAYS` of the diary
    (never past ``today``, never before 1900: :mod:`painlink.rules.plausibility`)."""
    dates = _dates(diary)
    last = min(max(dates), today) if dates else today
    end = min(end or last, today)
    # a diary wholly after today (a zone set westward keeps its entries' wall-clock
    # days) starts the period at today, not after its end
    first = min(min(dates), end) if dates else end
    start = start or max(first, end - dt.timedelta(days=DEFAULT_DAYS - 1))
    start = max(start, plausibility.EARLIEST_DATE)
    if start > end:
        raise ReportError(f"the period starts ({start}) after it ends ({end})")
    return start, end


def limit(diary: DiaryFrames, start: dt.date, end: dt.date) -> DiaryFrames:
    """The diary's entries in ``start``..``end`` (attacks by their start, with their
    readings and aura symptoms); questionnaires and treatments up to ``end``."""
    lo = dt.datetime.combine(start, dt.time.min)
    hi = dt.datetime.combine(end, dt.time.max)
    attacks = diary.attacks.filter(pl.col("start").is_between(lo, hi))
    kept = attacks["attack_id"]
    return DiaryFrames.from_tables(
        **{
            **dict(diary.items()),
            "days": diary.days.filter(pl.col("date").is_between(start, end)),
            "factor_values": diary.factor_values.filter(pl.col("date").is_between(start, end)),
            "attacks": attacks,
            "intensity_readings": diary.intensity_readings.filter(
                pl.col("attack_id").is_in(kept.implode())
            ),
            "aura_symptoms": diary.aura_symptoms.filter(pl.col("attack_id").is_in(kept.implode())),
            "medications": diary.medications.filter(pl.col("taken_at").is_between(lo, hi)),
            "spine_pain": diary.spine_pain.filter(pl.col("start").is_between(lo, hi)),
            "questionnaire_items": diary.questionnaire_items.filter(pl.col("completed_on") <= end),
            "treatments": diary.treatments.filter(pl.col("start") <= end),
        }
    )


def build(
    diary: DiaryFrames,
    patient_id: str,
    today: dt.date,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    sections: tuple[str, ...] = SECTIONS,
    letter_for: str | None = None,
) -> Report:
    """The report of ``patient_id``'s diary over the period (:func:`period`)."""
    from painlink.clinical.classify import classify
    from painlink.services.analyses import analysis_report

    diary = diary.only([patient_id])
    start, end = period(diary, today, start, end)
    part = limit(diary, start, end)
    report = analysis_report(part, patient_id, today)
    if part.attacks.height or part.days.height:
        result = classify(part, as_of=end)
    else:  # an empty period: nothing to classify, page 1 says so
        from painlink.clinical.classify import presentation_from_diary
        from painlink.clinical.screening import screen

        answers = presentation_from_diary(part) if part.patients.height else {}
        result = _empty_classification(patient_id, screen(answers))
    page = model.first_page(part, patient_id, result, report, start, end, today)
    page.topics = topics(page)
    page.chart_svg = charts.monthly_chart(page) if "summary" in sections else ""
    out = Report(page=page, sections=sections, period_note=report.period_note(patient_id))
    has_attacks = part.attacks.height > 0
    if "calendar" in sections:
        out.calendars = details.calendars(part, start, end)
    if "attacks" in sections:
        out.attacks = details.attack_rows(part)
        out.attacks_total = part.attacks.height
    if "medications" in sections:
        out.medications = details.medication_rows(part, start, end)
    # the pictures only when they have something to show, as the insights page decides:
    # a trigger with an estimate; a region compared over enough attacks (one attack
    # would draw as "100%")
    if "triggers" in sections and has_attacks and page.message is None:
        trig = report.triggers.to_frame(patient_id)
        if "odds_ratio" in trig.columns and trig["odds_ratio"].is_not_null().any():
            out.forest_svg = charts.analysis_chart(report, patient_id, "triggers")
    if "spine" in sections and has_attacks and page.message is None:
        from painlink.analysis.spine_link import MIN_ATTACKS

        spine = report.spine.to_frame(patient_id)
        compared = spine["attacks_compared"] if "attacks_compared" in spine.columns else None
        if compared is not None and (compared.fill_null(0) >= MIN_ATTACKS).any():
            out.spine_svg = charts.analysis_chart(report, patient_id, "spine")
    if "questionnaires" in sections:
        out.questionnaires = details.questionnaire_history(part)
    if "letter" in sections or letter_for:
        out.letter = details.letter(page, letter_for)
        if letter_for and out.letter is None:
            named = [t["treatment"] for t in page.treatments if t.get("rate_ratio") is not None]
            raise ReportError(
                f"no treatment {letter_for!r} with a before/after comparison in this period"
                + (f": one of {', '.join(named)}" if named else "")
            )
        if letter_for and "letter" not in out.sections:
            out.sections = (*out.sections, "letter")
        if out.letter is None and sections == SECTIONS and not letter_for:
            # the default report leaves out a letter with nothing to say; one asked for
            # says why there is none
            out.sections = tuple(s for s in out.sections if s != "letter")
    return out


def _empty_classification(patient_id: str, screened: Any) -> Any:
    from painlink.clinical.classify import Classification

    return Classification(patient_id=patient_id, screen=screened, diagnoses=[])


def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=without_direction_controls,  # a name's U+202E reversed the header's dates
    )
    env.filters["n"] = _number
    env.filters["pct"] = lambda v: f"{v:.0%}" if v is not None else "–"
    return env


def _number(value: Any, digits: int = 1) -> str:
    """A rate for print: one decimal, "–" for a missing one."""
    if value is None:
        return "–"
    return f"{value:.{digits}f}"


def _context(report: Report) -> dict[str, Any]:
    return {
        "r": report,
        "p": report.page,
        "disclaimer": DISCLAIMER,
        "rate_days": rules.RATE_DAYS,
        "rate_source": rules.RATE_SOURCE,
        "completeness_low": rules.LOW_COMPLETENESS,
    }


def html(report: Report, *, for_print: bool = False) -> str:
    """The whole report as one HTML document (``for_print``: laid out for WeasyPrint)."""
    css = (TEMPLATES / "report.css").read_text() + (TEMPLATES / "page1.css").read_text()
    return (
        _environment()
        .get_template("report.html")
        .render(**_context(report), css=css, for_print=for_print)
    )


def first_page_html(report: Report, *, inline_css: bool = True) -> str:
    """Page 1 alone as an HTML fragment, every class under ``plr-``. With ``inline_css``
    it carries page1.css (paper: dark ink on white) in a ``<style>``; the web app passes
    False because its Content-Security-Policy refuses inline styles and it dresses the
    fragment in its own (dark) stylesheet, static/clinic.css."""
    css = (TEMPLATES / "page1.css").read_text() if inline_css else ""
    # in the app the page already names the patient; its internal id stays on paper
    return (
        _environment()
        .get_template("page1_fragment.html")
        .render(**_context(report), css=css, show_id=inline_css)
    )


def pdf(report: Report) -> bytes:
    """The report laid out on A4 pages (WeasyPrint: no browser, no outside service)."""
    import logging

    import weasyprint

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    document = weasyprint.HTML(string=html(report, for_print=True), base_url=str(TEMPLATES))
    return bytes(document.write_pdf())


def for_patient(
    source: Any,
    patient_id: str,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    sections: tuple[str, ...] = SECTIONS,
    letter_for: str | None = None,
    today: dt.date | None = None,
) -> Report:
    """The report of a stored patient (``source``: a connection or a Store), ``today``
    being the date in the patient's own time zone unless given."""
    from painlink.services.reading import read

    diary = read(source, patient_id)
    if today is None:
        zone = diary.patients["time_zone"][0] if diary.patients.height else None
        try:
            today = plausibility.today(zone or None)
        except (KeyError, ValueError):
            today = plausibility.today()
    return build(
        diary,
        patient_id,
        today,
        start=start,
        end=end,
        sections=sections,
        letter_for=letter_for,
    )
