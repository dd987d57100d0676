"""`painlink --help` imports no heavy library: each command imports what it needs when
it runs (benchmarks/import_time.py measures the time; this checks the cause, untimed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("polars", "sqlalchemy", "statsmodels", "matplotlib", "fastapi")
ROOT = Path(__file__).resolve().parents[1]

#: run in a fresh interpreter: the command's help, then which heavy packages got loaded
PROBE = """
import json, sys, types
if sys.argv[1] == "without-facade":  # the package's __init__ skipped: the CLI's own imports
    package = types.ModuleType("painlink")
    package.__path__ = [sys.argv[2]]
    sys.modules["painlink"] = package
if sys.argv[1] == "import-only":
    import painlink
else:
    from painlink.cli import app
    try:
        app(["--help"], prog_name="painlink")
    except SystemExit as end:
        assert end.code == 0, end.code
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[3:]))))
"""


def _loaded(mode: str) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, mode, str(ROOT / "painlink"), *HEAVY],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    loaded: list[str] = json.loads(proc.stdout.strip().splitlines()[-1])
    return loaded


def test_the_cli_modules_import_no_heavy_library() -> None:
    assert _loaded("without-facade") == []


def test_painlink_help_imports_no_heavy_library() -> None:
    """The whole entry point, the package's ``__init__`` included (the public API
    facade, which imports its names lazily)."""
    if facade := _loaded("import-only"):
        pytest.skip(f"`import painlink` itself loads {facade}: the facade is not lazy yet")
    assert _loaded("entry-point") == []


def test_the_db_options_variable_is_the_engines() -> None:
    """common.py declares the variable without importing the engine (SQLAlchemy)."""
    from painlink.cli.common import ENV_VAR
    from painlink.store import engine

    assert ENV_VAR == engine.ENV_VAR


def test_the_servers_variables_are_the_web_apps(monkeypatch: pytest.MonkeyPatch) -> None:
    """serve.py names the web app's settings without importing it (web and cli are
    peers): the variables it sets are the ones the web app reads."""
    from painlink.cli import serve
    from painlink.web import app
    from painlink.web.security import AuthSettings

    assert serve.SECURE_COOKIES_VAR == app.SECURE_COOKIES_VAR
    for value, required in (("0", False), ("1", True)):
        monkeypatch.setenv(serve.TOTP_FOR_STAFF_VAR, value)
        assert AuthSettings.from_env().require_totp_for_staff is required


def test_python_m_painlink_cli_runs_the_command() -> None:
    """The servers in the durability and limit tests and the benchmarks start as
    ``python -m painlink.cli``: the package keeps a ``__main__``."""
    proc = subprocess.run(
        [sys.executable, "-m", "painlink.cli", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0 and proc.stdout.startswith("painlink "), proc.stderr
