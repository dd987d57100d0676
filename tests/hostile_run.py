"""Run every hostile file through the CLI (and the web upload) and say what happened.

Used by tests/test_hostile_files.py and runnable on its own for the figures in
docs/reliability.md::

    PYTHONPATH=$PWD python -m tests.hostile_run [--web] [--skip-special]

A case *passes* when nothing escaped as a traceback or a 5xx, a refused file gave a
non-zero exit (CLI) or a 400 with the reason beside the form (web), and the
database's diary rows are unchanged by every refused file.
"""

from __future__ import annotations

import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from painlink.cli import app
from painlink.diary.frames import TABLES
from painlink.store import tables as t
from tests.hostile_files import Hostile, hostile_corpus

runner = CliRunner()


@dataclass
class Outcome:
    case: Hostile
    refused: bool
    crashed: str | None  # the exception or 5xx, if any
    rows_changed: bool
    message: str
    cli: bool = True

    @property
    def ok(self) -> bool:
        if self.crashed or (self.refused and self.rows_changed):
            return False
        expect = (self.cli and self.case.cli_expect) or self.case.expect
        return {"refused": self.refused, "imported": not self.refused}.get(expect, True)


DIARY_TABLES = [t.metadata.tables[spec.name] for spec in TABLES]


def row_counts(engine: sa.Engine) -> dict[str, int]:
    """Rows in every diary table (not accounts, sessions or the audit log, which a
    refused request may rightly add to)."""
    with engine.connect() as conn:
        return {
            table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in DIARY_TABLES
        }


def _cli_args(case: Hostile, db: str) -> list[str]:
    if case.source == "fhir":
        return ["score", "auto", str(case.path)]
    args = ["import", str(case.path), "--db", db]
    if case.source != "painlink":
        args += ["--from", case.source, "--patient-id", "HX", "--time-zone", "Europe/Berlin"]
    return args


def run_cli(case: Hostile, db: str, engine: sa.Engine) -> Outcome:
    before = row_counts(engine)
    result = runner.invoke(app, _cli_args(case, db))
    crashed = None
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        crashed = f"{type(result.exception).__name__}: {str(result.exception)[:200]}"
    output = result.output
    if "Traceback" in output:
        crashed = crashed or "a traceback in the output"
    refused = result.exit_code != 0
    if refused and not crashed and not re.search(r"error", output, re.IGNORECASE):
        crashed = "refused without saying why"
    changed = row_counts(engine) != before
    if not refused and case.source != "fhir":  # undo a good import for the next case
        with engine.begin() as conn:
            for table in reversed(DIARY_TABLES):
                conn.execute(table.delete().where(table.c.patient_id.in_(["HX", "P1"])))
    return Outcome(
        case,
        refused,
        crashed,
        changed,
        output.strip().splitlines()[-1:][0] if output.strip() else "",
    )


def cli_outcomes(corpus: list[Hostile], workdir: Path) -> list[Outcome]:
    from painlink.store.store import Store

    db = f"sqlite:///{workdir / 'hostile.db'}"
    store = Store(db)
    store.init()
    # a diary that is already there must survive every refused file
    from tests.hostile_files import _folder

    keep = _folder(
        workdir,
        "existing",
        **{
            "patients.csv": "patient_id\nKEEP\n",
            "days.csv": "patient_id,date\nKEEP,2024-01-01\n",
            "attacks.csv": "",
        },
    )
    (keep / "attacks.csv").unlink()
    assert runner.invoke(app, ["import", str(keep), "--db", db]).exit_code == 0
    return [run_cli(case, db, store.engine) for case in corpus]


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        corpus = hostile_corpus(Path(tmp) / "corpus")
        if "--skip-special" in argv:
            corpus = [c for c in corpus if not c.special]
        outcomes = cli_outcomes(corpus, Path(tmp))
    bad = [o for o in outcomes if not o.ok]
    for o in bad:
        print(
            f"FAIL {o.case} expect={o.case.expect} refused={o.refused} "
            f"crashed={o.crashed} rows_changed={o.rows_changed} :: {o.message[:160]}"
        )
    crashes = sum(1 for o in outcomes if o.crashed)
    print(
        f"CLI: {len(outcomes)} files, {sum(o.refused for o in outcomes)} refused, "
        f"{crashes} tracebacks, {len(bad)} not as expected"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
