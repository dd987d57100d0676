"""Diaries in and out: import, export, simulate, the day table and the summary."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from painlink.cli import render
from painlink.cli.common import (
    DbOption,
    JsonOption,
    PatientsOption,
    audit_cli,
    emit,
    err,
    fail,
    missing_patients,
    open_store,
    out,
    progress,
)


def import_(
    folder: Annotated[
        Path,
        typer.Argument(
            help="A CSV diary folder (see docs/csv-format.md), or an app's export file."
        ),
    ],
    db: DbOption = None,
    source: Annotated[
        str,
        typer.Option(
            "--from",
            help="What the path holds: 'painlink' (a CSV folder), 'migraine-buddy' (its CSV "
            "export), 'apple-health' (export.xml) or 'clue' (a .cluedata backup).",
        ),
    ] = "painlink",
    patient_id: Annotated[
        str | None,
        typer.Option(
            help="Whose export it is (an app export names nobody): a new patient, or one "
            "already in the database, whose diary it is merged into."
        ),
    ] = None,
    time_zone: Annotated[
        str, typer.Option(help="The patient's IANA time zone (an app export has none).")
    ] = "UTC",
    report_bad: Annotated[
        bool, typer.Option("--report-bad", help="List every bad cell, not only the first.")
    ] = False,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Into an existing diary: overwrite day values recorded differently.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Import a CSV diary folder or an app's export. All of it is stored, or — on any bad
    row — none of it."""
    from sqlalchemy import exc as sa_exc

    from painlink.diary.errors import DiaryFormatError
    from painlink.interop.apps import SOURCES
    from painlink.services.importing import PAINLINK, read_source, store_diary
    from painlink.store.diary_io import PatientExistsError
    from painlink.store.merge import MergeConflict, MergeError

    if source != PAINLINK and source not in SOURCES:
        fail(f"--from {source!r}: use painlink or {', '.join(SOURCES)}", as_json=as_json)
    if source != PAINLINK and not patient_id:
        fail("--patient-id is needed: an export does not name its person", as_json=as_json)
    try:
        diary, skipped = read_source(folder, source, patient_id, time_zone)
    except (FileNotFoundError, IsADirectoryError) as exc:
        fail(str(exc), as_json=as_json)
    except DiaryFormatError as exc:
        shown = exc.problems if report_bad else exc.problems[:1]
        if as_json:
            fail(
                f"{len(exc.problems)} problem(s) in {folder}; nothing was imported",
                as_json=True,
                problems=[p.as_dict() for p in shown],
            )
        for problem in shown:
            err.print(f"[bold red]error:[/] {escape(str(problem))}", highlight=False)
        if not report_bad and len(exc.problems) > 1:
            err.print(
                f"{len(exc.problems) - 1} more problem(s); --report-bad lists them all.",
                highlight=False,
            )
        err.print("Nothing was imported.")
        raise typer.Exit(1) from None
    except ValueError as exc:  # a bad --patient-id or --time-zone
        fail(str(exc), as_json=as_json)
    store = open_store(db, as_json, create=True)
    try:
        result = store_diary(
            store,
            diary,
            merge_into=None if source == PAINLINK else patient_id,
            replace=replace,
            not_imported=skipped,
        )
    except PatientExistsError as exc:
        fail(str(exc) + " Nothing was imported.", as_json=as_json, patients=exc.patient_ids)
    except MergeConflict as exc:
        fail(
            f"{exc}; nothing was imported. --replace lets the export's values win.",
            as_json=as_json,
            conflicts=[[c, str(d), had, new] for c, d, had, new in exc.conflicts],
        )
    except MergeError as exc:
        fail(f"{exc}; nothing was imported.", as_json=as_json)
    except sa_exc.IntegrityError as exc:  # a value the database's checks refuse
        fail(f"the database refused a value ({exc.orig}); nothing was imported", as_json=as_json)
    if as_json:
        emit({"database": store.url, **result.as_dict()})
        return
    render.imported(result, store)


def export(
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out", help="Folder to write the CSV diary into (with --fhir: a JSON file)."
        ),
    ],
    db: DbOption = None,
    patient: PatientsOption = None,
    fhir: Annotated[
        bool, typer.Option("--fhir", help="One patient's diary as a FHIR R4 Bundle (JSON).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Export diaries as a CSV diary folder (lossless: it imports back unchanged), or one
    diary as a FHIR R4 Bundle."""
    store = open_store(db, as_json)
    if patient:
        missing_patients(store, patient, as_json)
    if fhir:
        from painlink.interop.fhir_export import diary_bundle

        if not patient or len(patient) != 1:
            fail("--fhir writes one patient's diary: give one --patient", as_json=as_json)
        bundle = diary_bundle(store.read(patient), patient[0])
        out_dir.write_text(json.dumps(bundle, indent=1, ensure_ascii=False), encoding="utf-8")
        audit_cli(store, "export", "whole diary (FHIR R4)", patient)
        if as_json:
            emit({"file": str(out_dir), "resources": len(bundle["entry"])})
        else:
            out.print(f"Wrote {len(bundle['entry'])} FHIR R4 resources to {out_dir}.")
        return
    from painlink.interop.export import export_csv

    ids = patient or store.patient_ids()
    with progress() as bar:
        task = bar.add_task("Exporting", total=len(ids))
        counts = export_csv(store, out_dir, ids, progress=lambda n: bar.advance(task, n))
    audit_cli(store, "export", "whole diary (CSV)", ids)
    if as_json:
        emit({"folder": str(out_dir), "rows": counts})
    else:
        out.print(
            f"Exported {counts['patients.csv']} patient(s) to {out_dir}/ "
            f"({counts['days.csv']} daily records, {counts['attacks.csv']} attacks).",
            highlight=False,
        )


def _simulated_span_is_past(first_day: dt.date, days: int, as_json: bool) -> None:
    """A diary holds no future dates (rules/plausibility.py), so neither does a simulated
    one: its last day must be today (UTC) at the latest, which every patient zone
    allows, or the import of its own output would be refused."""
    from painlink.rules.plausibility import EARLIEST_DATE
    from painlink.rules.plausibility import today as today_in

    last, today = first_day + dt.timedelta(days=days - 1), today_in("UTC")
    if first_day < EARLIEST_DATE or last > today:
        latest_start = today - dt.timedelta(days=days - 1)
        fail(
            f"--start {first_day} with --days {days} runs to {last}: a diary lies between "
            f"{EARLIEST_DATE} and today ({today}); start on {latest_start} or earlier",
            as_json=as_json,
        )


#: a simulated patient id is this prefix and a number of up to 8 digits: together no
#: more than the 64 characters of a diary's Identifier, of the characters it allows
ID_PREFIX = re.compile(r"[A-Za-z0-9_.\-]{0,32}")
#: the most patients one run makes (the clinic list pages through ten million)
MAX_SIMULATED = 10_000_000


def simulate(
    patients: Annotated[
        int, typer.Option(min=1, max=MAX_SIMULATED, help="How many patients.")
    ] = 50,
    days: Annotated[int, typer.Option(min=14, max=3660, help="Diary length in days.")] = 180,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Write a CSV diary folder (+ truth.json) here.")
    ] = None,
    db: DbOption = None,
    seed: Annotated[
        int, typer.Option(min=0, help="Random seed; the same seed gives the same diaries.")
    ] = 1,
    start: Annotated[str, typer.Option(help="First diary day, YYYY-MM-DD.")] = "2025-01-01",
    truth: Annotated[
        Path | None,
        typer.Option(help="Where to write truth.json (default: inside --out, or ./truth.json)."),
    ] = None,
    chunk_size: Annotated[int, typer.Option(min=1, help="Patients generated at once.")] = 2_000,
    id_prefix: Annotated[
        str, typer.Option(help="Patient ids are this prefix and a number.")
    ] = "SIM",
    generator: Annotated[
        str,
        typer.Option(
            help="'painlink' (the analyses' own simulator) or 'independent' (a second story "
            "sharing no exposure definition with the analyses; CSV folder + truth.csv), or "
            "'independent-treated' (the same with treatments and HIT-6; also "
            "treatments_truth.csv, hit6_truth.csv and risk.csv beside truth.csv).",
        ),
    ] = "painlink",
    as_json: JsonOption = False,
) -> None:
    """Generate synthetic diaries with known truth, into a CSV folder or the database."""
    from painlink.simulate.output import run_simulation
    from painlink.simulate.spec import SimulationSpec
    from painlink.store.diary_io import PatientExistsError

    try:
        first_day = dt.date.fromisoformat(start)
    except ValueError:
        fail(f"--start {start!r} is not a date (YYYY-MM-DD)", as_json=as_json)
    _simulated_span_is_past(first_day, days, as_json)
    if not ID_PREFIX.fullmatch(id_prefix):  # the ids must be ones painlink's diaries accept
        fail(
            f"--id-prefix {id_prefix!r}: up to 32 letters, digits, '.', '-' or '_'",
            as_json=as_json,
        )
    if generator not in ("painlink", "independent", "independent-treated"):
        fail(
            f"--generator {generator!r}: use 'painlink', 'independent' or 'independent-treated'",
            as_json=as_json,
        )
    if generator.startswith("independent"):
        _simulate_independent(
            patients,
            days,
            seed,
            first_day,
            id_prefix,
            out_dir,
            truth,
            as_json,
            treated=generator == "independent-treated",
        )
        return
    spec = SimulationSpec(
        patients=patients,
        days=days,
        seed=seed,
        start=first_day,
        chunk_size=chunk_size,
        id_prefix=id_prefix,
    )
    store = None if out_dir is not None else open_store(db, as_json, create=True)
    truth_path = truth or (out_dir / "truth.json" if out_dir is not None else Path("truth.json"))
    with progress() as bar:
        task = bar.add_task("Simulating", total=patients)
        try:
            totals = run_simulation(
                spec,
                out=out_dir,
                store=store,
                truth_path=truth_path,
                progress=lambda n: bar.advance(task, n),
            )
        except PatientExistsError as exc:
            fail(str(exc), as_json=as_json)
    where = str(out_dir) if store is None else store.url
    if as_json:
        emit({"written_to": where, "truth": str(truth_path), "rows": totals})
    else:
        out.print(
            f"Simulated {patients} patients × {days} days → {where} "
            f"({totals['attacks']} attacks); truth in {truth_path}.",
            highlight=False,
        )


def _simulate_independent(
    patients: int,
    days: int,
    seed: int,
    first_day: dt.date,
    id_prefix: str,
    out_dir: Path | None,
    truth: Path | None,
    as_json: bool,
    treated: bool = False,
) -> None:
    """The independent generator writes a CSV folder (import it with ``painlink import``):
    its point is to be read the way any other diary is read. Treated, the treatments'
    truth, the HIT-6 latent totals and each day's true risk go beside the truth."""
    from painlink.interop.csv_diary import write_diary_folder
    from painlink.simulate.independent import simulate_independent, simulate_treated

    if out_dir is None:
        fail("--generator independent writes a CSV folder: give --out FOLDER", as_json=as_json)
    truth_path = truth or out_dir / "truth.csv"
    if treated:
        cohort = simulate_treated(patients, days, seed, first_day, id_prefix)
        diary, truth_frame = cohort.diary, cohort.truth
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, frame in (
            ("treatments_truth", cohort.treatments),
            ("hit6_truth", cohort.hit6),
            ("risk", cohort.risk),
        ):
            with truth_path.with_name(f"{name}.csv").open("wb") as sink:
                frame.write_csv(sink)
    else:
        diary, truth_frame = simulate_independent(patients, days, seed, first_day, id_prefix)
    counts = write_diary_folder(diary, out_dir)
    with truth_path.open("wb") as sink:  # an OSError names the whole path (see `days`)
        truth_frame.write_csv(sink)
    if as_json:
        emit({"written_to": str(out_dir), "truth": str(truth_path), "rows": counts})
        return
    out.print(
        f"Simulated {patients} patients × {days} days (independent story) → {out_dir} "
        f"({counts['attacks.csv']} attacks); truth in {truth_path}.",
        highlight=False,
    )


def days_(
    patient: PatientsOption = None,
    db: DbOption = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write to .csv or .parquet instead of the screen.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The day table (one row per patient per day) that every analysis reads."""
    from painlink.days.day_table import build_day_table

    store = open_store(db, as_json)
    table = build_day_table(store.read(patient or None))
    if out_file is not None:
        # opened here, not by polars: a path that cannot be written is then an OSError
        # naming the whole path (polars' own message shortens a long one)
        with out_file.open("wb") as sink:
            if out_file.suffix == ".parquet":
                table.write_parquet(sink)
            else:  # a spreadsheet may open it: no text cell may start as a formula
                import polars as pl

                from painlink.interop.csv_diary import escape_text

                text = [c for c, kind in table.schema.items() if kind == pl.String]
                table.with_columns([escape_text(pl.col(c)) for c in text]).write_csv(sink)
        if as_json:
            emit({"file": str(out_file), "rows": table.height})
        else:
            out.print(f"Wrote {table.height} patient-days to {out_file}.", highlight=False)
    elif as_json:
        print(table.write_json())
    else:
        out.print(table)


def summary(db: DbOption = None, as_json: JsonOption = False) -> None:
    """How much each stored diary holds and how often headache came."""
    render.summary(open_store(db, as_json), as_json)
