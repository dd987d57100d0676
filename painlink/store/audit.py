"""The audit trail as evidence: an append-only, hash-chained ``audit_log``.

A log that any database user can edit proves nothing. Each audit row therefore
carries a sequence number (``seq``: 1, 2, 3 … with no gaps), the hash of the row
before it (``prev_hash``) and its own hash (``row_hash``: SHA-256 over a canonical
encoding of its fields and ``prev_hash``). Editing a field changes that row's hash;
deleting a row leaves a gap in ``seq``; reordering or inserting breaks the link to the
previous hash. The newest (seq, hash) is kept in ``audit_chain_head``, so deleting the
last rows shows too, and ``painlink audit verify --anchor FILE`` copies it to a file
outside the database, which catches even an attacker who rewrites the head.

Without a key, someone who can write to the database and recomputes every hash from
the edited row onward (and the head) is caught only by an anchor taken before the
edit. With a key (``PAINLINK_AUDIT_KEY`` or a file named by ``PAINLINK_AUDIT_KEY_FILE``,
kept outside the database) the hashes are HMAC-SHA256: without the key no row can be
forged or recomputed at all.

Rows are appended under a lock so the chain is linear: on PostgreSQL a
``SELECT … FOR UPDATE`` of the single head row, on SQLite the write transaction itself
(one writer at a time). Triggers refuse UPDATE and DELETE on ``audit_log`` (and
TRUNCATE on PostgreSQL) so the application's own connections cannot rewrite history;
the hash chain is what catches anyone who drops the triggers first.

Health content never goes into an audit row: who, role, action, which patient (a
pseudonymous id), which resource, when, from where. ``detail`` is for non-health
facts (row counts, a user number).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa

from painlink.store.account_tables import audit_chain_head, audit_log

KEY_ENV = "PAINLINK_AUDIT_KEY"
KEY_FILE_ENV = "PAINLINK_AUDIT_KEY_FILE"
GENESIS = "0" * 64
SHA256 = "sha256"
HMAC = "hmac-sha256"

#: the fields a row's hash covers, in this order
HASHED_FIELDS = ("seq", "at", "user_id", "role", "action", "patient_id", "resource", "detail", "ip")


_key_cache: dict[tuple[str, int], bytes | None] = {}


def audit_key() -> bytes | None:
    """The HMAC key, from the environment or a key file; None means plain SHA-256.

    A key file is read again only when it changes (every audited request asks). There
    is no key rotation: rows keyed with an old key verify only with that key, so keep
    it (see docs/reliability.md)."""
    if path := os.environ.get(KEY_FILE_ENV):
        try:
            stamp = (path, Path(path).stat().st_mtime_ns)
            if stamp not in _key_cache:
                _key_cache.clear()
                _key_cache[stamp] = Path(path).read_bytes().strip() or None
        except OSError as exc:
            raise ValueError(f"{KEY_FILE_ENV}={path}: cannot read the audit key ({exc})") from None
        return _key_cache[stamp]
    if value := os.environ.get(KEY_ENV):
        return value.encode()
    return None


def now() -> dt.datetime:
    """UTC without tzinfo and without sub-microsecond parts: what both databases store."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _canonical_at(value: dt.datetime | str) -> str:
    if isinstance(value, str):  # SQLite through a raw cursor
        value = dt.datetime.fromisoformat(value)
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")


def canonical(row: Mapping[str, Any], prev_hash: str, kind: str) -> bytes:
    """One unambiguous byte string per row: JSON of the hashed fields in a fixed order
    (the same text on SQLite and PostgreSQL, whatever types the driver returns)."""
    values: list[Any] = []
    for name in HASHED_FIELDS:
        value: Any = row.get(name)  # whatever type the driver returns
        if name == "at":
            value = _canonical_at(value)
        elif name in {"seq", "user_id"} and value is not None:
            value = int(value)
        values.append(value)
    text = json.dumps([kind, *values, prev_hash], ensure_ascii=False, separators=(",", ":"))
    return text.encode()


def row_hash(row: Mapping[str, Any], prev_hash: str, kind: str, key: bytes | None) -> str:
    data = canonical(row, prev_hash, kind)
    if kind == HMAC:
        if key is None:
            raise ValueError("a keyed audit row needs the key")
        return hmac.new(key, data, hashlib.sha256).hexdigest()
    return hashlib.sha256(data).hexdigest()


def _clip(value: str | None, size: int) -> str | None:
    return None if value is None else str(value)[:size]


def append(conn: sa.Connection, rows: Sequence[Mapping[str, Any]], *, commit: bool = False) -> None:
    """Add rows to the end of the chain, inside the caller's transaction.

    Each row is a mapping of ``at, user_id, role, action, patient_id, resource, detail,
    ip`` (``at`` defaults to now). The head row is locked (PostgreSQL) for the rest of
    the transaction, so concurrent appenders queue and the chain stays linear.

    ``commit=True`` (the caller's last statement) also commits the transaction. On
    PostgreSQL the rows, the new head and the COMMIT then go to the server in one
    message: the head stays locked until the commit, so every statement sent after
    the lock is taken is time every other writer waits, and under load each round
    trip waits for this thread to be scheduled (and to get the GIL) again. SQLite has
    one writer at a time anyway; there the caller's context commits."""
    if not rows:
        return
    key = audit_key()
    kind = HMAC if key else SHA256
    head = conn.execute(
        sa.select(audit_chain_head.c.seq, audit_chain_head.c.row_hash)
        .where(audit_chain_head.c.id == 1)
        .with_for_update()
    ).one_or_none()
    if head is None:  # a database created by metadata.create_all, not the migration
        conn.execute(audit_chain_head.insert().values(id=1, seq=0, row_hash=GENESIS))
        seq, prev = 0, GENESIS
    else:
        seq, prev = int(head.seq), head.row_hash
    out = []
    for row in rows:
        seq += 1
        full = {
            "seq": seq,
            "at": row.get("at") or now(),
            "user_id": row.get("user_id"),
            "role": _clip(row.get("role"), 20),
            "action": _clip(row.get("action"), 20),
            "patient_id": _clip(row.get("patient_id"), 64),
            "resource": _clip(row.get("resource"), 200),
            "detail": row.get("detail"),
            "ip": _clip(row.get("ip"), 64),
        }
        full["hash_kind"] = kind
        full["prev_hash"] = prev
        full["row_hash"] = prev = row_hash(full, prev, kind, key)
        out.append(full)
    if commit and conn.dialect.name == "postgresql":
        _insert_and_commit(conn, out, seq, prev)
        return
    conn.execute(audit_log.insert(), out)
    conn.execute(
        audit_chain_head.update().where(audit_chain_head.c.id == 1).values(seq=seq, row_hash=prev)
    )


_COLUMNS = (*HASHED_FIELDS, "hash_kind", "prev_hash", "row_hash")


def _insert_and_commit(
    conn: sa.Connection, rows: list[dict[str, Any]], seq: int, head: str
) -> None:
    """The audit rows, the head and COMMIT as one client-side-bound message (one round
    trip). psycopg then sees the connection idle, so SQLAlchemy's own commit that
    follows sends nothing; an error leaves the transaction failed and rolled back."""
    import psycopg

    marks = "(" + ", ".join("%s" for _ in _COLUMNS) + ")"
    sql = (
        f"INSERT INTO audit_log ({', '.join(_COLUMNS)}) VALUES "
        + ", ".join(marks for _ in rows)
        + "; UPDATE audit_chain_head SET seq = %s, row_hash = %s WHERE id = 1; COMMIT"
    )
    params = [row[c] for row in rows for c in _COLUMNS] + [seq, head]
    raw = conn.connection.driver_connection
    try:
        with psycopg.ClientCursor(raw) as cursor:  # type: ignore[arg-type]
            cursor.execute(sql, params)
    except psycopg.Error as exc:  # as SQLAlchemy would have raised it
        raise sa.exc.DBAPIError.instance(
            sql, None, exc, psycopg.Error, hide_parameters=True, dialect=conn.dialect
        ) from exc


def record(
    conn: sa.Connection,
    action: str,
    resource: str,
    patient_id: str | None = None,
    detail: str | None = None,
    *,
    user_id: int | None = None,
    role: str | None = None,
    ip: str | None = None,
) -> None:
    """One audit row (see :func:`append`)."""
    append(
        conn,
        [
            {
                "user_id": user_id,
                "role": role,
                "action": action,
                "patient_id": patient_id,
                "resource": resource,
                "detail": detail,
                "ip": ip,
            }
        ],
    )


# ------------------------------------------------------------------ verification


@dataclass
class Verdict:
    """What ``audit verify`` found: ``ok`` or the first bad row and why."""

    rows: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    keyed_rows: int = 0
    problem: str | None = None
    bad_seq: int | None = None
    anchors_checked: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "rows": self.rows,
            "head": {"seq": self.head_seq, "hash": self.head_hash},
            "keyed_rows": self.keyed_rows,
            "anchors_checked": self.anchors_checked,
            "problem": self.problem,
            "first_bad_seq": self.bad_seq,
            "notes": self.notes,
        }


def _rows(conn: sa.Connection) -> Iterable[Mapping[str, Any]]:
    cols = [audit_log.c[n] for n in (*HASHED_FIELDS, "id", "hash_kind", "prev_hash", "row_hash")]
    result = conn.execution_options(yield_per=5_000).execute(
        sa.select(*cols).order_by(audit_log.c.seq.nulls_last(), audit_log.c.id)
    )
    # RowMapping is keyed by str (the column names selected above)
    yield from cast("Iterable[Mapping[str, Any]]", result.mappings())


def verify(
    conn: sa.Connection, key: bytes | None = None, anchors: Sequence[Mapping[str, Any]] = ()
) -> Verdict:
    """Walk the whole chain; stop at the first row that does not hold.

    Detects: an edited field (hash differs), a deleted row (gap in ``seq``), an
    inserted or reordered row (``prev_hash`` does not link, or a duplicate/missing
    ``seq``), deleted last rows (head ahead of the log), a rewritten head (an anchor
    from an earlier verify no longer matches), a keyed chain downgraded to plain
    SHA-256, a row relabelled as keyed (HMAC rows cannot be checked, and fail, without
    the key)."""
    v = Verdict()
    anchor_at = {int(a["seq"]): str(a["hash"]) for a in anchors}
    expected_seq = 1
    prev = GENESIS
    seen_keyed = last_keyed = False
    for row in _rows(conn):
        seq = row["seq"]
        if seq is None:
            v.problem, v.bad_seq = f"row id {row['id']} has no sequence number (inserted)", None
            return v
        seq = int(seq)
        if seq != expected_seq:
            what = (
                f"rows {expected_seq}..{seq - 1} are missing (deleted)"
                if seq > expected_seq
                else f"sequence number {seq} appears twice (inserted or copied)"
            )
            v.problem, v.bad_seq = what, expected_seq
            return v
        if row["prev_hash"] != prev:
            v.problem, v.bad_seq = (
                f"row {seq} does not follow row {seq - 1} (reordered, inserted or edited)",
                seq,
            )
            return v
        kind = row["hash_kind"]
        if kind == HMAC:
            seen_keyed = True
            v.keyed_rows += 1
        elif kind != SHA256:
            v.problem, v.bad_seq = f"row {seq} has an unknown hash kind {kind!r}", seq
            return v
        elif seen_keyed:
            v.problem, v.bad_seq = f"row {seq} is unkeyed after keyed rows (downgraded)", seq
            return v
        if kind == HMAC and key is None:
            # cannot be checked without the key: not evidence of anything (and a row
            # relabelled as keyed would otherwise escape the check)
            v.problem, v.bad_seq = (
                f"row {seq} is keyed (HMAC); set {KEY_ENV} or {KEY_FILE_ENV} to check it",
                seq,
            )
            return v
        if row_hash(row, prev, kind, key) != row["row_hash"]:
            v.problem, v.bad_seq = f"row {seq} was changed after it was written", seq
            return v
        if seq in anchor_at and anchor_at.pop(seq) != row["row_hash"]:
            v.problem, v.bad_seq = f"row {seq} differs from the anchor taken earlier", seq
            return v
        prev = row["row_hash"]
        last_keyed = kind == HMAC
        v.rows += 1
        expected_seq += 1
    v.head_seq, v.head_hash = expected_seq - 1, prev
    if key is not None and v.rows and not last_keyed:
        # the app writes every row with the key: a chain that ends unkeyed was rewritten
        # from some row on by someone without it (or the key was set after the last write)
        v.problem = (
            f"the key is set but the newest row ({v.head_seq}) is not keyed: the chain was "
            "recomputed without the key, or nothing was written since the key was set"
        )
        v.bad_seq = v.head_seq
        return v
    head = conn.execute(
        sa.select(audit_chain_head.c.seq, audit_chain_head.c.row_hash).where(
            audit_chain_head.c.id == 1
        )
    ).one_or_none()
    head_seq, head_hash = (int(head.seq), head.row_hash) if head else (0, GENESIS)
    if (head_seq, head_hash) != (v.head_seq, v.head_hash):
        v.problem = (
            f"the chain head says row {head_seq} is the last, the log ends at row "
            f"{v.head_seq} (last rows deleted, rows added behind the head's back, or the "
            "head rewritten)"
        )
        v.bad_seq = min(head_seq, v.head_seq) + 1
        return v
    if anchor_at:
        first = min(anchor_at)
        v.problem = f"row {first}, recorded in an anchor, is no longer in the log (deleted)"
        v.bad_seq = first
        return v
    v.anchors_checked = len(anchors)
    return v


def read_anchors(path: Path) -> list[dict[str, Any]]:
    """Anchors saved by earlier verifies: one JSON object per line (seq, hash, at)."""
    if not path.exists():
        return []
    out = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            out.append({"seq": int(item["seq"]), "hash": str(item["hash"])})
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}, line {number}: not an anchor ({exc})") from None
    return out


def write_anchor(path: Path, verdict: Verdict) -> None:
    """Append the verified head to the anchor file (kept outside the database)."""
    line = json.dumps(
        {
            "seq": verdict.head_seq,
            "hash": verdict.head_hash,
            "at": now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    )
    with path.open("a") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())


# ------------------------------------------------------------------ append-only triggers

SQLITE_TRIGGERS = (
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS audit_log_no_update",
    "DROP TRIGGER IF EXISTS audit_log_no_delete",
)

POSTGRES_TRIGGERS = (
    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
    "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
)
POSTGRES_DROP = (
    "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
    "DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log",
    "DROP FUNCTION IF EXISTS audit_log_append_only()",
)


def create_triggers(conn: sa.Connection) -> None:
    for sql in POSTGRES_TRIGGERS if conn.dialect.name == "postgresql" else SQLITE_TRIGGERS:
        conn.exec_driver_sql(sql)


def drop_triggers(conn: sa.Connection) -> None:
    for sql in POSTGRES_DROP if conn.dialect.name == "postgresql" else SQLITE_DROP:
        conn.exec_driver_sql(sql)
