"""Backups that restore everything and prove it: ``painlink backup`` / ``restore``.

An export and re-import restores the diaries but not accounts, grants or the audit
trail, and copying the SQLite file while the app writes misses acknowledged writes
(the WAL holds them). So a backup is a consistent snapshot of the whole database:

- SQLite: the online backup API (``sqlite3.Connection.backup``) copies every page in
  one step inside one read transaction; in WAL mode writers carry on meanwhile and
  the copy is the database as of the moment the copy began.
- PostgreSQL: ``pg_dump --format=custom`` run on a snapshot exported from a
  REPEATABLE READ transaction (``pg_export_snapshot``), and the checksums are taken
  in that same transaction, so dump and checksums describe the same state.

A backup file is an uncompressed tar archive with ``manifest.json`` (format, dialect,
schema revision, SHA-256 of the database member, and per table the row count and a
SHA-256 over its rows in primary-key order) and the database member
(``database.sqlite`` or ``database.pgdump``). ``restore`` refuses a file whose
checksums do not match, refuses to overwrite a database holding any row unless
``force``, and is atomic: SQLite restores into a temporary file beside the target,
checks it, then renames it over the target; PostgreSQL restores in one transaction
(``pg_restore --single-transaction``) and is checked afterwards.
"""

from __future__ import annotations

import datetime as dt
import decimal
import glob
import hashlib
import importlib.metadata
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from painlink.store.engine import normalise_url

FORMAT = "painlink-backup/1"
MANIFEST = "manifest.json"
MEMBER = {"sqlite": "database.sqlite", "postgresql": "database.pgdump"}
PG_BIN_ENV = "PAINLINK_PG_BIN"


def _painlink_version() -> str:
    """The installed painlink's version, for the manifest.

    Read from the package metadata, not ``painlink.__version__``: the store layer may not
    import the public facade (it imports the whole package). A source tree run without
    installing has no metadata; the manifest then says so rather than guessing.
    """
    try:
        return importlib.metadata.version("painlink")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


_CHUNK = 1 << 20


class BackupError(RuntimeError):
    """A backup that cannot be made, read, trusted or restored; the message says why."""


# ------------------------------------------------------------------ table checksums


def _encode(value: object) -> object:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return str(value)


def _row_bytes(row: tuple[Any, ...]) -> bytes:
    return (
        json.dumps(list(row), default=_encode, ensure_ascii=False, separators=(",", ":")) + "\n"
    ).encode()


def _sqlite_tables(conn: sqlite3.Connection) -> dict[str, dict[str, object]]:
    """Row count and SHA-256 of every table of a SQLite file, rows in primary-key order
    (rowid order for tables whose key is the rowid, which is the same thing)."""
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    out: dict[str, dict[str, object]] = {}
    for name in names:
        info = conn.execute(f'PRAGMA table_info("{name}")').fetchall()
        pk = [r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5])]
        order = ", ".join(f'"{c}"' for c in (pk or [r[1] for r in info]))
        digest, count = hashlib.sha256(), 0
        for row in conn.execute(f'SELECT * FROM "{name}" ORDER BY {order}'):
            digest.update(_row_bytes(row))
            count += 1
        out[name] = {"rows": count, "sha256": digest.hexdigest()}
    return out


def _postgres_tables(conn: sa.Connection) -> dict[str, dict[str, object]]:
    """The same for PostgreSQL's ``public`` schema; text keys are ordered by byte
    (COLLATE "C") so the order does not depend on the server's locale."""
    inspector = sa.inspect(conn)
    out: dict[str, dict[str, object]] = {}
    for name in sorted(inspector.get_table_names(schema="public")):
        columns = inspector.get_columns(name, schema="public")
        pk = inspector.get_pk_constraint(name, schema="public")["constrained_columns"]
        kinds = {c["name"]: c["type"] for c in columns}
        keys = pk or [c["name"] for c in columns]
        order = ", ".join(
            f'"{k}" COLLATE "C"' if isinstance(kinds[k], sa.String) else f'"{k}"' for k in keys
        )
        cols = ", ".join(f'"{c["name"]}"' for c in columns)
        digest, count = hashlib.sha256(), 0
        raw = conn.connection.driver_connection
        with raw.cursor(name=f"sum_{uuid.uuid4().hex[:8]}") as cursor:  # type: ignore[union-attr]
            cursor.itersize = 10_000
            cursor.execute(f'SELECT {cols} FROM "{name}" ORDER BY {order}')
            for row in cursor:
                digest.update(_row_bytes(row))
                count += 1
        out[name] = {"rows": count, "sha256": digest.hexdigest()}
    return out


def database_checksums(url: str) -> dict[str, dict[str, object]]:
    """Per-table row count and SHA-256 of a live database (for tests and checks)."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        with _sqlite_ro(Path(parsed.database or "")) as conn:
            return _sqlite_tables(conn)
    engine = sa.create_engine(parsed)
    try:
        with engine.connect() as pg, pg.begin():
            return _postgres_tables(pg)
    finally:
        engine.dispose()


class _sqlite_ro:
    """A plain sqlite3 connection, closed on exit (sqlite3's own context manager only
    commits)."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(str(path))

    def __enter__(self) -> sqlite3.Connection:
        return self.conn

    def __exit__(self, *_exc: object) -> None:
        self.conn.close()


# ------------------------------------------------------------------ files


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_archive(target: Path, member: Path, member_name: str, manifest: dict[str, Any]) -> None:
    """Write the tar archive beside the target, fsync it, then rename it into place: a
    crash leaves the old backup or the new one, never half of one."""
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
            data = json.dumps(manifest, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
            tar.addfile(info, io.BytesIO(data))
            tar.add(member, arcname=member_name)
        tmp.chmod(0o600)  # health data and password hashes: the owner's eyes only
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    finally:
        tmp.unlink(missing_ok=True)


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of a backup file, after checking it is one."""
    try:
        with tarfile.open(path, "r:") as tar:
            handle = tar.extractfile(MANIFEST)
            if handle is None:
                raise KeyError(MANIFEST)
            manifest: dict[str, Any] = json.loads(handle.read())
    except FileNotFoundError:
        raise BackupError(f"{path}: no such file") from None
    except (tarfile.TarError, KeyError, ValueError, OSError) as exc:
        raise BackupError(f"{path}: not a painlink backup ({exc})") from None
    if manifest.get("format") != FORMAT or manifest.get("dialect") not in MEMBER:
        raise BackupError(f"{path}: not a painlink backup (format {manifest.get('format')!r})")
    return manifest


def _extract_member(path: Path, manifest: dict[str, Any], into: Path) -> Path:
    """Copy the database member out of the archive and check its SHA-256."""
    name: str = manifest["file"]["name"]
    target = into / name
    try:
        with tarfile.open(path, "r:") as tar:
            source = tar.extractfile(name)
            if source is None:
                raise KeyError(name)
            with target.open("wb") as out:
                shutil.copyfileobj(source, out, _CHUNK)
                out.flush()
                os.fsync(out.fileno())
    except (tarfile.TarError, KeyError, OSError) as exc:
        raise BackupError(f"{path}: the database member {name} cannot be read ({exc})") from None
    if _sha256_file(target) != manifest["file"]["sha256"]:
        raise BackupError(
            f"{path}: {name} does not match the checksum in its manifest (damaged or altered)"
        )
    return target


def _compare(manifest: dict[str, Any], found: dict[str, dict[str, object]], where: str) -> None:
    expected = manifest["tables"]
    if found == expected:
        return
    for name in sorted(set(expected) | set(found)):
        if expected.get(name) != found.get(name):
            raise BackupError(
                f"{where}: table {name} does not match the backup's checksum "
                f"(expected {expected.get(name)}, found {found.get(name)})"
            )


# ------------------------------------------------------------------ PostgreSQL tools


def pg_tool(name: str) -> str:
    """pg_dump/pg_restore: from PAINLINK_PG_BIN, else the newest Debian postgresql
    package (a pg_dump must be at least as new as the server), else the PATH."""
    if folder := os.environ.get(PG_BIN_ENV):
        return str(Path(folder) / name)
    found = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4])
    )
    if found:
        return found[-1]
    if path := shutil.which(name):
        return path
    raise BackupError(f"{name} is not installed (install postgresql-client, or set {PG_BIN_ENV})")


def _libpq(url: sa.URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password, which goes in PGPASSWORD instead
    (never on a command line other users can read)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(cmd: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        message = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(f"{Path(cmd[0]).name} failed: {' / '.join(message[-5:])}")


# ------------------------------------------------------------------ backup


def _base_manifest(dialect: str, revision: str | None) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "dialect": dialect,
        "painlink_version": _painlink_version(),
        "revision": revision,
        "created_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }


def _revision(tables: dict[str, Any], conn: Any) -> str | None:
    if "alembic_version" not in tables:
        return None
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else None


def backup(url: str, target: Path) -> dict[str, Any]:
    """Write a verified backup of the database at ``url`` to ``target``; returns the
    manifest. Safe while the app writes."""
    parsed = normalise_url(url)
    target = target.expanduser().absolute()
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent}: no such folder")
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".painlink-backup-") as tmp:
        if parsed.get_backend_name() == "sqlite":
            source = Path(parsed.database or "")
            if not source.is_file():
                raise BackupError(f"{source}: no such database file")
            copy = Path(tmp) / MEMBER["sqlite"]
            src = sqlite3.connect(str(source), timeout=30)
            dst = sqlite3.connect(str(copy))
            try:
                src.backup(dst)  # all pages in one step: one consistent snapshot
                dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
                tables = _sqlite_tables(dst)
                revision = _revision(tables, dst)
            finally:
                dst.close()
                src.close()
            manifest = _base_manifest("sqlite", revision)
        else:
            copy = Path(tmp) / MEMBER["postgresql"]
            manifest = _pg_dump(parsed, copy)
        manifest["file"] = {
            "name": copy.name,
            "bytes": copy.stat().st_size,
            "sha256": _sha256_file(copy),
        }
        if parsed.get_backend_name() == "sqlite":
            manifest["tables"] = tables
        _write_archive(target, copy, copy.name, manifest)
    return manifest


def _pg_dump(url: sa.URL, out: Path) -> dict[str, Any]:
    conninfo, env = _libpq(url)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
                _run(
                    [
                        pg_tool("pg_dump"),
                        "--format=custom",
                        "--no-owner",
                        "--no-acl",
                        f"--snapshot={snapshot}",
                        f"--file={out}",
                        f"--dbname={conninfo}",
                    ],
                    env,
                )
                tables = _postgres_tables(conn)
                revision = None
                if "alembic_version" in tables:
                    revision = conn.exec_driver_sql(
                        "SELECT version_num FROM alembic_version"
                    ).scalar()
    finally:
        engine.dispose()
    manifest = _base_manifest("postgresql", revision)
    manifest["tables"] = tables
    return manifest


# ------------------------------------------------------------------ verify and restore


def verify(path: Path, scratch_url: str | None = None) -> dict[str, Any]:
    """Check a backup file without restoring it: the database member's SHA-256 and, for
    SQLite, every table's checksum; for PostgreSQL that pg_restore can read the archive,
    and — given an empty scratch database — every table's checksum after restoring
    into it. Returns the manifest."""
    manifest = read_manifest(path)
    if scratch_url and manifest["dialect"] == "postgresql":
        scratch = normalise_url(scratch_url)
        if scratch.get_backend_name() != "postgresql":
            raise BackupError("the scratch database for a PostgreSQL backup must be PostgreSQL")
        return _restore_postgres(path, manifest, scratch, force=False)
    with tempfile.TemporaryDirectory(prefix=".painlink-verify-") as tmp:
        member = _extract_member(path, manifest, Path(tmp))
        if manifest["dialect"] == "sqlite":
            with _sqlite_ro(member) as conn:
                ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
                if ok != "ok":
                    raise BackupError(f"{path}: the database fails integrity_check ({ok})")
                _compare(manifest, _sqlite_tables(conn), str(path))
        else:
            _run([pg_tool("pg_restore"), "--list", str(member)], dict(os.environ))
    return manifest


#: tables whose rows alone do not make a database "hold data" (an initialised, empty one)
_BOOKKEEPING = frozenset({"alembic_version", "audit_chain_head"})


def _has_rows_sqlite(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    with _sqlite_ro(path) as conn:
        return any(
            info["rows"] for name, info in _sqlite_tables(conn).items() if name not in _BOOKKEEPING
        )


def restore(path: Path, url: str, force: bool = False) -> dict[str, Any]:
    """Restore a backup file into the database at ``url``; returns the manifest.

    Refuses a backup that does not match its checksums (nothing is touched), a backup
    of the other kind of database, and a target that holds any row unless ``force``.
    Stop the web app first: a restore replaces the database under it."""
    manifest = read_manifest(path)
    parsed = normalise_url(url)
    dialect = parsed.get_backend_name()
    if dialect != manifest["dialect"]:
        raise BackupError(
            f"{path} is a {manifest['dialect']} backup; restore it into a {manifest['dialect']} "
            f"database, not {dialect}"
        )
    if dialect == "sqlite":
        return _restore_sqlite(path, manifest, Path(parsed.database or "").absolute(), force)
    return _restore_postgres(path, manifest, parsed, force)


def _restore_sqlite(
    path: Path, manifest: dict[str, Any], target: Path, force: bool
) -> dict[str, Any]:
    if _has_rows_sqlite(target) and not force:
        raise BackupError(
            f"{target} already holds data; nothing was restored (--force replaces it)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".painlink-restore-") as tmp:
        member = _extract_member(path, manifest, Path(tmp))
        with _sqlite_ro(member) as conn:
            ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
            if ok != "ok":
                raise BackupError(f"{path}: the database fails integrity_check ({ok})")
            _compare(manifest, _sqlite_tables(conn), str(path))
        if target.exists():
            # fold the old WAL into the old file, then drop it: a WAL left beside the
            # new file would be replayed into it
            with _sqlite_ro(target) as old:
                old.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(member, target)
        _fsync_dir(target.parent)
    with _sqlite_ro(target) as conn:
        _compare(manifest, _sqlite_tables(conn), str(target))
    return manifest


def _pg_table_names(url: sa.URL) -> dict[str, dict[str, object]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn, conn.begin():
            return _postgres_tables(conn)
    finally:
        engine.dispose()


def _restore_postgres(
    path: Path, manifest: dict[str, Any], url: sa.URL, force: bool
) -> dict[str, Any]:
    existing = _pg_table_names(url)
    if any(v["rows"] for k, v in existing.items() if k not in _BOOKKEEPING) and not force:
        raise BackupError(
            f"{url.render_as_string(hide_password=True)} already holds data; nothing was "
            "restored (--force replaces it)"
        )
    conninfo, env = _libpq(url)
    with tempfile.TemporaryDirectory(prefix=".painlink-restore-") as tmp:
        member = _extract_member(path, manifest, Path(tmp))
        cmd = [
            pg_tool("pg_restore"),
            "--single-transaction",
            "--exit-on-error",
            "--no-owner",
            "--no-acl",
            f"--dbname={conninfo}",
        ]
        if existing:
            cmd += ["--clean", "--if-exists"]
        _run([*cmd, str(member)], env)
    _compare(manifest, _pg_table_names(url), url.render_as_string(hide_password=True))
    return manifest
