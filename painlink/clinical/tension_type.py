"""ICHD-3 tension-type headache: 2.1 infrequent, 2.2 frequent, 2.3 chronic and the
probable forms 2.4.1–2.4.3, from the attacks that could be tension-type episodes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import polars as pl

from painlink.clinical.criteria import (
    MET,
    NE,
    NOT_MET,
    Criterion,
    Diagnosis,
    attack_ids,
    clinician_criterion,
    diagnosis_status,
    letter_criterion,
    months_criterion,
)
from painlink.rules.ichd3 import NAMES, NDPH_NOTE, Ichd3Rules


def _days_of(attacks: pl.DataFrame, since: dt.date | None = None) -> int:
    """Calendar days touched by these attacks (from ``since`` on: the analysed window)."""
    if not attacks.height:
        return 0
    days = attacks.select(
        pl.date_ranges(pl.col("start").dt.date(), pl.coalesce("end", "start").dt.date()).alias("d")
    ).explode("d")
    if since is not None:
        days = days.filter(pl.col("d") >= since)
    return days.unique().height


def tension_type(
    a: pl.DataFrame,
    months: pl.DataFrame,
    r: Ichd3Rules,
    span_days: int,
    first_day: dt.date | None = None,
) -> list[Diagnosis]:
    """2.1, 2.2, 2.3 and their probable forms 2.4.1–2.4.3.

    Only tension-type episodes count: attacks with aura, cluster-like attacks and
    attacks with migraine features are left out (ICHD-3 2.x A "fulfilling criteria
    B-D"; 2.4 B "not fulfilling ICHD-3 criteria for any other headache disorder").
    The frequency of a probable form comes from the episodes that fulfil all but one
    criterion, not from the full episodes alone.
    """
    fulfilling = a.filter(pl.col("fulfils_tth"))
    candidates = a.filter(pl.col("fulfils_tth") | pl.col("but_one_tth"))
    episodes, n_cand = fulfilling.height, candidates.height

    def per_month(frame: pl.DataFrame, column: str) -> float:
        """Days per month on average: over the complete 30-day months when there are
        any (the same months 2.3 counts, so 2.2 and 2.3 meet at 15 days), else over
        the whole diary."""
        if months.height and column in months.columns:
            return float(months[column].sum()) / float(months["days"].sum()) * r.month_days
        return _days_of(frame, first_day) / span_days * r.month_days if span_days else 0.0

    full_rate = per_month(fulfilling, "tth_episode_days")
    cand_rate = per_month(candidates, "tth_candidate_days")
    enough_time = r.more_than_months(span_days)
    # B–D are tallied over the attacks that could be tension-type episodes
    tt = a.filter((pl.col("a_B") != MET) & ~pl.col("cluster_like") & ~pl.col("migraine_features"))
    b = letter_criterion(
        tt,
        "t_B",
        "B",
        f"lasting {r.tth_min_minutes:g} min to {r.tth_max_hours / 24:g} days",
        r.tth_min_episodes,
    )
    c = letter_criterion(
        tt,
        "t_C",
        "C",
        f"≥{r.tth_features_needed} of: bilateral, pressing/tightening, "
        "mild or moderate, not aggravated by routine activity",
        r.tth_min_episodes,
    )
    d = letter_criterion(
        tt,
        "t_D",
        "D",
        "no nausea or vomiting; no more than one of photophobia/phonophobia",
        r.tth_min_episodes,
    )
    e = clinician_criterion("E")
    out = []
    freq = (
        f"{episodes} tension-type episodes in all; {_days_of(fulfilling, first_day)} days "
        f"with one in the {span_days} diary days analysed; "
        f"{full_rate:.1f} days/month on average"
    )
    bands: dict[str, Callable[[float], bool]] = {
        "2.1": lambda rate: rate < r.tth_infrequent_below,
        "2.2": lambda rate: r.tth_infrequent_below <= rate < r.tth_chronic_days,
    }
    for code, in_band in bands.items():
        a_status = MET if episodes >= r.tth_min_episodes and in_band(full_rate) else NOT_MET
        if code == "2.2" and a_status == MET and not enough_time:
            a_status = NE
        requirement = (
            f"≥{r.tth_min_episodes} episodes on <{r.tth_infrequent_below:g} day/month on average"
            if code == "2.1"
            else f"≥{r.tth_min_episodes} episodes on {r.tth_infrequent_below:g}–"
            f"{r.tth_chronic_days - 1} days/month on average for >{r.chronic_months} months"
        )
        a_ = Criterion("A", requirement, a_status, freq, attack_ids(a, pl.col("fulfils_tth")))
        crit = [a_, b, c, d]
        status = diagnosis_status(crit)
        out.append(Diagnosis(code, NAMES[code], status, (*crit, e)))
        # 2.4.x A: all but one of A–D — fewer than 10 full episodes (A missed), or ≥10
        # episodes each fulfilling all but one of B–D; in the frequency band of the
        # episodes that do qualify
        probable_code = "2.4.1" if code == "2.1" else "2.4.2"
        probable = (
            status != MET
            and in_band(cand_rate)
            and (0 < episodes < r.tth_min_episodes or n_cand >= r.tth_min_episodes)
            and (code == "2.1" or enough_time)
        )
        out.append(
            Diagnosis(
                probable_code,
                NAMES[probable_code],
                "probable" if probable else NOT_MET,
                (
                    Criterion(
                        "A",
                        f"episodes fulfil all but one of {code} A–D",
                        MET if probable else NOT_MET,
                        f"{episodes} full episodes, {n_cand - episodes} missing one of B–D; "
                        f"together on {cand_rate:.1f} days/month in {span_days} diary days",
                        attack_ids(candidates, pl.lit(True)),
                    ),
                    Criterion(
                        "B",
                        "not fulfilling criteria of another headache disorder",
                        MET if probable else NE,
                        "attacks with aura, cluster-like attacks and attacks with migraine "
                        "features are not counted",
                    ),
                    clinician_criterion("C"),
                ),
            )
        )
    # 2.3 chronic TTH: A counts days of headache fulfilling 2.3 B–D, on average
    a3 = months_criterion(
        months,
        "tth_2_3_days",
        r.tth_chronic_days,
        "A",
        f"headache fulfilling B–D on ≥{r.tth_chronic_days} days/month on average for "
        f">{r.chronic_months} months (migraine-like days and tablet-only days do not count)",
        r,
        span_days,
        average=True,
        possible="tth_2_3_possible_days",
    )
    qualifying = a.filter(pl.col("fulfils_2_3"))

    def letter3(col: str, letter: str, requirement: str) -> Criterion:
        counted = a.filter(pl.col("could_be_2_3") | pl.col("but_one_2_3"))
        met = counted.filter(pl.col(col) == MET).height
        status = MET if qualifying.height else (NE if met else NOT_MET)
        return Criterion(
            letter,
            requirement,
            status,
            f"{met} of {counted.height} tension-type-like attacks meet it",
            attack_ids(counted, pl.col(col) == MET),
        )

    crit3 = [
        a3,
        letter3(
            "t_B_chronic",
            "B",
            f"lasting hours to days, or unremitting (≥{r.tth_chronic_min_hours:g} h)",
        ),
        letter3("t_C", "C", "≥2 of the TTH pain features"),
        letter3(
            "t_D_chronic",
            "D",
            "no more than one of photophobia, phonophobia or mild nausea; "
            "no moderate/severe nausea, no vomiting",
        ),
    ]
    s3 = diagnosis_status(crit3)
    out.append(
        Diagnosis(
            "2.3",
            NAMES["2.3"],
            s3,
            (*crit3, e),
            notes=(NDPH_NOTE,) if s3 == MET else (),
        )
    )
    # 2.4.3: headache fulfilling all but one of 2.3 A–D — here ≥15 days/month whose
    # headache misses one of B–D (missing A is the episodic forms' ground)
    a43 = months_criterion(
        months,
        "tth_2_3_but_one_days",
        r.tth_chronic_days,
        "A",
        f"headache fulfilling all but one of 2.3 B–D on ≥{r.tth_chronic_days} days/month "
        "on average",
        r,
        span_days,
        average=True,
    )
    probable3 = s3 != MET and a43.status == MET
    out.append(
        Diagnosis(
            "2.4.3",
            NAMES["2.4.3"],
            "probable" if probable3 else NOT_MET,
            (
                Criterion(
                    "A",
                    "headache fulfilling all but one of 2.3 A–D",
                    MET if probable3 else NOT_MET,
                    a43.evidence,
                ),
                clinician_criterion("C"),
            ),
        )
    )
    return out
