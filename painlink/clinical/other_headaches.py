"""Patterns painlink points out but does not diagnose alone: 3.1 cluster headache (a
pattern to refer) and 11.2.1 cervicogenic headache (from a clinician's findings)."""

from __future__ import annotations

import polars as pl

from painlink.clinical.cervical import cervicogenic_criteria
from painlink.clinical.criteria import (
    MET,
    NE,
    NOT_MET,
    Criterion,
    Diagnosis,
    attack_ids,
    clinician_criterion,
    diagnosis_status,
)
from painlink.rules.ichd3 import NAMES, Ichd3Rules


def cluster(a: pl.DataFrame, r: Ichd3Rules) -> Diagnosis:
    """3.1 as a pattern to refer, never a diagnosis painlink makes alone.

    A–C: ≥5 severe unilateral orbital/temporal attacks of 15–180 min with autonomic
    signs or restlessness. D: "occurring with a frequency between one every other day
    and eight per day" — read as: at least 5 such attacks in a run where each follows
    the previous within 48 h, and no day with more than 8.
    """
    like = a.filter(pl.col("cluster_like")).sort("start")
    n = like.height
    gaps = like["start"].diff().dt.total_seconds().fill_null(0) / 3600.0
    run, longest = 0, 0
    for g in gaps.to_list():
        run = run + 1 if run and g <= r.cluster_max_gap_hours else 1
        longest = max(longest, run)
    busiest = like.group_by(pl.col("start").dt.date()).len().select(pl.col("len").max())
    per_day: int = (busiest.item() if n else 0) or 0
    treated = a.filter(pl.col("cluster_treated_short")).height
    abc = (
        MET
        if n >= r.cluster_min_attacks
        else (NE if n + treated >= r.cluster_min_attacks else NOT_MET)
    )
    d_ok = longest >= r.cluster_min_attacks and per_day <= r.cluster_max_per_day
    d = Criterion(
        "D",
        "frequency from one every other day to eight per day",
        MET if d_ok else (NE if abc == NE else NOT_MET),
        f"longest run with ≤{r.cluster_max_gap_hours:g} h between attacks: {longest}; "
        f"most on one day: {per_day}",
    )
    status = diagnosis_status([Criterion("A–C", "", abc, ""), d])
    return Diagnosis(
        "3.1",
        NAMES["3.1"],
        status,
        (
            Criterion(
                "A–C",
                f"≥{r.cluster_min_attacks} severe unilateral orbital/temporal attacks of "
                f"{r.cluster_min_minutes:g}–{r.cluster_max_minutes:g} min with autonomic signs "
                "or restlessness",
                abc,
                f"{n} such attacks"
                + (f"; {treated} more stopped by treatment before 15 min" if treated else ""),
                attack_ids(a, pl.col("cluster_like")),
            ),
            d,
            clinician_criterion("E"),
        ),
        notes=("A trigeminal autonomic cephalalgia pattern: refer to a headache specialist.",)
        if n
        else (),
        refer=status == MET,
    )


def cervicogenic(findings: pl.DataFrame | None) -> Diagnosis:
    crit, notes = cervicogenic_criteria(findings)
    # D (another diagnosis accounts better) is the clinician's, as E is for 1.1
    status = diagnosis_status(list(crit[:3]))
    return Diagnosis("11.2.1", NAMES["11.2.1"], status, crit, notes=notes)
