"""Migraine days, headache days and medication days, per day and per month.

A "month" is a block of 28 or 30 days counted back from the last diary day (or
``as_of``), so the most recent month is always complete; blocks that would start
before the diary are dropped rather than counted as headache-free. Each month
carries its completeness (share of days with any entry), since a month with few
entries undercounts.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from painlink.clinical.attack_criteria import evaluate_attacks
from painlink.clinical.criteria import MET
from painlink.days.day_table import attack_day_rows, build_day_table, window_starts
from painlink.diary.frames import DiaryFrames
from painlink.rules.day_definitions import (
    COMPLETENESS_MIN,
    DEFAULT_DEFINITION,
    DEFINITIONS,
    DayDefinition,
)
from painlink.rules.ichd3 import Ichd3Rules
from painlink.rules.medications import ACUTE_CLASSES, DrugClass

_KEY = ["patient_id", "date"]
ACUTE_MED_COLUMNS = [f"med_{c.value}" for c in DrugClass if c in ACUTE_CLASSES]


def _definition(definition: str | DayDefinition) -> DayDefinition:
    if isinstance(definition, DayDefinition):
        return definition
    if definition not in DEFINITIONS:
        raise ValueError(f"unknown day definition {definition!r}; known: {', '.join(DEFINITIONS)}")
    return DEFINITIONS[definition]


def classify_days(
    diary: DiaryFrames,
    definition: str | DayDefinition = DEFAULT_DEFINITION,
    *,
    rules: Ichd3Rules | None = None,
    as_of: dt.date | None = None,
) -> pl.DataFrame:
    """The day table plus ``migraine_day``, ``headache_day_def`` and ``migraine_feature_day``."""
    d = _definition(definition)
    days = build_day_table(diary, as_of=as_of)
    attacks = evaluate_attacks(diary, rules)
    rows = attack_day_rows(attacks, as_of, window_starts(diary, as_of))  # the table's window
    if d.require_full_attack:
        feature = pl.col("migraine_features") | pl.col("fulfils_1_2")
    else:
        feature = (
            pl.col("painful")
            & (pl.col("hours") >= d.feature_min_hours)
            & (pl.col("m_C") == MET)
            & (pl.col("m_D") == MET)
        )
    aura = pl.col("starts_here") & pl.col("aura_durations_ok").fill_null(False) & d.aura_counts
    per_day = rows.group_by(_KEY).agg(
        (feature.fill_null(False) | aura).any().alias("migraine_feature_day"),
        pl.col("hours").filter(pl.col("painful")).sum().alias("headache_hours"),
        pl.col("painful").any().alias("painful_day"),
        # 1.3 C3: believed to be migraine at onset and relieved by a triptan or ergot
        (pl.col("relieved_by_specific_drug") & pl.col("starts_here") & pl.col("painful"))
        .any()
        .alias("relieved_by_specific"),
        # 1.3 C counts days *of headache* (A: "Headache ... fulfilling criteria B and C")
        (
            (
                (pl.col("fulfils_1_1") | pl.col("fulfils_1_2"))
                | ((pl.col("m_C") == MET) & (pl.col("m_D") == MET))
            )
            & pl.col("painful")
        )
        .fill_null(False)
        .any()
        .alias("chronic_c_day"),
        # 2.3 A counts days of headache *fulfilling 2.3 B–D*: not migraine-like days, not
        # days with only a tablet (ICHD-3 2.3 A: "Headache occurring on ≥15 days per
        # month on average ... fulfilling criteria B-D")
        (pl.col("fulfils_2_3") & pl.col("painful")).any().alias("tth_2_3_day"),
        (pl.col("could_be_2_3") & pl.col("painful")).any().alias("tth_2_3_possible_day"),
        ((pl.col("fulfils_2_3") | pl.col("but_one_2_3")) & pl.col("painful"))
        .any()
        .alias("tth_2_3_but_one_day"),
        # 2.1/2.2 A: days with an episode fulfilling B–D (and with one missing one of them)
        pl.col("fulfils_tth").any().alias("tth_episode_day"),
        (pl.col("fulfils_tth") | pl.col("but_one_tth")).any().alias("tth_candidate_day"),
    )
    specific = ["triptan", "ergotamine"] + (["gepant", "ditan"] if d.count_gepants_ditans else [])
    meds = diary.medications.with_columns(pl.col("taken_at").dt.date().alias("date"))
    if d.specific_drug == "effective":
        meds = meds.filter(pl.col("relief_2h").is_in(["partial", "complete"]))
    specific_days = (
        meds.filter(pl.col("drug_class").is_in(specific))
        .select(_KEY)
        .unique()
        .with_columns(pl.lit(True).alias("specific_drug_day"))
    )
    out = (
        days.join(per_day, on=_KEY, how="left")
        .join(specific_days, on=_KEY, how="left")
        .with_columns(
            [
                pl.col(c).fill_null(False)
                for c in (
                    "migraine_feature_day",
                    "painful_day",
                    "specific_drug_day",
                    "relieved_by_specific",
                    "chronic_c_day",
                    "tth_2_3_day",
                    "tth_2_3_possible_day",
                    "tth_2_3_but_one_day",
                    "tth_episode_day",
                    "tth_candidate_day",
                )
            ]
            + [pl.col("headache_hours").fill_null(0.0)]
        )
    )
    by_drug = pl.col("specific_drug_day") & pl.col("painful_day") & (d.specific_drug != "never")
    migraine = pl.col("migraine_feature_day") | by_drug
    headache = (pl.col("painful_day") & (pl.col("headache_hours") >= d.headache_min_hours)) | (
        pl.col("acute_med_day") & d.medication_day_is_headache_day
    )
    return out.with_columns(migraine.alias("migraine_day")).with_columns(
        (headache | pl.col("migraine_day")).alias("headache_day_def"),
        # ICHD-3 counts days *with headache* (1.3 A, 8.2 A): a day with only a tablet
        # or only an aura is not one, whatever the day definition says
        pl.col("painful_day").alias("ichd_headache_day"),
        (pl.col("chronic_c_day") | pl.col("relieved_by_specific")).alias("chronic_c_day"),
        pl.lit(d.name).alias("day_definition"),
    )


def monthly_counts(
    days: pl.DataFrame, month_days: int = 30, end: dt.date | None = None
) -> pl.DataFrame:
    """Counts per block of ``month_days`` days, newest block = 1, with 3-month windows."""
    last = days.group_by("patient_id").agg(
        pl.col("date").min().alias("first_date"),
        pl.lit(end).cast(pl.Date).fill_null(pl.col("date").max()).alias("end_date")
        if end is not None
        else pl.col("date").max().alias("end_date"),
    )
    d = days.join(last, on="patient_id").filter(pl.col("date") <= pl.col("end_date"))
    d = d.with_columns(
        (((pl.col("end_date") - pl.col("date")).dt.total_days()) // month_days + 1).alias("month")
    ).with_columns(
        (pl.col("end_date") - pl.duration(days=pl.col("month") * month_days - 1)).alias(
            "month_start"
        )
    )
    d = d.filter(pl.col("month_start") >= pl.col("first_date"))
    med_cols = [c for c in days.columns if c.startswith("med_")]
    per = (
        d.group_by("patient_id", "month")
        .agg(
            pl.col("month_start").first(),
            pl.col("date").max().alias("month_end"),
            pl.len().alias("days"),
            pl.col("logged").sum().alias("logged_days"),
            pl.col("migraine_day").sum().alias("migraine_days"),
            pl.col("headache_day_def").sum().alias("headache_days"),
            pl.col("chronic_c_day").sum().alias("migraine_feature_days"),
            *[
                pl.col(c).sum().alias(f"{c}s")
                for c in (
                    "ichd_headache_day",
                    "tth_2_3_day",
                    "tth_2_3_possible_day",
                    "tth_2_3_but_one_day",
                    "tth_episode_day",
                    "tth_candidate_day",
                )
                if c in days.columns
            ],
            pl.col("acute_med_day").sum().alias("acute_med_days"),
            *[(pl.col(c) > 0).sum().alias(f"{c}_days") for c in med_cols],
        )
        .with_columns((pl.col("logged_days") / pl.col("days")).alias("completeness"))
        .with_columns((pl.col("completeness") >= COMPLETENESS_MIN).alias("complete_enough"))
        .sort("patient_id", "month", descending=[False, True])
    )
    window = ["migraine_days", "headache_days", "acute_med_days"]
    return (
        per.with_columns(
            [pl.col(c).rolling_mean(3).over("patient_id").alias(f"{c}_3mo_mean") for c in window]
        )
        .with_columns(pl.lit(month_days).alias("month_length"))
        .sort("patient_id", "month")
    )
