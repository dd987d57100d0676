"""The service layer is for the CLI and for scripts too: it loads without the web app."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVICES = sorted(p.stem for p in (ROOT / "painlink" / "services").glob("*.py"))


def test_the_services_import_neither_fastapi_nor_the_web_app() -> None:
    modules = [f"painlink.services.{name}" for name in SERVICES if name != "__init__"]
    assert "painlink.services.diary" in modules and "painlink.services.accounts" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'fastapi'"
        " or m.startswith('painlink.web') or m.split('.')[0] == 'starlette')\n"
        "print(loaded)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout
