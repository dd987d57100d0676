"""The database itself: create or upgrade it, delete patients, verify the audit trail,
back it up and restore it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from painlink.cli import render
from painlink.cli.common import (
    DbOption,
    JsonOption,
    audit_cli,
    emit,
    fail,
    missing_patients,
    open_store,
    out,
)


def init(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Create the database, or upgrade it to this version's schema."""
    from painlink.store.store import Store

    store = Store(db)
    try:
        revision = store.init()
    except Exception as exc:
        fail(f"cannot initialise {store.url}: {exc}", as_json=as_json)
    if as_json:
        emit({"database": store.url, "revision": revision})
    else:
        out.print(f"Database ready: {store.url} (schema revision {revision})", highlight=False)


def summaries(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Compute every stale clinic-list summary now (after upgrading a database that
    holds many patients, so the first clinician's list load does not wait for it)."""
    import time

    from painlink.services.clinic_list import refresh

    store = open_store(db, as_json)
    start = time.perf_counter()
    computed = refresh(store, None)
    seconds = round(time.perf_counter() - start, 1)
    if as_json:
        emit({"computed": computed, "seconds": seconds})
    else:
        out.print(f"Computed {computed} patient summaries in {seconds} s.")


def delete(
    patient: Annotated[list[str], typer.Argument(help="Patient id(s) to delete.")],
    db: DbOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Delete patients and everything they recorded."""
    store = open_store(db, as_json)
    missing_patients(store, patient, as_json)
    if not yes and not (
        sys.stdin.isatty() and typer.confirm(f"Delete {', '.join(patient)} and all their entries?")
    ):
        fail("not deleted (pass --yes to confirm)", as_json=as_json)
    deleted = store.delete(patient)
    if as_json:
        emit({"deleted": deleted})
    else:
        out.print(f"Deleted {deleted} patient(s).")


audit_app = typer.Typer(
    help="The audit trail: append-only and hash-chained; verify it.", no_args_is_help=True
)


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

    store = open_store(db, as_json)
    try:
        anchors = audit.read_anchors(anchor) if anchor else []
        key = audit.audit_key()
    except (OSError, ValueError) as exc:
        fail(str(exc), as_json=as_json)
    with store.engine.connect() as conn:
        # one snapshot, so rows and head agree while the app keeps appending (SQLite's
        # read transaction is one already)
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            verdict = audit.verify(conn, key, anchors)
    if not verdict.ok:
        fail(
            f"the audit trail does not hold: {verdict.problem} (first bad row: {verdict.bad_seq})",
            as_json=as_json,
            **{k: v for k, v in verdict.as_dict().items() if k != "ok"},
        )
    if anchor:
        audit.write_anchor(anchor, verdict)
    if as_json:
        emit(verdict.as_dict())
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
            fail(str(exc), as_json=as_json)
        render.backup_report(f"{target[1]} holds", manifest, as_json)
        return
    if len(target) != 1:
        fail("give one FILE to write, or 'verify FILE'", as_json=as_json)
    store = open_store(db, as_json)
    audit_cli(store, "backup", f"whole database to {Path(target[0]).name}"[:200])
    try:
        manifest = backup.backup(
            store.engine.url.render_as_string(hide_password=False), Path(target[0])
        )
    except backup.BackupError as exc:
        fail(f"{exc}; no backup was written", as_json=as_json)
    except OSError as exc:  # the target cannot be written
        fail(f"{target[0]}: {exc.strerror or exc}; no backup was written", as_json=as_json)
    render.backup_report(f"Backed up {store.url} to {target[0]}:", manifest, as_json)


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
    from painlink.store import audit, backup, migrate
    from painlink.store.store import Store, cli_audit_row

    store = Store(db)
    url = store.engine.url.render_as_string(hide_password=False)
    try:
        manifest = backup.restore(source, url, force=force)
    except backup.BackupError as exc:
        fail(str(exc), as_json=as_json)
    except Exception as exc:  # a URL that cannot be reached
        fail(f"cannot restore into {store.url}: {exc}", as_json=as_json)
    store.close()
    store = Store(db)
    if manifest.get("revision") and "audit_chain_head" in manifest["tables"]:
        with store.writing() as conn:
            audit.append(conn, [cli_audit_row("restore", f"backup {manifest['created_at']}")])
    render.backup_report(f"Restored {store.url} from {source}:", manifest, as_json)
    if not as_json and manifest.get("revision") != migrate.head_revision(store.engine):
        out.print(
            f"The backup has schema {manifest.get('revision')}; run `painlink init` to bring "
            f"it to {migrate.head_revision(store.engine)}.",
            highlight=False,
        )
