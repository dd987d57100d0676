"""The clinic's commands: red-flag screening, ICHD-3 classification of diaries and
questionnaire scoring. ``screen`` and ``score`` read a JSON file, not a database, so
they take ``--json`` but no ``--db``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from painlink.cli import render
from painlink.cli.common import (
    DbOption,
    JsonOption,
    PatientsOption,
    SchemaOption,
    emit,
    fail,
    load_json,
    missing_patients,
    open_store,
    out,
    print_schema,
    read_folder,
    validation_error,
)


def screen_(
    presentation: Annotated[
        Path | None, typer.Argument(help="JSON file of answers (see --schema).")
    ] = None,
    older_onset_age: Annotated[
        int, typer.Option(help="New headache after this age is a red flag (SNNOOP10: 50 or 65).")
    ] = 50,
    schema: SchemaOption = False,
    as_json: JsonOption = False,
) -> None:
    """Red-flag screen of a presentation: emergency / urgent / soon / none, with advice."""
    from painlink.clinical.screening import screen
    from painlink.rules.red_flag_checks import ScreeningSettings
    from painlink.rules.screening_questions import Presentation

    if schema:
        print_schema(Presentation.model_json_schema())
        return
    if presentation is None:
        fail("give a presentation JSON file (or --schema)", code=2, as_json=as_json)
    data = load_json(presentation, as_json)
    try:
        result = screen(data, ScreeningSettings(older_onset_age=older_onset_age))
    except Exception as exc:
        fail(validation_error(exc), as_json=as_json)
    if as_json:
        emit(result.as_dict())
        return
    style = {"emergency": "bold white on red", "urgent": "bold red", "soon": "bold yellow"}
    out.print(result.summary(), style=style.get(result.urgency), highlight=False)


def classify_(
    diary: Annotated[
        Path | None, typer.Argument(help="A CSV diary folder; omit to read --patient from --db.")
    ] = None,
    patient: PatientsOption = None,
    db: DbOption = None,
    definition: Annotated[
        str,
        typer.Option(
            help="Migraine-day definition: vdarend_2023, ichd_strict_4h, "
            "ihs_effective_triptan_only."
        ),
    ] = "vdarend_2023",
    presentation: Annotated[
        Path | None, typer.Option(help="Red-flag answers (JSON) to screen with the diary.")
    ] = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also list diagnoses that are not met.")
    ] = False,
    schema: SchemaOption = False,
    as_json: JsonOption = False,
) -> None:
    """ICHD-3 (2018) diagnoses of each diary, every criterion explained. Red flags first."""
    from painlink.clinical.classify import classify
    from painlink.diary.frames import TABLES
    from painlink.rules.day_definitions import DEFINITIONS

    if schema:
        print_schema({t.csv_file or t.name: t.model.model_json_schema() for t in TABLES})
        return
    if definition not in DEFINITIONS:
        fail(
            f"unknown --definition {definition!r}; choose {', '.join(DEFINITIONS)}", as_json=as_json
        )
    answers = load_json(presentation, as_json) if presentation else None
    if diary is not None:
        frames = read_folder(diary, as_json)
    else:
        store = open_store(db, as_json)
        if not patient:
            fail(
                "give a CSV diary folder, or --patient ID to classify from the database",
                as_json=as_json,
            )
        missing_patients(store, patient, as_json)
        frames = store.read(patient)
    ids = patient or frames.patient_ids()
    unknown = sorted(set(ids) - set(frames.patient_ids()))
    if unknown:
        fail(f"no such patient(s) in {diary}: {', '.join(unknown)}", as_json=as_json)
    results: list[Any] = []
    for pid in ids:
        try:
            results.append(
                classify(frames.only([pid]), day_definition=definition, presentation=answers)
            )
        except Exception as exc:
            fail(f"{pid}: {validation_error(exc)}", as_json=as_json)
    if as_json:
        emit({"patients": [r.as_dict() for r in results]})
        return
    for r in results:
        render.classification(r, show_all)


def score_(
    instrument: Annotated[
        str | None,
        typer.Argument(help="midas, hit6, odi, ndi — or 'auto' to tell from the response."),
    ] = None,
    response: Annotated[
        Path | None, typer.Argument(help="A FHIR R4 QuestionnaireResponse (JSON).")
    ] = None,
    questionnaire: Annotated[
        Path | None, typer.Option(help="A licensed FHIR Questionnaire with the item wording.")
    ] = None,
    schema: SchemaOption = False,
    as_json: JsonOption = False,
) -> None:
    """Score a questionnaire response (MIDAS, HIT-6, ODI, NDI): score, band, important change."""
    from painlink.clinical.questionnaires import (
        QuestionnaireError,
        load_questionnaire,
        score_response,
    )

    if schema:
        from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

        print_schema(QuestionnaireResponse.model_json_schema())
        return
    if instrument is None or response is None:
        fail("give INSTRUMENT and RESPONSE.json (or --schema)", code=2, as_json=as_json)
    data = load_json(response, as_json)
    try:
        which = (
            load_questionnaire(questionnaire)
            if questionnaire
            else (None if instrument == "auto" else instrument)
        )
        result = score_response(data, which)
    except QuestionnaireError as exc:
        fail(str(exc), as_json=as_json)
    if as_json:
        emit(result.as_dict())
        return
    render.score(result)
