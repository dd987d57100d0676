"""What every command shares: the --db and --json options, the consoles, errors and
the database opened from a URL.

Nothing heavy is imported at module level (no polars, SQLAlchemy, statsmodels): the
modules of this package are imported for ``painlink --help``, which should answer at
once; each command imports what it needs when it runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from rich.progress import Progress

    from painlink.diary.frames import DiaryFrames
    from painlink.store.store import Store

#: as painlink.store.engine.ENV_VAR (a test keeps them equal): the option's default
#: must be declared without importing the engine module, which imports SQLAlchemy
ENV_VAR = "PAINLINK_DATABASE_URL"

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
PatientsOption = Annotated[
    list[str] | None, typer.Option("--patient", help="Only this patient (repeatable).")
]


def fail(message: str, code: int = 1, as_json: bool = False, **extra: Any) -> NoReturn:
    """End the command: the message on stderr (or a JSON error on stdout), exit ``code``."""
    if as_json:
        print(json.dumps({"ok": False, "error": message, **extra}, default=str))
    else:
        err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code)


def emit(data: dict[str, Any]) -> None:
    print(json.dumps({"ok": True, **data}, default=str, indent=2))


def print_schema(schema: dict[str, Any]) -> None:
    print(json.dumps(schema, indent=2, default=str))


def open_store(db: str | None, as_json: bool, create: bool = False) -> Store:
    """The database at ``db``, created or upgraded with ``create``, else checked to be
    at this version's schema; any problem ends the command with a plain message."""
    from painlink.store.store import NotInitialisedError, Store

    store = Store(db)
    try:
        if create:
            store.init()
        else:
            store.check()
    except NotInitialisedError as exc:
        fail(str(exc), as_json=as_json)
    except Exception as exc:  # a URL that cannot be reached or parsed
        fail(f"cannot open the database {db or store.url}: {exc}", as_json=as_json)
    return store


def progress() -> Progress:
    """A progress bar on stderr, shown only on a terminal (never in captured output)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


def missing_patients(store: Store, wanted: list[str], as_json: bool) -> None:
    """End the command if any of ``wanted`` is not in the database."""
    missing = sorted(set(wanted) - set(store.patient_ids()))
    if missing:
        fail(f"no such patient(s): {', '.join(missing)}", as_json=as_json)


def read_folder(folder: Path, as_json: bool) -> DiaryFrames:
    """A CSV diary folder; a missing folder or a bad file ends the command."""
    from painlink.diary.errors import DiaryFormatError
    from painlink.interop.csv_diary import read_diary_folder

    try:
        return read_diary_folder(folder)
    except (FileNotFoundError, DiaryFormatError) as exc:
        fail(str(exc), as_json=as_json)


def load_diary(
    diary: Path | None, patient: list[str] | None, db: str | None, as_json: bool
) -> DiaryFrames:
    """A diary from a CSV folder or the database, limited to the given patients."""
    if diary is not None:
        frames = read_folder(diary, as_json)
        if patient:
            unknown = sorted(set(patient) - set(frames.patient_ids()))
            if unknown:
                fail(f"no such patient(s) in {diary}: {', '.join(unknown)}", as_json=as_json)
            frames = frames.only(patient)
        return frames
    store = open_store(db, as_json)
    if patient:
        missing_patients(store, patient, as_json)
    return store.read(patient or None)


def load_json(path: Path, as_json: bool) -> dict[str, Any]:
    from painlink.diary import files
    from painlink.diary.errors import DiaryFormatError

    try:  # a regular file, UTF-8, at most 1 MB and 64 levels deep (interop/files.py)
        data = files.read_json(path, "fhir", str(path))
    except DiaryFormatError as exc:
        fail(str(exc), as_json=as_json)
    if not isinstance(data, dict):
        fail(f"{path}: expected a JSON object", as_json=as_json)
    return data


def validation_error(exc: Exception) -> str:
    """A pydantic error as one line naming each bad field; any other error as is."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        parts = []
        for e in exc.errors():
            field = ".".join(str(p) for p in e["loc"]) or "(input)"
            parts.append(f"field {field!r}: {e['msg']}")
        return "; ".join(parts)
    return str(exc)


def audit_cli(store: Store, action: str, resource: str, patient_ids: Any = (None,)) -> None:
    """An audit row per patient for health data read out or changed from the command
    line (the web app audits its own)."""
    from painlink.store import audit
    from painlink.store.store import cli_audit_row

    with store.writing() as conn:
        audit.append(conn, [cli_audit_row(action, resource, p) for p in patient_ids])
