"""The ``painlink`` command.

Every command takes ``--db URL`` (or ``PAINLINK_DATABASE_URL``; the default is a
SQLite file in the user's data directory) and prints JSON with ``--json`` where a
program would read the result. Errors go to stderr with a non-zero exit code.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import exc as sa_exc

from painlink import __version__
from painlink.analysis.summary import diary_summary
from painlink.days.day_table import build_day_table
from painlink.interop.csv_diary import DiaryFormatError, read_diary_folder
from painlink.interop.export import export_csv
from painlink.simulate.output import run_simulation
from painlink.simulate.spec import SimulationSpec
from painlink.store.diary_io import PatientExistsError
from painlink.store.engine import ENV_VAR
from painlink.store.store import NotInitialisedError, Store

app = typer.Typer(
    help="painlink: a migraine and neck/back pain diary with honest statistics.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar=ENV_VAR,
        help="Database URL (sqlite:///path.db or postgresql://…). "
        "Default: painlink.db in your data directory.",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
SchemaOption = Annotated[bool, typer.Option("--schema", help="Print the input's JSON schema.")]


def _simulated_span_is_past(first_day: dt.date, days: int, as_json: bool) -> None:
    """A diary holds no future dates (rules/plausibility.py), so neither does a simulated
    one: its last day must be today (UTC) at the latest, which every patient zone
    allows, or the import of its own output would be refused."""
    from painlink.rules.plausibility import EARLIEST_DATE
    from painlink.rules.plausibility import today as today_in

    last, today = first_day + dt.timedelta(days=days - 1), today_in("UTC")
    if first_day < EARLIEST_DATE or last > today:
        latest_start = today - dt.timedelta(days=days - 1)
        _fail(
            f"--start {first_day} with --days {days} runs to {last}: a diary lies between "
            f"{EARLIEST_DATE} and today ({today}); start on {latest_start} or earlier",
            as_json=as_json,
        )


def _fail(message: str, code: int = 1, as_json: bool = False, **extra: Any) -> None:
    if as_json:
        print(json.dumps({"ok": False, "error": message, **extra}, default=str))
    else:
        err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code)


def _emit(data: dict[str, Any]) -> None:
    print(json.dumps({"ok": True, **data}, default=str, indent=2))


def _store(db: str | None, as_json: bool, create: bool = False) -> Store:
    store = Store(db)
    try:
        if create:
            store.init()
        else:
            store.check()
    except NotInitialisedError as exc:
        _fail(str(exc), as_json=as_json)
    except Exception as exc:  # a URL that cannot be reached or parsed
        _fail(f"cannot open the database {db or store.url}: {exc}", as_json=as_json)
    return store


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


def _version(value: bool) -> None:
    if value:
        print(f"painlink {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """painlink: a migraine and neck/back pain diary with honest statistics."""


@app.command()
def init(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Create the database, or upgrade it to this version's schema."""
    store = Store(db)
    try:
        revision = store.init()
    except Exception as exc:
        _fail(f"cannot initialise {store.url}: {exc}", as_json=as_json)
    if as_json:
        _emit({"database": store.url, "revision": revision})
    else:
        out.print(f"Database ready: {store.url} (schema revision {revision})", highlight=False)


@app.command("import")
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
    skipped: dict[str, int] = {}
    from painlink.interop.apps import SOURCES, read_export

    if source != "painlink" and source not in SOURCES:
        _fail(f"--from {source!r}: use painlink or {', '.join(SOURCES)}", as_json=as_json)
    try:
        if source == "painlink":
            diary = read_diary_folder(folder)
        else:
            if not patient_id:
                _fail("--patient-id is needed: an export does not name its person", as_json=as_json)
            diary, skipped = read_export(source, folder, patient_id, time_zone)
    except (FileNotFoundError, IsADirectoryError) as exc:
        _fail(str(exc), as_json=as_json)
    except DiaryFormatError as exc:
        shown = exc.problems if report_bad else exc.problems[:1]
        if as_json:
            _fail(
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
        _fail(str(exc), as_json=as_json)
    store = _store(db, as_json, create=True)
    if source != "painlink" and patient_id in store.patient_ids():
        _merge_export(store, diary, patient_id, replace, skipped, as_json)
        return
    try:
        written = store.write(diary)
    except PatientExistsError as exc:
        _fail(str(exc) + " Nothing was imported.", as_json=as_json, patients=exc.patient_ids)
    except sa_exc.IntegrityError as exc:  # a value the database's checks refuse
        _fail(f"the database refused a value ({exc.orig}); nothing was imported", as_json=as_json)
    if as_json:
        _emit({"database": store.url, "rows": written, "not_imported": skipped})
        return
    out.print(
        f"Imported {written['patients']} patient(s), {written['days']} daily records, "
        f"{written['attacks']} attacks, {written['medications']} medication intakes "
        f"into {store.url}.",
        highlight=False,
    )
    if skipped:
        out.print(
            "Records not imported (no counterpart in the diary): "
            + escape(", ".join(f"{kind} {n}" for kind, n in sorted(skipped.items()))),
            highlight=False,
        )


def _merge_export(
    store: Store, diary: Any, patient_id: str, replace: bool, skipped: dict[str, int],
    as_json: bool,
) -> None:  # fmt: skip
    """An app's export into a diary that exists: new attacks added, known ones not twice."""
    from painlink.store import audit
    from painlink.store.merge import MergeConflict, MergeError, merge_diary
    from painlink.store.store import cli_audit_row

    try:
        with store.writing() as conn:
            merged = merge_diary(conn, patient_id, diary, replace)
            audit.append(conn, [cli_audit_row("merge", "diary", patient_id)])
    except MergeConflict as exc:
        _fail(
            f"{exc}; nothing was imported. --replace lets the export's values win.",
            as_json=as_json,
            conflicts=[[c, str(d), had, new] for c, d, had, new in exc.conflicts],
        )
    except MergeError as exc:
        _fail(f"{exc}; nothing was imported.", as_json=as_json)
    if as_json:
        _emit({"database": store.url, "merged": merged.as_dict(), "not_imported": skipped})
        return
    out.print(
        f"Added to {patient_id}'s diary: {merged.attacks_added} attacks, "
        f"{merged.medications_added} medication intakes; {merged.attacks_already_there} "
        "attacks were already there.",
        highlight=False,
    )
    if merged.attacks_overlapping:
        out.print(
            f"{len(merged.attacks_overlapping)} attack(s) overlap one already in the diary "
            "and were left out: " + ", ".join(str(s) for s in merged.attacks_overlapping[:10]),
            highlight=False,
        )


@app.command()
def export(
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out", help="Folder to write the CSV diary into (with --fhir: a JSON file)."
        ),
    ],
    db: DbOption = None,
    patient: Annotated[
        list[str] | None, typer.Option("--patient", help="Only this patient (repeatable).")
    ] = None,
    fhir: Annotated[
        bool, typer.Option("--fhir", help="One patient's diary as a FHIR R4 Bundle (JSON).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Export diaries as a CSV diary folder (lossless: it imports back unchanged), or one
    diary as a FHIR R4 Bundle."""
    store = _store(db, as_json)
    if patient:
        missing = sorted(set(patient) - set(store.patient_ids()))
        if missing:
            _fail(f"no such patient(s): {', '.join(missing)}", as_json=as_json)
    if fhir:
        from painlink.interop.fhir_export import diary_bundle

        if not patient or len(patient) != 1:
            _fail("--fhir writes one patient's diary: give one --patient", as_json=as_json)
        bundle = diary_bundle(store.read(patient), patient[0])
        out_dir.write_text(json.dumps(bundle, indent=1, ensure_ascii=False), encoding="utf-8")
        _audit_cli(store, "export", "whole diary (FHIR R4)", patient)
        if as_json:
            _emit({"file": str(out_dir), "resources": len(bundle["entry"])})
        else:
            out.print(f"Wrote {len(bundle['entry'])} FHIR R4 resources to {out_dir}.")
        return
    ids = patient or store.patient_ids()
    with _progress() as bar:
        task = bar.add_task("Exporting", total=len(ids))
        counts = export_csv(store, out_dir, ids, progress=lambda n: bar.advance(task, n))
    _audit_cli(store, "export", "whole diary (CSV)", ids)
    if as_json:
        _emit({"folder": str(out_dir), "rows": counts})
    else:
        out.print(
            f"Exported {counts['patients.csv']} patient(s) to {out_dir}/ "
            f"({counts['days.csv']} daily records, {counts['attacks.csv']} attacks).",
            highlight=False,
        )


@app.command()
def simulate(
    patients: Annotated[int, typer.Option(min=1, help="How many patients.")] = 50,
    days: Annotated[int, typer.Option(min=14, max=3660, help="Diary length in days.")] = 180,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Write a CSV diary folder (+ truth.json) here.")
    ] = None,
    db: DbOption = None,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives the same diaries.")
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
    as_json: JsonOption = False,
) -> None:
    """Generate synthetic diaries with known truth, into a CSV folder or the database."""
    try:
        first_day = dt.date.fromisoformat(start)
    except ValueError:
        _fail(f"--start {start!r} is not a date (YYYY-MM-DD)", as_json=as_json)
    _simulated_span_is_past(first_day, days, as_json)
    spec = SimulationSpec(
        patients=patients,
        days=days,
        seed=seed,
        start=first_day,
        chunk_size=chunk_size,
        id_prefix=id_prefix,
    )
    store = None if out_dir is not None else _store(db, as_json, create=True)
    truth_path = truth or (out_dir / "truth.json" if out_dir is not None else Path("truth.json"))
    with _progress() as bar:
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
            _fail(str(exc), as_json=as_json)
    where = str(out_dir) if out_dir is not None else store.url  # type: ignore[union-attr]
    if as_json:
        _emit({"written_to": where, "truth": str(truth_path), "rows": totals})
    else:
        out.print(
            f"Simulated {patients} patients × {days} days → {where} "
            f"({totals['attacks']} attacks); truth in {truth_path}.",
            highlight=False,
        )


@app.command("days")
def days_(
    patient: Annotated[
        list[str] | None, typer.Option("--patient", help="Only this patient (repeatable).")
    ] = None,
    db: DbOption = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write to .csv or .parquet instead of the screen.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The day table (one row per patient per day) that every analysis reads."""
    store = _store(db, as_json)
    table = build_day_table(store.read(patient or None))
    if out_file is not None:
        if out_file.suffix == ".parquet":
            table.write_parquet(out_file)
        else:  # a spreadsheet may open it: no text cell may start as a formula
            import polars as pl

            from painlink.interop.csv_cells import escape_text

            text = [c for c, kind in table.schema.items() if kind == pl.String]
            table.with_columns([escape_text(pl.col(c)) for c in text]).write_csv(out_file)
        if as_json:
            _emit({"file": str(out_file), "rows": table.height})
        else:
            out.print(f"Wrote {table.height} patient-days to {out_file}.", highlight=False)
    elif as_json:
        print(table.write_json())
    else:
        out.print(table)


def _print_summary(store: Store, as_json: bool) -> None:
    summary = diary_summary(build_day_table(store.read()))
    if as_json:
        _emit({"database": store.url, "patients": summary.to_dicts()})
        return
    table = Table(
        title=f"Diaries in {store.url}",
        title_justify="left",
        caption="attacks, headache days and acute-medication days per 30 days of diary",
        caption_justify="left",
    )
    table.add_column("patient", no_wrap=True)
    for name in ("days", "logged", "attacks", "headache d", "acute-med d"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("treatment")
    for row in summary.iter_rows(named=True):
        table.add_row(
            row["patient_id"],
            str(row["days"]),
            f"{row['share_logged']:.0%}",
            f"{row['attacks_per_30d']:.1f}",
            f"{row['headache_days_per_30d']:.1f}",
            f"{row['acute_med_days_per_30d']:.1f}",
            row["treatments"] or "—",
        )
    out.print(table)
    out.print(
        "Rates count what was recorded; these are diaries, not diagnoses. "
        f"Look closer: painlink days --db {store.engine.url} --patient {summary['patient_id'][0]}"
        if summary.height
        else "No diaries yet: painlink import FOLDER or painlink simulate.",
        style="dim",
    )


@app.command()
def summary(db: DbOption = None, as_json: JsonOption = False) -> None:
    """How much each stored diary holds and how often headache came."""
    _print_summary(_store(db, as_json), as_json)


def _serve(
    url: str, host: str, port: int, secure_cookies: bool, *, workers: int = 1, auth: Any = None
) -> None:
    """Replace this process with uvicorn serving the app factory.

    The server is started fresh (exec, same process id) rather than inside this one
    because the CLI has already imported polars, whose thread pool is sized once, at
    first use: in the server each request's analysis runs on one polars thread
    (``POLARS_MAX_THREADS=1`` unless set) — with dozens of request threads on a few
    cores, polars' own parallelism only adds hand-offs (a month's calendar took 27 ms
    with two polars threads, 10 ms with one, measured on the 2-core machine). Each
    uvicorn worker builds its own app and connection pool from the environment."""
    import os

    from painlink.store.audit import audit_key
    from painlink.web.app import SECURE_COOKIES_VAR

    try:
        audit_key()  # an audit key file that cannot be read: a plain message, now
    except ValueError as exc:
        _fail(str(exc))
    os.environ[ENV_VAR] = url
    os.environ[SECURE_COOKIES_VAR] = "1" if secure_cookies else "0"
    if auth is not None:  # the worker processes read their settings from the environment
        os.environ["PAINLINK_REQUIRE_TOTP_FOR_STAFF"] = "1" if auth.require_totp_for_staff else "0"
    os.environ.setdefault("POLARS_MAX_THREADS", "1")
    factory = "painlink.web.app:app_from_environment"
    command = [sys.executable, "-m", "uvicorn", "--factory", factory,
               "--host", host, "--port", str(port), "--log-level", "warning"]  # fmt: skip
    if workers > 1:
        command += ["--workers", str(workers)]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, command)


@app.command()
def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    insecure_cookies: Annotated[
        bool,
        typer.Option(
            help="Also send the session cookie over plain http (only behind a TLS proxy)."
        ),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Worker processes (one per core; see docs/web.md for SQLite and PostgreSQL).",
        ),
    ] = 1,
) -> None:
    """Run the web app. Put it behind HTTPS when other machines can reach it."""
    store = _store(db, False, create=True)
    out.print(f"painlink on http://{host}:{port}/  (database {store.url})", highlight=False)
    url = store.engine.url.render_as_string(hide_password=False)
    store.close()
    _serve(url, host, port, not insecure_cookies, workers=workers)


# A passphrase the strength check accepts (the old "painlink-demo" contains the
# service's name and is refused); it is printed, so demo data only.
DEMO_PASSWORD = "copper kettle meadow"


def _demo_accounts(store: Store) -> list[tuple[str, str]]:
    """A demo clinician who sees most demo patients, an admin, and a login per patient."""
    import sqlalchemy as sa

    from painlink.store.account_tables import users
    from painlink.web import accounts
    from painlink.web.security import hash_password

    logins = [("clinician@demo.painlink", "clinician"), ("admin@demo.painlink", "admin")]
    with store.engine.begin() as conn:
        conn.execute(users.delete())
        accounts.create_staff(
            conn, "clinician@demo.painlink", "Dr. Demo", DEMO_PASSWORD, "clinician"
        )
        accounts.create_staff(conn, "admin@demo.painlink", "Admin", DEMO_PASSWORD, "admin")
        rows = list(
            conn.execute(
                sa.text("SELECT patient_id, display_name FROM patients ORDER BY patient_id")
            )
        )
        hashed = hash_password(DEMO_PASSWORD)
        for i, (pid, name) in enumerate(rows, start=1):
            email = f"patient{i}@demo.painlink"
            conn.execute(
                users.insert().values(
                    email=email,
                    display_name=name,
                    role="patient",
                    password_hash=hashed,
                    patient_id=pid,
                )
            )
            if i <= max(1, len(rows) - 2):  # the last two keep their diary to themselves
                accounts.grant(conn, pid, "clinician@demo.painlink")
            logins.append((email, f"patient {pid}"))
    return logins


@app.command()
def demo(
    db: Annotated[
        str | None,
        typer.Option(
            "--db", help="Demo database URL (default: a fresh demo.db in your data directory)."
        ),
    ] = None,
    patients: Annotated[int, typer.Option(min=1, help="Demo patients.")] = 12,
    serve_app: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the web app afterwards.")
    ] = True,
    port: Annotated[int, typer.Option(help="Port of the web app.")] = 8000,
    as_json: JsonOption = False,
) -> None:
    """Create a fresh demo database with realistic patients, a clinician and an admin,
    then start the web app (the main job)."""
    from platformdirs import user_data_dir

    if db is None:
        path = Path(user_data_dir("painlink")) / "demo.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        db = f"sqlite:///{path}"
    store = _store(db, as_json, create=True)
    existing = store.patient_ids()
    if existing:
        store.delete([p for p in existing if p.startswith("DEMO")])
    spec = SimulationSpec(patients=patients, days=365, seed=2026, id_prefix="DEMO")
    truth_path = Path(user_data_dir("painlink")) / "demo-truth.json"
    run_simulation(spec, store=store, truth_path=truth_path)
    logins = _demo_accounts(store)
    if as_json:
        _print_summary(store, as_json)
        return
    out.print(f"Demo database: {store.url}", highlight=False)
    _print_summary(store, as_json)
    if serve_app:
        out.print(
            f"\nOpen http://127.0.0.1:{port}/ and log in (password for all: {DEMO_PASSWORD}):",
            highlight=False,
        )
        for email, who in logins[:5]:
            out.print(f"  {email:28} {who}", highlight=False)
        auth = _demo_auth()
        if not auth.require_totp_for_staff:
            out.print(
                "Two-step sign-in is optional for the demo's staff accounts "
                "(PAINLINK_REQUIRE_TOTP_FOR_STAFF=1 requires it, as `painlink serve` does).",
                style="dim",
            )
        out.print("Stop with Ctrl+C.", style="dim")
        _serve(
            store.engine.url.render_as_string(hide_password=False),
            "127.0.0.1",
            port,
            True,
            auth=auth,
        )


def _demo_auth() -> Any:
    """The demo's settings: as `serve`, except that staff need no second factor unless
    PAINLINK_REQUIRE_TOTP_FOR_STAFF says so (the demo logins are printed for anyone to
    try on their own machine; an authenticator app should not be needed for that)."""
    import dataclasses
    import os

    from painlink.web.security import AuthSettings

    settings = AuthSettings.from_env()
    if os.environ.get("PAINLINK_REQUIRE_TOTP_FOR_STAFF", "").strip() == "":
        settings = dataclasses.replace(settings, require_totp_for_staff=False)
    return settings


def _print_schema(schema: dict[str, Any]) -> None:
    print(json.dumps(schema, indent=2, default=str))


def _load_json(path: Path, as_json: bool) -> dict[str, Any]:
    from painlink.diary import files

    try:  # a regular file, UTF-8, at most 1 MB and 64 levels deep (diary/files.py)
        data = files.read_json(path, "fhir", str(path))
    except DiaryFormatError as exc:
        _fail(str(exc), as_json=as_json)
    if not isinstance(data, dict):
        _fail(f"{path}: expected a JSON object", as_json=as_json)
    return data


def _validation_error(exc: Exception) -> str:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        parts = []
        for e in exc.errors():
            field = ".".join(str(p) for p in e["loc"]) or "(input)"
            parts.append(f"field {field!r}: {e['msg']}")
        return "; ".join(parts)
    return str(exc)


@app.command("screen")
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
        _print_schema(Presentation.model_json_schema())
        return
    if presentation is None:
        _fail("give a presentation JSON file (or --schema)", code=2, as_json=as_json)
    data = _load_json(presentation, as_json)
    try:
        result = screen(data, ScreeningSettings(older_onset_age=older_onset_age))
    except Exception as exc:
        _fail(_validation_error(exc), as_json=as_json)
    if as_json:
        _emit(result.as_dict())
        return
    style = {"emergency": "bold white on red", "urgent": "bold red", "soon": "bold yellow"}
    out.print(result.summary(), style=style.get(result.urgency), highlight=False)


@app.command("classify")
def classify_(
    diary: Annotated[
        Path | None, typer.Argument(help="A CSV diary folder; omit to read --patient from --db.")
    ] = None,
    patient: Annotated[
        list[str] | None, typer.Option("--patient", help="Only this patient (repeatable).")
    ] = None,
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
        _print_schema({t.csv_file or t.name: t.model.model_json_schema() for t in TABLES})
        return
    if definition not in DEFINITIONS:
        _fail(
            f"unknown --definition {definition!r}; choose {', '.join(DEFINITIONS)}", as_json=as_json
        )
    answers = _load_json(presentation, as_json) if presentation else None
    if diary is not None:
        try:
            frames = read_diary_folder(diary)
        except (FileNotFoundError, DiaryFormatError) as exc:
            _fail(str(exc), as_json=as_json)
    else:
        store = _store(db, as_json)
        if not patient:
            _fail(
                "give a CSV diary folder, or --patient ID to classify from the database",
                as_json=as_json,
            )
        missing = sorted(set(patient) - set(store.patient_ids()))
        if missing:
            _fail(f"no such patient(s): {', '.join(missing)}", as_json=as_json)
        frames = store.read(patient)
    ids = patient or frames.patient_ids()
    unknown = sorted(set(ids) - set(frames.patient_ids()))
    if unknown:
        _fail(f"no such patient(s) in {diary}: {', '.join(unknown)}", as_json=as_json)
    results = []
    for pid in ids:
        try:
            results.append(
                classify(frames.only([pid]), day_definition=definition, presentation=answers)
            )
        except Exception as exc:
            _fail(f"{pid}: {_validation_error(exc)}", as_json=as_json)
    if as_json:
        _emit({"patients": [r.as_dict() for r in results]})
        return
    for r in results:
        _print_classification(r, show_all)


def _print_classification(result: Any, show_all: bool) -> None:
    span = f", diary {result.window[0]} to {result.window[1]}" if result.window else ""
    out.rule(f"[bold]{result.patient_id}[/]  ICHD-3 (2018){span}")
    if result.screen.flags:
        out.print(result.screen.summary(), style="bold red", highlight=False)
    shown = [d for d in result.diagnoses if show_all or d.status in ("met", "probable") or d.refer]
    if not shown:
        out.print("No ICHD-3 diagnosis is fulfilled by this diary yet.", highlight=False)
    marks = {
        "met": "[green]met[/]",
        "not met": "[dim]not met[/]",
        "not evaluable": "[yellow]not evaluable[/]",
        "probable": "[cyan]probable[/]",
    }
    for d in shown:
        refer = "  [bold yellow]→ refer to a specialist[/]" if d.refer else ""
        out.print(f"[bold]{d.code} {d.name}[/]: {marks.get(d.status, d.status)}{refer}")
        for c in d.criteria:
            out.print(
                f"   {c.letter} {marks.get(c.status, c.status)}  {c.requirement}", highlight=False
            )
            out.print(f"       [dim]{c.evidence}[/]", highlight=False)
        for note in d.notes:
            out.print(f"   [italic]{note}[/]", highlight=False)
    out.print(
        f"[dim]Day counts use the {result.day_definition} definition. "
        "ICHD-3 criteria that need a clinician are shown as not evaluable.[/]"
    )


@app.command("score")
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

        _print_schema(QuestionnaireResponse.model_json_schema())
        return
    if instrument is None or response is None:
        _fail("give INSTRUMENT and RESPONSE.json (or --schema)", code=2, as_json=as_json)
    data = _load_json(response, as_json)
    try:
        which = (
            load_questionnaire(questionnaire)
            if questionnaire
            else (None if instrument == "auto" else instrument)
        )
        result = score_response(data, which)
    except QuestionnaireError as exc:
        _fail(str(exc), as_json=as_json)
    if as_json:
        _emit(result.as_dict())
        return
    if not result.computable:
        out.print(result.message, style="yellow", highlight=False)
        return
    pct = f" ({result.percent:g}%)" if result.percent is not None and result.unit != "%" else ""
    out.print(
        f"{result.name}: {result.score:g} {result.unit}{pct} — {result.band}", highlight=False
    )
    if result.missing:
        out.print(f"Unanswered: {', '.join(result.missing)} (prorated by the instrument's rule)")
    if result.important_change is not None:
        out.print(
            f"A change of {result.important_change:g} is the {result.important_change_kind}.",
            style="dim",
        )


def _load_diary(
    diary: Path | None, patient: list[str] | None, db: str | None, as_json: bool
) -> Any:
    """A diary from a CSV folder or the database, limited to the given patients."""
    if diary is not None:
        try:
            frames = read_diary_folder(diary)
        except (FileNotFoundError, DiaryFormatError) as exc:
            _fail(str(exc), as_json=as_json)
        if patient:
            unknown = sorted(set(patient) - set(frames.patient_ids()))
            if unknown:
                _fail(f"no such patient(s) in {diary}: {', '.join(unknown)}", as_json=as_json)
            frames = frames.only(patient)
        return frames
    store = _store(db, as_json)
    if patient:
        missing = sorted(set(patient) - set(store.patient_ids()))
        if missing:
            _fail(f"no such patient(s): {', '.join(missing)}", as_json=as_json)
    return store.read(patient or None)


@app.command("analyze")
def analyze_(
    diary: Annotated[
        Path | None, typer.Argument(help="A CSV diary folder; omit to read from --db.")
    ] = None,
    patient: Annotated[
        list[str] | None, typer.Option("--patient", help="Only this patient (repeatable).")
    ] = None,
    db: DbOption = None,
    plots: Annotated[
        Path | None,
        typer.Option(
            help="Write each patient's pictures into this folder: triggers (forest plot), "
            "neck/back pain around attacks, outcomes, forecast."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Triggers and protectors, neck/back pain timing, treatment outcomes and forecast."""
    from painlink.analysis.report import analyze

    frames = _load_diary(diary, patient, db, as_json)
    with _progress() as bar:
        bar.add_task("Analysing", total=None)
        report = analyze(frames)
    if plots is not None:
        plots.mkdir(parents=True, exist_ok=True)
        import matplotlib.pyplot as plt

        from painlink.analysis.plotting import PICTURES

        for pid in frames.patient_ids():
            for name in PICTURES:
                plt.close(getattr(report, name).plot(pid, str(plots / f"{pid}-{name}.png")))
    if as_json:
        _emit(report.as_dict())
        return
    for pid in frames.patient_ids():
        out.print(report.text(pid), highlight=False)


experiment_app = typer.Typer(
    help="N-of-1 experiments: design one, then analyse it.", no_args_is_help=True
)
app.add_typer(experiment_app, name="experiment")


@experiment_app.command("design")
def experiment_design(
    patient: Annotated[str, typer.Option("--patient", help="The patient.")],
    change: Annotated[str, typer.Option(help="What changes in 'on' blocks, e.g. 'no caffeine'.")],
    start: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")],
    diary: Annotated[Path | None, typer.Option(help="CSV diary folder (else --db).")] = None,
    db: DbOption = None,
    block_days: Annotated[int, typer.Option(min=7, max=90, help="Days per block.")] = 14,
    pairs: Annotated[int, typer.Option(min=2, max=24, help="Pairs of on/off blocks.")] = 4,
    rate_ratio: Annotated[
        float, typer.Option(help="Effect to detect (attack rate on / off).")
    ] = 0.6,
    seed: Annotated[int | None, typer.Option(help="Seed of the random order.")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="Save the design as JSON.")] = None,
    as_json: JsonOption = False,
) -> None:
    """A randomised on/off block schedule with its power, from the patient's own history."""
    from painlink.analysis.nof1 import design_experiment
    from painlink.days.day_table import build_day_table

    try:
        first = dt.date.fromisoformat(start)
    except ValueError:
        _fail(f"--start {start!r} is not a date (YYYY-MM-DD)", as_json=as_json)
    frames = _load_diary(diary, [patient], db, as_json)
    try:
        design = design_experiment(
            build_day_table(frames),
            change,
            first,
            block_days=block_days,
            pairs=pairs,
            rate_ratio=rate_ratio,
            seed=seed,
        )
    except ValueError as exc:
        _fail(str(exc), as_json=as_json)
    if out_file is not None:
        out_file.write_text(json.dumps(design.as_dict(), indent=2, default=str), encoding="utf-8")
    if as_json:
        _emit(design.as_dict())
        return
    out.print(
        f"Experiment for {patient}: {change}, {pairs} pairs of {block_days}-day blocks",
        highlight=False,
    )
    for b in design.blocks:
        out.print(
            f"  pair {b.pair}: {b.start} to {b.end}  {'ON ' if b.condition == 'on' else 'off'}",
            highlight=False,
        )
    needed = design.pairs_for_80_percent
    out.print(
        f"Power to detect a rate ratio of {rate_ratio:g}: {design.power:.0%} "
        f"(history: {design.baseline_attacks_per_28d:.1f} attacks per 28 days). "
        + (f"{needed} pairs would give 80%." if needed else "Even 24 pairs would not give 80%."),
        highlight=False,
    )


@experiment_app.command("analyze")
def experiment_analyze(
    design_file: Annotated[
        Path, typer.Argument(help="The design JSON written by 'experiment design'.")
    ],
    diary: Annotated[Path | None, typer.Option(help="CSV diary folder (else --db).")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Attacks in 'on' against 'off' blocks, with the test the power assumed."""
    from painlink.analysis.nof1 import Block, ExperimentDesign, analyze_experiment
    from painlink.days.day_table import build_day_table

    data = _load_json(design_file, as_json)
    try:
        blocks = [
            Block(
                b["pair"],
                b["condition"],
                dt.date.fromisoformat(b["start"]),
                dt.date.fromisoformat(b["end"]),
            )
            for b in data.pop("blocks")
        ]
        design = ExperimentDesign(**data, blocks=blocks)
    except (KeyError, TypeError, ValueError) as exc:
        _fail(f"{design_file}: not a painlink experiment design ({exc})", as_json=as_json)
    frames = _load_diary(diary, [design.patient_id], db, as_json)
    try:
        result = analyze_experiment(build_day_table(frames), design)
    except ValueError as exc:
        _fail(str(exc), as_json=as_json)
    if as_json:
        from dataclasses import asdict

        _emit(asdict(result))
        return
    out.print(result.message, highlight=False)


@app.command()
def delete(
    patient: Annotated[list[str], typer.Argument(help="Patient id(s) to delete.")],
    db: DbOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Delete patients and everything they recorded."""
    store = _store(db, as_json)
    missing = sorted(set(patient) - set(store.patient_ids()))
    if missing:
        _fail(f"no such patient(s): {', '.join(missing)}", as_json=as_json)
    if not yes and not (
        sys.stdin.isatty() and typer.confirm(f"Delete {', '.join(patient)} and all their entries?")
    ):
        _fail("not deleted (pass --yes to confirm)", as_json=as_json)
    deleted = store.delete(patient)
    if as_json:
        _emit({"deleted": deleted})
    else:
        out.print(f"Deleted {deleted} patient(s).")


# ------------------------------------------------------------------ audit, backup, restore


def _audit_cli(store: Store, action: str, resource: str, patient_ids: Any = (None,)) -> None:
    """An audit row per patient for health data read out or changed from the command
    line (the web app audits its own)."""
    from painlink.store import audit
    from painlink.store.store import cli_audit_row

    with store.writing() as conn:
        audit.append(conn, [cli_audit_row(action, resource, p) for p in patient_ids])


audit_app = typer.Typer(
    help="The audit trail: append-only and hash-chained; verify it.", no_args_is_help=True
)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(
    db: DbOption = None,
    anchor: Annotated[
        Path | None,
        typer.Option(
            "--anchor",
            help="A file outside the database: every head recorded there must still be in "
            "the chain; on success the current head is added to it.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check every audit row: edits, deletions, insertions and reordering are found and
    the first bad row is named (exit 1). Set PAINLINK_AUDIT_KEY(_FILE) to check HMACs."""
    from painlink.store import audit

    store = _store(db, as_json)
    try:
        anchors = audit.read_anchors(anchor) if anchor else []
        key = audit.audit_key()
    except (OSError, ValueError) as exc:
        _fail(str(exc), as_json=as_json)
    with store.engine.connect() as conn:
        # one snapshot, so rows and head agree while the app keeps appending (SQLite's
        # read transaction is one already)
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            verdict = audit.verify(conn, key, anchors)
    if not verdict.ok:
        _fail(
            f"the audit trail does not hold: {verdict.problem} (first bad row: {verdict.bad_seq})",
            as_json=as_json,
            **{k: v for k, v in verdict.as_dict().items() if k != "ok"},
        )
    if anchor:
        audit.write_anchor(anchor, verdict)
    if as_json:
        _emit(verdict.as_dict())
        return
    out.print(
        f"The audit trail holds: {verdict.rows} rows, head {verdict.head_seq} "
        f"{verdict.head_hash}"
        + (f"; {verdict.anchors_checked} anchor(s) checked" if anchor else "")
        + ".",
        highlight=False,
    )
    for note in verdict.notes:
        out.print(note, highlight=False)


@app.command("backup")
def backup_(
    target: Annotated[
        list[str],
        typer.Argument(
            metavar="FILE | verify FILE",
            help="Where to write the backup; or 'verify FILE' to check one.",
            show_default=False,
        ),
    ],
    db: DbOption = None,
    scratch_db: Annotated[
        str | None,
        typer.Option(
            "--scratch-db",
            help="verify: an empty PostgreSQL database to restore into and check every table.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """A consistent backup of the whole database (diaries, accounts, grants, audit
    trail) while the app keeps running, with a checksum of every table. `painlink
    backup verify FILE` checks a backup without restoring it."""
    from painlink.store import backup

    if len(target) == 2 and target[0] == "verify":
        try:
            manifest = backup.verify(Path(target[1]), scratch_db)
        except backup.BackupError as exc:
            _fail(str(exc), as_json=as_json)
        _backup_report(f"{target[1]} holds", manifest, as_json)
        return
    if len(target) != 1:
        _fail("give one FILE to write, or 'verify FILE'", as_json=as_json)
    store = _store(db, as_json)
    _audit_cli(store, "backup", f"whole database to {Path(target[0]).name}"[:200])
    try:
        manifest = backup.backup(
            store.engine.url.render_as_string(hide_password=False), Path(target[0])
        )
    except backup.BackupError as exc:
        _fail(f"{exc}; no backup was written", as_json=as_json)
    except OSError as exc:  # the target cannot be written
        _fail(f"{target[0]}: {exc.strerror or exc}; no backup was written", as_json=as_json)
    _backup_report(f"Backed up {store.url} to {target[0]}:", manifest, as_json)


def _backup_report(head: str, manifest: dict[str, Any], as_json: bool) -> None:
    tables = manifest["tables"]
    if as_json:
        _emit({"manifest": manifest})
        return
    out.print(
        f"{head} {len(tables)} tables, {sum(t['rows'] for t in tables.values())} rows "
        f"({manifest['dialect']}, schema {manifest['revision']}); every table's checksum "
        "matches.",
        highlight=False,
    )


@app.command("restore")
def restore_(
    source: Annotated[Path, typer.Argument(help="A file written by `painlink backup`.")],
    db: DbOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a database that already holds data.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Restore a backup after checking its checksums; all of it or nothing. Stop the
    web app first. The restore itself is added to the restored audit trail."""
    from painlink.store import audit, backup
    from painlink.store.store import cli_audit_row

    store = Store(db)
    url = store.engine.url.render_as_string(hide_password=False)
    try:
        manifest = backup.restore(source, url, force=force)
    except backup.BackupError as exc:
        _fail(str(exc), as_json=as_json)
    except Exception as exc:  # a URL that cannot be reached
        _fail(f"cannot restore into {store.url}: {exc}", as_json=as_json)
    store.close()
    store = Store(db)
    if manifest.get("revision") and "audit_chain_head" in manifest["tables"]:
        with store.writing() as conn:
            audit.append(conn, [cli_audit_row("restore", f"backup {manifest['created_at']}")])
    _backup_report(f"Restored {store.url} from {source}:", manifest, as_json)
    from painlink.store import migrate

    if not as_json and manifest.get("revision") != migrate.head_revision(store.engine):
        out.print(
            f"The backup has schema {manifest.get('revision')}; run `painlink init` to bring "
            f"it to {migrate.head_revision(store.engine)}.",
            highlight=False,
        )


if __name__ == "__main__":
    app()
