"""The audit trail as evidence: append-only, hash-chained, verified; refusals and CLI
writes audited; no health content for the admin. Every tampering is done the way a
database user would: drop the append-only triggers first, then change rows."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from painlink.cli import app
from painlink.store import audit, migrate
from painlink.store.account_tables import audit_chain_head, audit_log
from painlink.store.store import Store

runner = CliRunner()


def _store(url: str, rows: int = 6) -> Store:
    store = Store(url)
    store.init()
    with store.writing() as conn:
        for i in range(rows):
            audit.record(conn, "read", f"attacks {i}", f"P{i:03d}", user_id=i, role="patient")
    return store


def _verify(store: Store, key: bytes | None = None, anchors: list | None = None) -> audit.Verdict:
    with store.engine.connect() as conn:
        return audit.verify(conn, key, anchors or [])


def _attack(store: Store, *statements: str) -> None:
    """Run statements as a database user who first removes the append-only triggers."""
    with store.engine.begin() as conn:
        audit.drop_triggers(conn)
        for sql in statements:
            conn.exec_driver_sql(sql)


def _in_threads(worker: Any, n: int) -> None:
    """Run ``worker(0)`` … ``worker(n - 1)`` at once, each in its own thread, and wait."""
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_an_untouched_chain_verifies(db_url: str) -> None:
    store = _store(db_url)
    verdict = _verify(store)
    assert verdict.ok and verdict.rows == 6 and verdict.head_seq == 6


def test_triggers_refuse_update_delete(db_url: str) -> None:
    store = _store(db_url)
    for sql in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        with (
            pytest.raises(sa.exc.DatabaseError, match="append-only"),
            store.engine.begin() as conn,
        ):
            conn.exec_driver_sql(sql)
    if store.engine.dialect.name == "postgresql":
        with (
            pytest.raises(sa.exc.DatabaseError, match="append-only"),
            store.engine.begin() as conn,
        ):
            conn.exec_driver_sql("TRUNCATE audit_log")
    assert _verify(store).ok


TAMPERING = {
    # name: (statements, first bad seq)
    "edit a field": (["UPDATE audit_log SET patient_id = 'P999' WHERE seq = 3"], 3),
    "edit the time": (["UPDATE audit_log SET at = '2020-01-01 00:00:00' WHERE seq = 2"], 2),
    "delete a row": (["DELETE FROM audit_log WHERE seq = 4"], 4),
    "delete the first row": (["DELETE FROM audit_log WHERE seq = 1"], 1),
    "delete the last row": (["DELETE FROM audit_log WHERE seq = 6"], 6),
    "delete every row": (["DELETE FROM audit_log"], 1),
    "swap two rows": (
        [
            "UPDATE audit_log SET seq = -1 WHERE seq = 2",
            "UPDATE audit_log SET seq = 2 WHERE seq = 5",
            "UPDATE audit_log SET seq = 5 WHERE seq = -1",
        ],
        2,
    ),
    "renumber to close a gap": (
        ["DELETE FROM audit_log WHERE seq = 3", "UPDATE audit_log SET seq = seq - 1 WHERE seq > 3"],
        3,
    ),
    "insert a forged row": (
        [
            "INSERT INTO audit_log (at, action, resource, seq, hash_kind, prev_hash, row_hash) "
            f"VALUES ('2026-01-01 00:00:00', 'read', 'x', 7, 'sha256', '{'0' * 64}', "
            f"'{'1' * 64}')"
        ],
        7,
    ),
}


@pytest.mark.parametrize("kind", list(TAMPERING))
def test_every_tampering_is_found_and_the_first_bad_row_named(db_url: str, kind: str) -> None:
    store = _store(db_url)
    statements, bad = TAMPERING[kind]
    _attack(store, *statements)
    verdict = _verify(store)
    assert not verdict.ok and verdict.bad_seq == bad, verdict.problem
    result = runner.invoke(app, ["audit", "verify", "--db", db_url, "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["first_bad_seq"] == bad


def _forge_tail(store: Store, key: bytes | None) -> None:
    """The strongest attack without the key: delete the last row and rewrite the head
    so that log and head agree again (a recomputed chain looks the same)."""
    with store.engine.connect() as conn:
        row = conn.execute(
            sa.select(audit_log.c.seq, audit_log.c.row_hash).where(audit_log.c.seq == 5)
        ).one()
    _attack(
        store,
        "DELETE FROM audit_log WHERE seq = 6",
        f"UPDATE audit_chain_head SET seq = 5, row_hash = '{row.row_hash}'",
    )


def test_a_rewritten_head_is_caught_by_an_anchor_outside_the_database(
    db_url: str, tmp_path: Path
) -> None:
    store = _store(db_url)
    anchor = tmp_path / "audit-anchor.jsonl"
    ok = runner.invoke(app, ["audit", "verify", "--db", db_url, "--anchor", str(anchor)])
    assert ok.exit_code == 0, ok.output
    assert json.loads(anchor.read_text())["seq"] == 6
    _forge_tail(store, None)
    assert _verify(store).ok  # what is not detectable without an anchor or a key
    caught = runner.invoke(app, ["audit", "verify", "--db", db_url, "--anchor", str(anchor)])
    assert caught.exit_code == 1 and "row 6" in caught.output


def test_with_a_key_a_recomputed_row_is_caught(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(audit.KEY_ENV, "a key kept outside the database")
    store = _store(db_url)
    assert _verify(store, audit.audit_key()).ok
    # the attacker edits row 6 and recomputes its hash as plain SHA-256 (no key)
    with store.engine.connect() as conn:
        row = dict(conn.execute(sa.select(audit_log).where(audit_log.c.seq == 6)).mappings().one())
    row["patient_id"] = "P999"
    forged = audit.row_hash(row, row["prev_hash"], audit.SHA256, None)
    _attack(
        store,
        f"UPDATE audit_log SET patient_id = 'P999', hash_kind = 'sha256', row_hash = '{forged}' "
        "WHERE seq = 6",
        f"UPDATE audit_chain_head SET row_hash = '{forged}'",
    )
    verdict = _verify(store, audit.audit_key())
    assert not verdict.ok and verdict.bad_seq == 6 and "downgraded" in str(verdict.problem)
    # and an HMAC made with a guessed key does not match
    guess = audit.row_hash(row, row["prev_hash"], audit.HMAC, b"guess")
    _attack(
        store,
        f"UPDATE audit_log SET hash_kind = 'hmac-sha256', row_hash = '{guess}' WHERE seq = 6",
        f"UPDATE audit_chain_head SET row_hash = '{guess}'",
    )
    verdict = _verify(store, audit.audit_key())
    assert not verdict.ok and verdict.bad_seq == 6


def test_the_migration_chains_rows_written_before_it(db_url: str) -> None:
    store = Store(db_url)
    migrate.upgrade(store.engine, "0005")
    with store.engine.begin() as conn:
        for i in range(3):
            conn.exec_driver_sql(
                "INSERT INTO audit_log (at, action, resource, patient_id) "
                f"VALUES ('2026-11-0{i + 1} 10:00:00.000000', 'read', 'home', 'P{i}')"
            )
    store.init()
    with store.writing() as conn:
        audit.record(conn, "read", "home", "P9")
    verdict = _verify(store)
    assert verdict.ok and verdict.rows == 4
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(audit_chain_head.c.seq)).scalar_one() == 4
    migrate.downgrade(store.engine, "0005")  # and back
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM audit_log").scalar_one() == 4


def test_cli_writes_and_exports_are_audited(
    db_url: str, simulated_folder: Path, tmp_path: Path, external: Path
) -> None:
    mb = external / "migraine-buddy" / "migraine_buddy_sample.csv"
    assert runner.invoke(app, ["import", str(simulated_folder), "--db", db_url]).exit_code == 0
    assert runner.invoke(app, ["delete", "SIM000003", "--db", db_url, "--yes"]).exit_code == 0
    merge = ["import", str(mb), "--db", db_url, "--from", "migraine-buddy", "--patient-id"]
    assert runner.invoke(app, [*merge, "mb1"]).exit_code == 0  # new diary: an import
    assert runner.invoke(app, [*merge, "mb1"]).exit_code == 0  # again: a merge
    export = ["export", "--db", db_url, "--patient", "SIM000004", "--out", str(tmp_path / "x")]
    assert runner.invoke(app, export).exit_code == 0
    assert runner.invoke(app, ["backup", str(tmp_path / "b"), "--db", db_url]).exit_code == 0
    store = Store(db_url)
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(audit_log.c.action, audit_log.c.patient_id, audit_log.c.role)
        ).all()
    assert sum(1 for a, _, r in rows if a == "import" and r == "cli") == 51
    assert ("delete", "SIM000003", "cli") in rows
    assert ("merge", "mb1", "cli") in rows and ("export", "SIM000004", "cli") in rows
    assert ("backup", None, "cli") in rows
    assert runner.invoke(app, ["audit", "verify", "--db", db_url]).exit_code == 0


# ------------------------------------------------------------------ the web app


def test_every_kind_of_refusal_leaves_an_audit_row(tmp_path: Path) -> None:
    from tests.test_web import PASSWORD, Web, form_token

    web = Web(tmp_path)
    c, pid, csrf = web.patient("ivy")
    _, other, _ = web.patient("jon")
    anon = web.client()
    answers = {
        "401 api": anon.get(f"/api/patients/{pid}/attacks").status_code,
        "login page": anon.get("/home", follow_redirects=False).status_code,
        "403 csrf": c.post(f"/api/patients/{pid}/attacks", json={}).status_code,
        "404 other": c.get(f"/api/patients/{other}/attacks").status_code,
        "422 body": c.post(
            f"/api/patients/{pid}/medications",
            json={"drug": 5, "taken_at": "never"},
            headers={"X-CSRF-Token": csrf},
        ).status_code,
    }
    token = form_token(anon, "/login")
    tries = [
        anon.post(
            "/login", data={"csrf_token": token, "email": "ivy@x.org", "password": "wrong"}
        ).status_code
        for _ in range(5)
    ]
    answers["429 lockout"] = anon.post(
        "/login", data={"csrf_token": token, "email": "ivy@x.org", "password": PASSWORD}
    ).status_code
    assert answers == {
        "401 api": 401,
        "login page": 303,
        "403 csrf": 403,
        "404 other": 404,
        "422 body": 422,
        "429 lockout": 429,
    }
    with web.engine.connect() as conn:
        rows = conn.execute(
            sa.select(audit_log.c.action, audit_log.c.resource, audit_log.c.detail).where(
                audit_log.c.action.in_(["refused", "denied"])
            )
        ).all()
    seen = {(a, r, d) for a, r, d in rows}
    assert ("refused", f"GET /api/patients/{pid}/attacks", "HTTP 401") in seen
    assert ("refused", "GET /home", "HTTP 401") in seen
    assert ("refused", f"POST /api/patients/{pid}/attacks", "HTTP 403") in seen
    assert ("denied", "attacks", None) in seen  # the access check's own row, once
    assert not any(r == f"GET /api/patients/{other}/attacks" for _, r, _ in seen)
    assert ("refused", f"POST /api/patients/{pid}/medications", "HTTP 422") in seen
    assert ("refused", "POST /login", "HTTP 429") in seen
    # one row per refusal: the five above, and one per login answered 429 (back-off)
    throttled = tries.count(429) + 1
    assert throttled >= 2 and len(rows) == 5 + throttled
    with web.engine.connect() as conn:
        failed = conn.execute(
            sa.select(audit_log.c.patient_id, audit_log.c.detail).where(
                audit_log.c.action == "login failed"
            )
        ).all()
    # a wrong password answered 400 is a failed login; a throttled one never got checked
    assert len(failed) == tries.count(400) and all(
        p == pid and d.startswith("user ") for p, d in failed
    )
    with web.engine.connect() as conn:
        assert audit.verify(conn).ok


def test_admin_sees_who_what_when_but_no_health_content(tmp_path: Path) -> None:
    from tests.test_web import Web

    web = Web(tmp_path)
    c, pid, csrf = web.patient("kim")
    r = c.post("/attacks/start", data={"csrf_token": csrf})
    attack_id = str(r.url).split("/attacks/")[1].split("?")[0]
    r = c.post(f"/attacks/{attack_id}/safety", data={"csrf_token": csrf, "thunderclap": "yes"})
    assert "Get help now" in r.text
    admin, _ = web.admin()
    log = admin.get("/api/admin/audit").json()
    assert log and all("detail" not in row for row in log)
    assert {"at", "user_id", "role", "action", "patient_id", "resource"} <= set(log[0])
    text = json.dumps(log) + admin.get("/admin").text
    assert "emergency" not in text and "urgent" not in text and "thunderclap" not in text
    assert any(row["resource"] == "red-flag screen" and row["patient_id"] == pid for row in log)
    with web.engine.connect() as conn:
        details = conn.execute(sa.select(audit_log.c.detail)).scalars().all()
    assert any(details), details  # so the check below reads real details
    assert not any(d and ("emergency" in d or "urgent" in d) for d in details)


def test_a_row_relabelled_as_keyed_fails_without_the_key(db_url: str) -> None:
    store = _store(db_url)
    _attack(store, "UPDATE audit_log SET hash_kind = 'hmac-sha256', detail = 'x' WHERE seq = 2")
    verdict = _verify(store)
    assert not verdict.ok and verdict.bad_seq == 2 and "keyed" in str(verdict.problem)


def test_with_a_key_a_chain_recomputed_from_the_first_row_is_caught(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(audit.KEY_ENV, "a key kept outside the database")
    store = _store(db_url, rows=3)
    with store.engine.connect() as conn:
        query = sa.select(audit_log).order_by(audit_log.c.seq)
        chain = [dict(r) for r in conn.execute(query).mappings()]
    prev, statements = audit.GENESIS, []
    for row in chain:  # every row rewritten as plain SHA-256, as one without the key can
        row["resource"] = "rewritten"
        digest = audit.row_hash(row, prev, audit.SHA256, None)
        statements.append(
            f"UPDATE audit_log SET resource = 'rewritten', hash_kind = 'sha256', "
            f"prev_hash = '{prev}', row_hash = '{digest}' WHERE seq = {row['seq']}"
        )
        prev = digest
    _attack(store, *statements, f"UPDATE audit_chain_head SET row_hash = '{prev}'")
    assert _verify(store).ok  # without the key it looks whole: why the key matters
    verdict = _verify(store, audit.audit_key())
    assert not verdict.ok and "not keyed" in str(verdict.problem)


def test_concurrent_appenders_keep_one_linear_chain(db_url: str) -> None:
    """Eight threads (own connections) append at once: one chain, no gap, no fork."""
    store = _store(db_url, rows=0)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(25):
                with store.writing() as conn:
                    audit.record(conn, "write", f"t{n} r{i}")
        except BaseException as exc:
            errors.append(exc)

    _in_threads(worker, 8)
    assert errors == []
    verdict = _verify(store)
    assert verdict.ok and verdict.rows == 200, verdict.problem


def test_verify_holds_while_the_app_keeps_appending(db_url: str) -> None:
    store = _store(db_url)
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set():
            with store.writing() as conn:
                audit.record(conn, "read", "home", "P001")

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        results = [runner.invoke(app, ["audit", "verify", "--db", db_url]) for _ in range(5)]
    finally:
        stop.set()
        thread.join()
    assert [r.exit_code for r in results] == [0] * 5, [r.output for r in results]


def test_a_key_file_outside_the_database_keys_the_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "audit.key"
    key_file.write_text("from a file\n")
    monkeypatch.setenv(audit.KEY_FILE_ENV, str(key_file))
    store = _store(f"sqlite:///{tmp_path / 'k.db'}", rows=2)
    with store.engine.connect() as conn:
        kinds = set(conn.execute(sa.select(audit_log.c.hash_kind)).scalars())
    assert kinds == {audit.HMAC} and audit.audit_key() == b"from a file"
    assert _verify(store, b"from a file").ok and not _verify(store, b"another key").ok
    url = f"sqlite:///{tmp_path / 'k.db'}"
    assert runner.invoke(app, ["audit", "verify", "--db", url]).exit_code == 0
    monkeypatch.delenv(audit.KEY_FILE_ENV)
    result = runner.invoke(app, ["audit", "verify", "--db", url])
    assert result.exit_code == 1 and "keyed" in result.output


def test_appending_with_commit_stores_the_write_and_its_rows_together(db_url: str) -> None:
    """``append(commit=True)`` — the last statement of a web write — commits the write
    with its audit rows (on PostgreSQL in the same message as the rows): eight threads
    appending that way keep one linear chain, each write is there with its row, and a
    batch the database refuses leaves neither the write nor any audit row."""
    from painlink.store import tables as t

    store = _store(db_url, rows=0)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(10):
                with store.writing() as conn:
                    conn.execute(t.patients.insert().values(patient_id=f"W{n}-{i}"))
                    rows = [
                        {"action": "write", "resource": f"t{n} r{i}", "patient_id": f"W{n}-{i}"}
                    ]
                    audit.append(conn, rows, commit=True)
        except BaseException as exc:
            errors.append(exc)

    _in_threads(worker, 8)
    assert errors == []
    verdict = _verify(store)
    assert verdict.ok and verdict.rows == 80, verdict.problem
    with pytest.raises(sa.exc.IntegrityError), store.writing() as conn:
        conn.execute(t.patients.insert().values(patient_id="REFUSED"))
        audit.append(conn, [{"action": None, "resource": "x"}], commit=True)  # NOT NULL
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.patients)).scalar() == 80
        found = conn.execute(
            sa.select(t.patients.c.patient_id).where(t.patients.c.patient_id == "REFUSED")
        )
        assert found.first() is None
        assert conn.execute(sa.select(audit_chain_head.c.seq)).scalar() == 80
    assert _verify(store).rows == 80
