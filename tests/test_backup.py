"""painlink backup / restore: a consistent copy of every table while the app writes,
checked by per-table checksums, refused when damaged, never over data without --force."""

from __future__ import annotations

import io
import json
import tarfile
import threading
import uuid
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from painlink.cli import app
from painlink.store import audit, backup
from painlink.store.account_tables import audit_log, grants, users
from painlink.store.store import Store
from painlink.store.tables import metadata
from tests.test_web import Web

runner = CliRunner()

#: every table painlink keeps (15 diary tables, 6 of accounts and audit), and Alembic's
ALL_TABLES = {*metadata.tables, "alembic_version"}


def _other_db(request: pytest.FixtureRequest, db_url: str, tmp_path: Path) -> str:
    """An empty database of the same kind to restore into."""
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'restored' / 'painlink.db'}"
    server = request.getfixturevalue("postgres_server")
    name = f"r_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server.rpartition('/')[0]}/{name}"


def _populate(tmp_path: Path, url: str) -> Web:
    """Accounts, a grant, diary entries and audit rows, through the web app."""
    web = Web(tmp_path, url)
    ana, _pid, csrf = web.patient("ana")
    ana.post("/attacks/start", data={"csrf_token": csrf})
    web.clinician("doc")
    ana.post("/sharing", data={"csrf_token": csrf, "clinician_email": "doc@clinic.org"})
    return web


def test_backup_while_writing_restores_every_acknowledged_row(
    db_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    web = _populate(tmp_path, db_url)
    store: Store = web.app.state.store
    acked: list[int] = []
    stop = threading.Event()
    started = threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set():
            with store.writing() as conn:
                audit.record(conn, "write", f"w{i}")
            acked.append(i)  # acknowledged: the transaction committed
            i += 1
            if i == 50:
                started.set()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert started.wait(60)
        before = set(acked)  # every write acknowledged before the backup starts
        file = tmp_path / "painlink.backup"
        result = runner.invoke(app, ["backup", str(file), "--db", db_url, "--json"])
        assert result.exit_code == 0, result.output
        during = len(acked)
    finally:
        stop.set()
        thread.join()
    assert during > len(before)  # the writer kept going while the backup ran
    manifest = json.loads(result.stdout)["manifest"]
    assert set(manifest["tables"]) == ALL_TABLES and len(ALL_TABLES) >= 22
    assert manifest["tables"]["users"]["rows"] == 2 and manifest["tables"]["grants"]["rows"] == 1
    assert runner.invoke(app, ["backup", "verify", str(file)]).exit_code == 0

    target = _other_db(request, db_url, tmp_path)
    result = runner.invoke(app, ["restore", str(file), "--db", target])
    assert result.exit_code == 0, result.output
    restored = Store(target)
    with restored.engine.connect() as conn:
        written = set(
            conn.execute(
                sa.select(audit_log.c.resource).where(audit_log.c.resource.like("w%"))
            ).scalars()
        )
        assert {f"w{i}" for i in before} <= written
        assert conn.execute(sa.select(sa.func.count()).select_from(users)).scalar() == 2
        assert conn.execute(sa.select(sa.func.count()).select_from(grants)).scalar() == 1
        assert audit.verify(conn).ok  # the chain holds, the restore row included
        actions = conn.execute(sa.select(audit_log.c.action)).scalars().all()
        assert actions[-1] == "restore"
    # the restored database is the backup, table for table (bar the restore's audit row)
    now = backup.database_checksums(target)
    for name, info in manifest["tables"].items():
        if name not in {"audit_log", "audit_chain_head"}:
            assert now[name] == info, name
    assert now["audit_log"]["rows"] == manifest["tables"]["audit_log"]["rows"] + 1
    # a restored account still logs in
    web2 = Web(tmp_path / "second", target)
    web2.login("ana@x.org")


@pytest.mark.slow
def test_restore_refuses_a_non_empty_database_without_force(
    db_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    _populate(tmp_path, db_url)
    file = tmp_path / "b.backup"
    assert runner.invoke(app, ["backup", str(file), "--db", db_url]).exit_code == 0
    if db_url.startswith("postgresql"):  # a full check: restore into a scratch database
        scratch = _other_db(request, db_url, tmp_path)
        checked = runner.invoke(app, ["backup", "verify", str(file), "--scratch-db", scratch])
        assert checked.exit_code == 0, checked.output
    target = _other_db(request, db_url, tmp_path)
    Store(target).init()  # an empty, initialised database may be restored into
    first = runner.invoke(app, ["restore", str(file), "--db", target])
    assert first.exit_code == 0, first.output
    refused = runner.invoke(app, ["restore", str(file), "--db", target])
    assert refused.exit_code == 1 and "already holds data" in refused.output
    forced = runner.invoke(app, ["restore", str(file), "--db", target, "--force"])
    assert forced.exit_code == 0, forced.output


def _tamper(file: Path, out: Path, change) -> None:  # type: ignore[no-untyped-def]
    """Rewrite a backup archive with one member changed by ``change(name, bytes)``."""
    with tarfile.open(file) as src, tarfile.open(out, "w") as dst:
        for member in src.getmembers():
            data = change(member.name, src.extractfile(member).read())  # type: ignore[union-attr]
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))


@pytest.mark.slow
def test_a_damaged_or_altered_backup_is_refused_and_nothing_restored(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    _populate(tmp_path, url)
    file = tmp_path / "b.backup"
    assert runner.invoke(app, ["backup", str(file), "--db", url]).exit_code == 0

    def flip_byte(name: str, data: bytes) -> bytes:
        if name != "database.sqlite":
            return data
        i = data.find(b"ana@x.org")
        return data[:i] + b"eve" + data[i + 3 :]

    def edit_manifest(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["tables"]["users"]["rows"] = 3
        return json.dumps(manifest).encode()

    for change in (flip_byte, edit_manifest):
        bad = tmp_path / f"{change.__name__}.backup"
        _tamper(file, bad, change)
        verdict = runner.invoke(app, ["backup", "verify", str(bad)])
        assert verdict.exit_code == 1, change.__name__
        target = tmp_path / change.__name__ / "painlink.db"
        result = runner.invoke(app, ["restore", str(bad), "--db", f"sqlite:///{target}"])
        assert result.exit_code == 1 and "checksum" in result.output
        assert not target.exists()
    not_a_backup = tmp_path / "x.backup"
    not_a_backup.write_text("hello")
    result = runner.invoke(app, ["restore", str(not_a_backup), "--db", url])
    assert result.exit_code == 1 and "not a painlink backup" in result.output


@pytest.mark.slow
def test_a_backup_is_restored_only_into_its_own_kind_of_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    _populate(tmp_path, url)
    file = tmp_path / "b.backup"
    assert runner.invoke(app, ["backup", str(file), "--db", url]).exit_code == 0
    result = runner.invoke(app, ["restore", str(file), "--db", "postgresql://x@127.0.0.1:1/x"])
    assert result.exit_code == 1 and "sqlite backup" in result.output
