"""``painlink report``: the report for the doctor as a PDF and/or an HTML file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from painlink.cli.common import DbOption, JsonOption, audit_cli, emit, fail, open_store, out

#: the sections as the help text lists them (painlink.services.report.SECTIONS)
SECTIONS_HELP = "summary,calendar,attacks,medications,triggers,spine,questionnaires,letter"


def _date(text: str | None, what: str, as_json: bool) -> dt.date | None:
    """A --from/--to date: ISO, between 1900 and today (rules/plausibility.py)."""
    from painlink.rules import plausibility

    if text is None:
        return None
    try:
        value = dt.date.fromisoformat(text)
    except ValueError:
        fail(f"{what}: {text!r} is not a date (YYYY-MM-DD)", code=2, as_json=as_json)
    if not plausibility.EARLIEST_DATE <= value <= plausibility.today() + dt.timedelta(days=1):
        fail(f"{what}: {value} is outside 1900 .. tomorrow", code=2, as_json=as_json)
    return value


def report_(
    patient: Annotated[str, typer.Argument(help="The patient's id.")],
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Write the PDF here.")] = None,
    html: Annotated[Path | None, typer.Option("--html", help="Write the HTML here.")] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="First day, YYYY-MM-DD (default: a year back).")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (default: the last entry).")
    ] = None,
    sections: Annotated[
        str | None, typer.Option(help=f"Comma-separated, any of {SECTIONS_HELP} (default: all).")
    ] = None,
    letter: Annotated[
        str | None,
        typer.Option(help="Add the treatment-response letter for this treatment (its name)."),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The report for the doctor: page 1 a one-page summary, then calendars, attacks,
    medication, triggers, neck/back timing, questionnaires and a treatment letter."""
    from painlink.services import report as reports

    if pdf is None and html is None:
        fail("give --pdf FILE and/or --html FILE", code=2, as_json=as_json)
    try:
        chosen = reports.parse_sections(sections)
    except reports.ReportError as exc:
        fail(str(exc), code=2, as_json=as_json)
    first, last = _date(start, "--from", as_json), _date(end, "--to", as_json)
    store = open_store(db, as_json)
    if patient not in store.patient_ids():
        fail(f"no such patient: {patient}", as_json=as_json)
    try:
        made = reports.for_patient(
            store, patient, start=first, end=last, sections=chosen, letter_for=letter
        )
    except reports.ReportError as exc:
        fail(str(exc), code=2, as_json=as_json)
    written = []
    if html is not None:
        html.write_text(reports.html(made), encoding="utf-8")
        written.append(str(html))
    if pdf is not None:
        pdf.write_bytes(reports.pdf(made))
        written.append(str(pdf))
    audit_cli(store, "export", "report", [patient])
    page = made.page
    if as_json:
        emit(
            {
                "patient_id": patient,
                "from": str(page.start),
                "to": str(page.end),
                "sections": list(made.sections),
                "written": written,
                "topics": page.topics,
            }
        )
        return
    out.print(f"Report for {patient}, {page.start} to {page.end}: {', '.join(written)}")
