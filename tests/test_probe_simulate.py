"""``painlink simulate``: every generator refuses what it cannot make with a plain error.

Found by probing: ``--seed -1`` and (for the independent generators) ``--patients
9223372036854775808`` ended in a numpy traceback; the painlink generator started on
2**63 patients and never ended; ``--id-prefix "[/x] ../"`` wrote patient ids that
painlink's own diary format refuses — a CSV folder that does not import back, and in a
database, ids that stopped ``painlink summary``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from painlink.cli import app

runner = CliRunner()
GENERATORS = ["painlink", "independent", "independent-treated"]
BAD = {
    "seed -1": ["--seed", "-1"],
    "2**63 patients": ["--patients", str(2**63)],
    "id prefix with markup and a slash": ["--id-prefix", "[/x] ../"],
    "id prefix of 100 letters": ["--id-prefix", "A" * 100],
}


@pytest.mark.parametrize("generator", GENERATORS)
@pytest.mark.parametrize("bad", BAD, ids=list(BAD))
def test_what_cannot_be_simulated_is_refused_plainly(
    tmp_path: Path, generator: str, bad: str
) -> None:
    out = tmp_path / "sim"
    result = runner.invoke(
        app,
        ["simulate", "--generator", generator, "--days", "30", "--out", str(out), *BAD[bad]],
    )
    assert result.exit_code in (1, 2), result.output + repr(result.exception)
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # not a crash
    assert "Traceback" not in result.output and not out.exists()


@pytest.mark.parametrize("generator", GENERATORS)
def test_a_simulated_folder_imports_back(tmp_path: Path, generator: str) -> None:
    """A prefix of letters, digits, dot, dash and underscore still works."""
    out = tmp_path / "sim"
    args = ["--generator", generator, "--patients", "2", "--days", "30", "--out", str(out)]
    result = runner.invoke(app, ["simulate", *args, "--id-prefix", "Site-2.a_"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    result = runner.invoke(app, ["import", str(out), "--db", f"sqlite:///{tmp_path / 'i.db'}"])
    assert result.exit_code == 0, result.output + repr(result.exception)
