"""Shared fixtures: real SQLite files and a real, throwaway PostgreSQL server.

The PostgreSQL server is started once per test session from the Debian packages
(``initdb``/``pg_ctl``) on a free loopback port; each test gets its own database.
``PAINLINK_TEST_POSTGRES_URL`` points the tests at an existing server instead.
Where no server can be had, PostgreSQL tests are skipped — unless
``PAINLINK_REQUIRE_POSTGRES=1`` (set by scripts/test), which makes that a failure.

Real files written outside painlink (exports of other apps, FHIR examples) live in
``../shared/external`` beside the repository, not in it: tests reach them only through
the ``external`` fixture, which skips when the folder is absent (a plain clone).
``PAINLINK_TEST_EXTERNAL`` points it elsewhere.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from painlink.simulate.output import run_simulation
from painlink.simulate.spec import SimulationSpec
from tests.ports import free_port

#: The first of last month. Tests that write diary entries through the app, which refuses
#: dates after tomorrow, date them in last month (days 1-28): always past, always recent,
#: whatever the clock says. Fixed dates (2026-11-01) failed on every day before them.
LAST_MONTH = (dt.date.today().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def external_dir() -> Path:
    """Where the real outside files are expected; a path only, it may not exist.

    For module-level constants (paths, never reads): a test that opens one must
    still request the ``external`` fixture, so that it skips on a plain clone.
    """
    if override := os.environ.get("PAINLINK_TEST_EXTERNAL"):
        return Path(override)
    return Path(__file__).resolve().parents[1].parent / "shared" / "external"


def external_or_skip(folder: Path) -> Path:
    """The folder, or a skip naming it: these files are not ours to ship in the repository."""
    if not folder.is_dir():
        pytest.skip(
            f"{folder} not present: real files written outside painlink, "
            "see shared/external/SOURCES.md (PAINLINK_TEST_EXTERNAL points elsewhere)"
        )
    return folder


@pytest.fixture(scope="session")
def external() -> Path:
    """``../shared/external``: other apps' real exports and FHIR examples, or a skip."""
    return external_or_skip(external_dir())


def _pg_bin() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """Admin URL of a PostgreSQL server for this session."""
    if url := os.environ.get("PAINLINK_TEST_POSTGRES_URL"):
        yield url
        return
    required = os.environ.get("PAINLINK_REQUIRE_POSTGRES") == "1"
    bindir = _pg_bin()
    if bindir is None:
        if required:
            pytest.fail(
                "PostgreSQL is required (PAINLINK_REQUIRE_POSTGRES=1) but initdb is not installed"
            )
        pytest.skip("PostgreSQL server binaries not installed")
    data = Path(tempfile.mkdtemp(prefix="painlink-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    port = free_port()
    subprocess.run(
        _as_postgres(
            [
                str(bindir / "initdb"),
                "-D",
                str(data / "db"),
                "-U",
                "painlink",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        ),
        check=True,
        capture_output=True,
    )
    options = (
        f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    )
    subprocess.run(
        _as_postgres(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data / "db"),
                "-o",
                options,
                "-l",
                str(data / "log"),
                "-w",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://painlink@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_postgres(
                [str(bindir / "pg_ctl"), "-D", str(data / "db"), "-m", "immediate", "stop"]
            ),
            capture_output=True,
        )
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database on the session's server."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = postgres_server.rpartition("/")
    yield f"{base}/{name}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'painlink.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="session")
def simulated_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 50-patient, 180-day simulated CSV diary (read-only: copy before changing)."""
    out = tmp_path_factory.mktemp("sim") / "diary"
    run_simulation(SimulationSpec(patients=50, days=180, seed=7), out=out)
    return out


@pytest.fixture
def diary_copy(simulated_folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / "diary"
    shutil.copytree(simulated_folder, target)
    return target


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that asks for the PostgreSQL server is a ``postgres`` test, marked or not,
    so ``-m "not postgres"`` (scripts/test --quick) never starts a server."""
    for item in items:
        if "postgres_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)
