"""ICHD-3 8.2 medication-overuse headache: days per month of each acute drug class,
of several classes together and of drugs whose class is unknown."""

from __future__ import annotations

import polars as pl

from painlink.clinical.criteria import (
    MET,
    NE,
    NOT_MET,
    Criterion,
    Diagnosis,
    diagnosis_status,
    months_criterion,
)
from painlink.rules.ichd3 import MOH_CODES, NAMES, Ichd3Rules
from painlink.rules.medications import DrugClass


def medication_overuse(
    months: pl.DataFrame, r: Ichd3Rules, primary: bool, span_days: int
) -> list[Diagnosis]:
    recent = months.filter(pl.col("month") <= r.moh_months).sort("month")
    # 8.2 B: "regular overuse for >3 months" — the diary must span more than 3 months
    enough = recent.height >= r.moh_months and r.more_than_months(span_days, r.moh_months)
    a_ = months_criterion(
        months,
        "ichd_headache_days",
        r.moh_headache_days,
        "A",
        f"headache on ≥{r.moh_headache_days} days/month in a person with a "
        "pre-existing headache disorder (days with headache, not tablet-only days)",
        r,
        span_days,
    )
    out: list[Diagnosis] = []
    single_met = False
    for cls, limit in r.moh_days.items():
        col = f"med_{cls}_days"
        values = recent[col].to_list() if col in recent.columns else []
        b_status = (
            NE if not enough else (MET if values and all(v >= limit for v in values) else NOT_MET)
        )
        single_met |= b_status == MET
        code, name = MOH_CODES[cls]
        b = Criterion(
            "B",
            f"{cls.replace('_', ' ')} on ≥{limit} days/month for >{r.moh_months} months",
            b_status,
            f"days per month, newest first: {values}",
        )
        crit = [a_, b]
        out.append(Diagnosis(code, name, diagnosis_status(crit), (*crit,)))
    multi = [
        DrugClass.ergotamine,
        DrugClass.triptan,
        DrugClass.non_opioid_analgesic,
        DrugClass.opioid,
        DrugClass.combination_analgesic,
    ]
    if r.moh_count_gepants_ditans:
        multi += [DrugClass.gepant, DrugClass.ditan]
    total = months.filter(pl.col("month") <= r.moh_months).sort("month")
    # days with any of the classes (not the sum of class days: one day with two drugs is one day)
    totals = total["acute_any_days"].to_list() if "acute_any_days" in total.columns else []
    other = total["med_other_days"].to_list() if "med_other_days" in total.columns else []
    classes_used = sum(
        1
        for c in multi
        if f"med_{c.value}_days" in total.columns and total[f"med_{c.value}_days"].sum() > 0
    )
    overused_together = (
        bool(totals)
        and all(v >= r.moh_multiple_days for v in totals)
        and not single_met
        and classes_used >= 2  # "multiple drug classes"
    )
    m_status = NE if not enough else (MET if overused_together else NOT_MET)
    multi_b = Criterion(
        "B",
        f"≥{r.moh_multiple_days} days/month with {', '.join(c.value for c in multi)} combined, "
        "no single class overused",
        m_status,
        f"days per month, newest first: {totals}; {classes_used} classes used",
    )
    out.append(
        Diagnosis(
            "8.2.6",
            NAMES["8.2.6"],
            diagnosis_status([a_, multi_b]),
            (a_, multi_b),
            notes=("a single class is overused, so 8.2.6 does not apply",) if single_met else (),
        )
    )
    unverified = (
        NE
        if not enough
        else (
            MET
            if other
            and any(v > 0 for v in other)
            and not single_met
            and m_status != MET
            and all((t + o) >= r.moh_multiple_days for t, o in zip(totals, other, strict=False))
            else NOT_MET
        )
    )
    unverified_b = Criterion(
        "B",
        f"≥{r.moh_multiple_days} days/month of acute drugs whose class could not be "
        "established (class 'other')",
        unverified,
        f"'other' days per month: {other}",
    )
    out.append(
        Diagnosis("8.2.7", NAMES["8.2.7"], diagnosis_status([a_, unverified_b]), (a_, unverified_b))
    )
    if not primary:
        out = [
            Diagnosis(
                d.code,
                d.name,
                NE if d.status == MET else d.status,
                d.criteria,
                notes=(
                    *d.notes,
                    "8.2 needs a pre-existing headache disorder; none is established yet",
                ),
            )
            for d in out
        ]
    return out
