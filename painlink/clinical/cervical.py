"""Cervical examination: the flexion–rotation test, repeated measurements and their
error, and the clinician-documented evidence ICHD-3 11.2.1 requires.

A clinic that re-measures something (FRT degrees, range of motion, atlas angles on
radiographs) needs to know whether a change is larger than the measurement's own
error. :func:`measurement_error` estimates it from repeated measurements of the same
people (ICC, standard error of measurement, minimal detectable change), and
:func:`compare_change` says whether a change exceeds it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import polars as pl

from painlink.clinical.criteria import MET, NE, NOT_MET, Criterion, clinician_criterion, tally
from painlink.rules.cervical import (
    CERVICOGENIC_C_NEEDED,
    CERVICOGENIC_ITEMS,
    FRT_POSITIVE_MAX_DEG,
    FRT_SIDE_DIFFERENCE_DEG,
    MDC_Z,
)


@dataclass(frozen=True)
class FrtResult:
    left_deg: float
    right_deg: float
    positive: bool
    side: str | None
    reason: str


def flexion_rotation_test(
    left_deg: float,
    right_deg: float,
    cutoff: float = FRT_POSITIVE_MAX_DEG,
    side_difference: float | None = FRT_SIDE_DIFFERENCE_DEG,
) -> FrtResult:
    """Positive when rotation to a side is at or below the cut-off (default 32°)."""
    for name, value in (("left_deg", left_deg), ("right_deg", right_deg)):
        if not 0 <= value <= 90:
            raise ValueError(f"{name} must be between 0 and 90 degrees, got {value}")
    low_side = "left" if left_deg <= right_deg else "right"
    low = min(left_deg, right_deg)
    if low <= cutoff:
        return FrtResult(
            left_deg, right_deg, True, low_side, f"{low:g}° to the {low_side} ≤ {cutoff:g}°"
        )
    if side_difference is not None and abs(left_deg - right_deg) >= side_difference:
        return FrtResult(
            left_deg,
            right_deg,
            True,
            low_side,
            f"sides differ by {abs(left_deg - right_deg):g}° ≥ {side_difference:g}°",
        )
    return FrtResult(left_deg, right_deg, False, None, f"both sides above {cutoff:g}°")


@dataclass(frozen=True)
class MeasurementError:
    subjects: int
    repeats: int
    icc: float  # ICC(2,1): two-way random effects, absolute agreement, single measurement
    sem: float  # standard error of measurement = SD × √(1 − ICC)
    mdc: float  # minimal detectable change = z × √2 × SEM
    unit: str


def measurement_error(
    values: pl.DataFrame,
    subject: str = "subject",
    repeat: str = "repeat",
    value: str = "value",
    unit: str = "",
) -> MeasurementError:
    """Reliability of a repeated measurement from a long table (subject, repeat, value).

    Every subject must be measured the same number of times (the repeats being trials,
    sessions or raters); ICC(2,1) and SEM follow Shrout & Fleiss and Weir (2005).
    """
    wide = values.pivot(on=repeat, index=subject, values=value)
    matrix = wide.drop(subject).to_numpy().astype(float)
    if matrix.shape[0] < 2 or matrix.shape[1] < 2:
        raise ValueError("need at least 2 subjects measured at least twice each")
    if np.isnan(matrix).any():
        raise ValueError("every subject needs a value for every repeat (missing values found)")
    n, k = matrix.shape
    grand = matrix.mean()
    ss_rows = k * ((matrix.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((matrix.mean(axis=0) - grand) ** 2).sum()
    ss_total = ((matrix - grand) ** 2).sum()
    ss_error = ss_total - ss_rows - ss_cols
    ms_rows = ss_rows / (n - 1)
    ms_cols = ss_cols / (k - 1)
    ms_error = ss_error / ((n - 1) * (k - 1))
    icc = (ms_rows - ms_error) / (ms_rows + (k - 1) * ms_error + k * (ms_cols - ms_error) / n)
    sd = float(np.std(matrix, ddof=1))
    sem = sd * math.sqrt(max(0.0, 1.0 - icc))
    return MeasurementError(n, k, float(icc), sem, MDC_Z * math.sqrt(2) * sem, unit)


@dataclass(frozen=True)
class ChangeVerdict:
    change: float
    mdc: float
    beyond_error: bool
    message: str


def compare_change(before: float, after: float, error: MeasurementError) -> ChangeVerdict:
    change = after - before
    beyond = abs(change) > error.mdc
    unit = f" {error.unit}" if error.unit else ""
    message = (
        f"change {change:+.2f}{unit} is larger than the minimal detectable change "
        f"{error.mdc:.2f}{unit}: likely real"
        if beyond
        else f"change {change:+.2f}{unit} is within the measurement error "
        f"(minimal detectable change {error.mdc:.2f}{unit}): it cannot be told from noise"
    )
    return ChangeVerdict(change, error.mdc, beyond, message)


def cervicogenic_criteria(
    findings: pl.DataFrame | None,
) -> tuple[tuple[Criterion, ...], tuple[str, ...]]:
    """ICHD-3 11.2.1 from clinician-documented findings only; never from diary neck pain."""
    notes = (
        "Neck pain in the diary is never evidence for cervicogenic headache: it is part of "
        "most migraine attacks.",
    )
    if findings is None or findings.height == 0:
        empty = "no clinician-documented evidence"
        return (
            Criterion("A", "headache fulfilling C", NE, empty),
            Criterion("B", CERVICOGENIC_ITEMS["cervical_lesion"][1], NE, empty),
            Criterion("C", f"≥{CERVICOGENIC_C_NEEDED} of C1–C4", NE, empty),
            clinician_criterion("D"),
        ), notes
    latest = findings.sort("at").group_by("item").agg(pl.all().last())
    state = {r["item"]: r for r in latest.iter_rows(named=True)}

    def documented(item: str) -> tuple[str, str]:
        row = state.get(item)
        if row is None:
            return NE, "not documented"
        who = f"{row.get('clinician') or 'clinician'}, {row['at']:%Y-%m-%d}"
        return (MET if row["present"] else NOT_MET), f"documented by {who}"

    b_status, b_ev = documented("cervical_lesion")
    c_items = [k for k, (letter, _) in CERVICOGENIC_ITEMS.items() if letter.startswith("C")]
    states = {k: documented(k) for k in c_items}
    met = sum(s == MET for s, _ in states.values())
    unknown = sum(s == NE for s, _ in states.values())
    c_status = tally(met, unknown, CERVICOGENIC_C_NEEDED)
    c_ev = "; ".join(f"{CERVICOGENIC_ITEMS[k][0]} {s} ({e})" for k, (s, e) in states.items())
    return (
        Criterion("A", "headache fulfilling C", c_status, "follows C"),
        Criterion("B", CERVICOGENIC_ITEMS["cervical_lesion"][1], b_status, b_ev),
        Criterion("C", f"≥{CERVICOGENIC_C_NEEDED} of C1–C4", c_status, c_ev),
        clinician_criterion("D"),
    ), notes


def frt_by_visit(measurements: pl.DataFrame) -> list[dict[str, object]]:
    """Flexion–rotation test per patient and visit, repeats averaged per side."""
    frt = measurements.filter(pl.col("measure").is_in(["frt_left_deg", "frt_right_deg"]))
    if frt.height == 0:
        return []
    means = (
        frt.group_by("patient_id", "at", "measure")
        .agg(pl.col("value").mean())
        .pivot(on="measure", index=["patient_id", "at"], values="value")
    )
    out = []
    for row in means.sort("patient_id", "at").iter_rows(named=True):
        if row.get("frt_left_deg") is None or row.get("frt_right_deg") is None:
            continue
        try:
            result = flexion_rotation_test(row["frt_left_deg"], row["frt_right_deg"])
        except ValueError:  # stored before the range was checked on the way in: not a test
            continue
        out.append({"patient_id": row["patient_id"], "at": row["at"], **asdict(result)})
    return out
