"""``painlink entry …``: correct one diary entry from the command line, as the web app
does (painlink/services/corrections.py) — edit, delete, undo a delete, and list the
corrections. Each change is audited in the same transaction, the operating-system user
standing for "who"."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from painlink.cli.common import DbOption, JsonOption, emit, fail, open_store, out

entry_app = typer.Typer(help="Correct one diary entry: edit, delete, undo a delete.")

KindArg = Annotated[str, typer.Argument(help="attack, reading, medication, spine, day, factor")]
EntryArg = Annotated[
    str, typer.Argument(help="The attack id, row id, date, or date/name of an own factor.")
]
PatientOpt = Annotated[str, typer.Option("--patient", help="Whose diary.")]


def _change(action: str, patient: str, entry: str, db: str | None, as_json: bool, fn: Any) -> Any:
    from painlink.services.diary import EntryError
    from painlink.store import audit
    from painlink.store.store import cli_audit_row

    store = open_store(db, as_json)
    try:
        with store.writing() as conn:
            result = fn(conn)
            audit.append(conn, [cli_audit_row(action, entry, patient)])
    except EntryError as exc:
        fail(str(exc), as_json=as_json, fields=exc.fields)
    return result


@entry_app.command("edit")
def edit(
    kind: KindArg,
    entry: EntryArg,
    patient: PatientOpt,
    set_: Annotated[
        list[str], typer.Option("--set", help='field=value (JSON value), e.g. --set "nrs=6".')
    ],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change fields of one entry; the entry is validated again as a whole."""
    from painlink.services import corrections

    changes: dict[str, Any] = {}
    for item in set_:
        name, sep, raw = item.partition("=")
        if not sep:
            fail(f"--set {item!r}: use field=value", as_json=as_json)
        try:
            changes[name] = json.loads(raw)
        except ValueError:
            changes[name] = raw
    key_text = entry

    def work(conn: Any) -> Any:
        key = corrections.key_from_text(kind, key_text)
        return corrections.edit_entry(conn, patient, kind, key, changes)

    _change("edit", patient, f"{kind} {entry}", db, as_json, work)
    emit({"edited": f"{kind} {entry}"}) if as_json else out.print(f"Corrected {kind} {entry}.")


@entry_app.command("delete")
def delete(
    kind: KindArg,
    entry: EntryArg,
    patient: PatientOpt,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Delete one entry (an attack with its ratings, aura and medications)."""
    from painlink.services import corrections

    def work(conn: Any) -> int:
        return corrections.delete_entry(conn, patient, kind, corrections.key_from_text(kind, entry))

    done = _change("delete", patient, f"{kind} {entry}", db, as_json, work)
    if as_json:
        emit({"deleted": f"{kind} {entry}", "correction_id": done})
    else:
        out.print(f"Deleted {kind} {entry}. Undo: painlink entry undo {done} --patient {patient}")


@entry_app.command("undo")
def undo(
    correction: Annotated[int, typer.Argument(help="The id a delete printed.")],
    patient: PatientOpt,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Put a deleted entry back as it was (within the undo window)."""
    from painlink.services import corrections

    done = _change(
        "undo",
        patient,
        f"correction {correction}",
        db,
        as_json,
        lambda conn: corrections.undo_delete(conn, patient, correction),
    )
    name = f"{done['kind']} {done['entry_key']}"
    emit({"restored": name}) if as_json else out.print(f"Restored {name}.")


@entry_app.command("corrections")
def list_(patient: PatientOpt, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Which entries of this diary were edited or deleted, and when (UTC)."""
    from painlink.services import corrections

    store = open_store(db, as_json)
    with store.engine.connect() as conn:
        rows = corrections.corrections(conn, patient)
    if as_json:
        emit({"corrections": rows})
        return
    for r in rows:
        state = "restored" if r["undone_at"] else r["action"]
        out.print(f"{r['at']:%Y-%m-%d %H:%M} UTC  {state:8}  {r['kind']} {r['entry_key']}")
