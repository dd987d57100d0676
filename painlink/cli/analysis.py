"""The analyses of a diary: triggers, neck/back pain timing, outcomes, forecast, and
N-of-1 experiments."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from painlink.cli import render
from painlink.cli.common import (
    DbOption,
    JsonOption,
    PatientsOption,
    emit,
    fail,
    load_diary,
    load_json,
    out,
    progress,
)


def analyze_(
    diary: Annotated[
        Path | None, typer.Argument(help="A CSV diary folder; omit to read from --db.")
    ] = None,
    patient: PatientsOption = None,
    db: DbOption = None,
    plots: Annotated[
        Path | None,
        typer.Option(
            help="Write each patient's pictures into this folder: triggers (forest plot), "
            "neck/back pain around attacks, outcomes, forecast."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Triggers and protectors, neck/back pain timing, treatment outcomes and forecast."""
    from painlink.analysis.report import analyze

    frames = load_diary(diary, patient, db, as_json)
    with progress() as bar:
        bar.add_task("Analysing", total=None)
        report = analyze(frames)
    if plots is not None:
        plots.mkdir(parents=True, exist_ok=True)
        import matplotlib.pyplot as plt

        from painlink.analysis.plotting import PICTURES

        for pid in frames.patient_ids():
            for name in PICTURES:
                plt.close(getattr(report, name).plot(pid, str(plots / f"{pid}-{name}.png")))
    if as_json:
        emit(report.as_dict())
        return
    for pid in frames.patient_ids():
        out.print(report.text(pid), highlight=False, markup=False)  # names patients typed


experiment_app = typer.Typer(
    help="N-of-1 experiments: design one, then analyse it.", no_args_is_help=True
)


@experiment_app.command("design")
def experiment_design(
    patient: Annotated[str, typer.Option("--patient", help="The patient.")],
    change: Annotated[str, typer.Option(help="What changes in 'on' blocks, e.g. 'no caffeine'.")],
    start: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")],
    diary: Annotated[Path | None, typer.Option(help="CSV diary folder (else --db).")] = None,
    db: DbOption = None,
    block_days: Annotated[int, typer.Option(min=7, max=90, help="Days per block.")] = 14,
    pairs: Annotated[int, typer.Option(min=2, max=24, help="Pairs of on/off blocks.")] = 4,
    rate_ratio: Annotated[
        float, typer.Option(help="Effect to detect (attack rate on / off).")
    ] = 0.6,
    seed: Annotated[int | None, typer.Option(help="Seed of the random order.")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="Save the design as JSON.")] = None,
    as_json: JsonOption = False,
) -> None:
    """A randomised on/off block schedule with its power, from the patient's own history."""
    from painlink.analysis.nof1 import design_experiment
    from painlink.days.day_table import build_day_table
    from painlink.rules import plausibility

    try:
        first = dt.date.fromisoformat(start)
    except ValueError:
        fail(f"--start {start!r} is not a date (YYYY-MM-DD)", as_json=as_json)
    last = plausibility.today() + plausibility.PLANNING_HORIZON
    if not plausibility.EARLIEST_DATE <= first <= last:  # year 9999 overflowed the schedule
        fail(f"--start {start} is outside {plausibility.EARLIEST_DATE} .. {last}", as_json=as_json)
    frames = load_diary(diary, [patient], db, as_json)
    try:
        design = design_experiment(
            build_day_table(frames),
            change,
            first,
            block_days=block_days,
            pairs=pairs,
            rate_ratio=rate_ratio,
            seed=seed,
        )
    except ValueError as exc:
        fail(str(exc), as_json=as_json)
    if out_file is not None:
        out_file.write_text(json.dumps(design.as_dict(), indent=2, default=str), encoding="utf-8")
    if as_json:
        emit(design.as_dict())
        return
    render.experiment_design(design, patient, change, pairs, block_days, rate_ratio)


@experiment_app.command("analyze")
def experiment_analyze(
    design_file: Annotated[
        Path, typer.Argument(help="The design JSON written by 'experiment design'.")
    ],
    diary: Annotated[Path | None, typer.Option(help="CSV diary folder (else --db).")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Attacks in 'on' against 'off' blocks, with the test the power assumed."""
    from painlink.analysis.nof1 import analyze_experiment
    from painlink.cli.experiment_file import DesignError, read_design
    from painlink.days.day_table import build_day_table

    data = load_json(design_file, as_json)
    try:
        design = read_design(data)
    except DesignError as exc:
        fail(f"{design_file}: not a painlink experiment design ({exc})", as_json=as_json)
    frames = load_diary(diary, [design.patient_id], db, as_json)
    try:
        result = analyze_experiment(build_day_table(frames), design)
    except ValueError as exc:
        fail(str(exc), as_json=as_json)
    if as_json:
        from dataclasses import asdict

        emit(asdict(result))
        return
    out.print(result.message, highlight=False, markup=False)
