"""Tamper with the audit trail every way a database user can, count what verify finds.

    python benchmarks/audit_tamper.py [--rows 100] [--db URL]

Builds a chain of ``--rows`` audit rows (a fresh SQLite file, or ``--db`` an empty
PostgreSQL database), then runs each tampering inside a transaction — drop the
append-only triggers, change rows, run ``audit.verify`` — and rolls it back, so every
case starts from the same chain. Kinds: edit each hashed field of every row, delete
every row, swap every adjacent pair, append a forged row (with and without updating
the head), and the two attacks a plain hash chain cannot see on its own (delete the
tail and rewrite the head; append a recomputed row and rewrite the head), which an
anchor or the HMAC key catches. Prints detected / tried per kind.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from painlink.store import audit
from painlink.store.account_tables import audit_chain_head, audit_log
from painlink.store.store import Store

FIELDS = ("at", "user_id", "role", "action", "patient_id", "resource", "detail", "ip")
FIELDS_ALL = (*FIELDS, "hash_kind", "prev_hash", "row_hash")


def _changed(field: str, value: object) -> str:
    if field == "at":
        return "'2001-02-03 04:05:06'"
    if field == "user_id":
        return str(int(value or 0) + 1)
    if field == "hash_kind":
        return "'hmac-sha256'" if value == "sha256" else "'sha256'"
    return f"'{str(value or '')[:50]}x'"


def run(url: str, rows: int, key: bytes | None) -> dict[str, tuple[int, int]]:
    if key:
        os.environ[audit.KEY_ENV] = key.decode()
    else:
        os.environ.pop(audit.KEY_ENV, None)
    store = Store(url)
    store.init()
    with store.writing() as conn:
        for i in range(rows):
            audit.record(
                conn,
                ["read", "write", "denied"][i % 3],
                f"resource {i}",
                f"P{i % 7:03d}",
                f"detail {i}" if i % 2 else None,
                user_id=i % 5 or None,
                role="patient",
                ip="127.0.0.1",
            )
    with store.engine.connect() as conn:
        chain = [dict(r) for r in conn.execute(sa.select(audit_log)).mappings()]
        head = conn.execute(sa.select(audit_chain_head)).one()
    anchor = [{"seq": head.seq, "hash": head.row_hash}]
    results: dict[str, list[int]] = {}

    def attempt(kind: str, statements: Callable[[], list[str]], anchors: list) -> None:
        with store.engine.connect() as conn:
            trans = conn.begin()
            try:
                audit.drop_triggers(conn)
                for sql in statements():
                    conn.exec_driver_sql(sql)
                found = not audit.verify(conn, key, anchors).ok
            finally:
                trans.rollback()
        tally = results.setdefault(kind, [0, 0])
        tally[0] += found
        tally[1] += 1

    for row in chain:
        seq = row["seq"]
        for field in FIELDS_ALL:
            attempt(
                "edit one field of one row",
                lambda f=field, r=row: [
                    f'UPDATE audit_log SET "{f}" = {_changed(f, r[f])} WHERE seq = {r["seq"]}'
                ],
                [],
            )
        attempt("delete one row", lambda s=seq: [f"DELETE FROM audit_log WHERE seq = {s}"], [])
        if seq < rows:
            attempt(
                "swap two adjacent rows",
                lambda s=seq: [
                    f"UPDATE audit_log SET seq = -1 WHERE seq = {s}",
                    f"UPDATE audit_log SET seq = {s} WHERE seq = {s + 1}",
                    f"UPDATE audit_log SET seq = {s + 1} WHERE seq = -1",
                ],
                [],
            )
    last = chain[-1]
    forged = {**last, "seq": rows + 1, "resource": "forged"}
    plain = audit.row_hash(forged, last["row_hash"], audit.SHA256, None)

    def insert(digest: str, kind: str) -> str:
        """A forged row like the last one, hashed as an attacker without the key can."""
        cols = [f for f in FIELDS if forged[f] is not None]
        values = ", ".join(str(forged[f]) if f == "user_id" else f"'{forged[f]}'" for f in cols)
        return (
            f"INSERT INTO audit_log ({', '.join(cols)}, seq, hash_kind, prev_hash, row_hash) "
            f"VALUES ({values}, {rows + 1}, '{kind}', '{last['row_hash']}', '{digest}')"
        )

    def rewrite_from(k: int) -> list[str]:
        """Edit row k and recompute every plain hash from it on, and the head."""
        out, prev = [], chain[k - 2]["row_hash"] if k > 1 else audit.GENESIS
        for row in chain[k - 1 :]:
            row = {**row, "resource": "rewritten"} if row["seq"] == k else row
            digest = audit.row_hash(row, prev, audit.SHA256, None)
            out.append(
                f"UPDATE audit_log SET resource = '{row['resource']}', hash_kind = 'sha256', "
                f"prev_hash = '{prev}', row_hash = '{digest}' WHERE seq = {row['seq']}"
            )
            prev = digest
        return [*out, f"UPDATE audit_chain_head SET row_hash = '{prev}'"]

    for label, anchors in (("no anchor", []), ("with an anchor", anchor)):
        for k in range(1, rows + 1, max(1, rows // 10)):
            attempt(
                f"edit a row, recompute the rest and the head ({label})",
                lambda k=k: rewrite_from(k),
                anchors,
            )
    attempt("append a forged row, head untouched", lambda: [insert(plain, "sha256")], [])
    tail = chain[-2]
    for label, anchors in (("no anchor", []), ("with an anchor", anchor)):
        attempt(
            f"delete the last row and rewrite the head ({label})",
            lambda: [
                f"DELETE FROM audit_log WHERE seq = {rows}",
                f"UPDATE audit_chain_head SET seq = {rows - 1}, row_hash = '{tail['row_hash']}'",
            ],
            anchors,
        )
        attempt(
            f"append a recomputed row and rewrite the head ({label})",
            lambda: [
                insert(plain, "sha256"),
                f"UPDATE audit_chain_head SET seq = {rows + 1}, row_hash = '{plain}'",
            ],
            anchors,
        )
    store.close()
    return {k: (v[0], v[1]) for k, v in results.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100)
    ap.add_argument("--db", default=None, help="an empty PostgreSQL database URL (default SQLite)")
    args = ap.parse_args()
    for key in (None, b"a key kept outside the database"):
        url = args.db or f"sqlite:///{Path(tempfile.mkdtemp()) / 'audit.db'}"
        if args.db and key:
            break  # the PostgreSQL database now holds a chain; one run per database
        print(f"{'HMAC key' if key else 'no key'}, {args.rows} rows, {url.split(':')[0]}:")
        for kind, (found, tried) in run(url, args.rows, key).items():
            print(f"  {kind:58} detected {found:5} of {tried:5}")


if __name__ == "__main__":
    main()
