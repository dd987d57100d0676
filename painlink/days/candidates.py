"""Every recorded day variable, in each of its declared forms: the trigger candidates.

A trigger analysis that tests fixed definitions ("2 units of alcohol", "less than 6 h
of sleep") finds the triggers of the population those definitions came from. Here
each numeric or yes/no day column — built-in, the person's own factors, imported —
becomes a few candidate columns in forms declared in :mod:`painlink.rules.triggers`:
present or absent, above or below the person's own usual level (their quarters),
per unit of the person's own spread (per SD), and the change from the person's
recent baseline (the mean of the previous week's recorded days, per SD of such
changes). Lags are applied by the analysis.

Everything is computed per person with window expressions, so one call serves a
cohort of any size; thresholds are the person's own, and are returned for the
words shown beside a verdict ("stress above 6/10, your upper quarter").
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from painlink.days.exposures import EXPOSURES
from painlink.rules.triggers import FORMS_BY_KIND, NOT_CANDIDATES, VARIABLES, TriggerSettings

_P = "patient_id"
OWN_PREFIX = "factor_"


@dataclass(frozen=True)
class Candidate:
    """One variable in one form: the column ``x_<variable>__<form>`` of the frame."""

    variable: str
    form: str
    kind: str

    @property
    def column(self) -> str:
        return f"x_{self.variable}__{self.form}"


def variable_kinds(days: pl.DataFrame) -> dict[str, tuple[str, str]]:
    """column → (variable name, kind) for every candidate column of a day table.

    An own factor holding only 0 and 1 is yes/no; one that is never negative is an
    amount (zero means "none that day"); any other is a level."""
    found: dict[str, tuple[str, str]] = {}
    for col, (kind, _words, _unit) in VARIABLES.items():
        if col in days.columns and col not in NOT_CANDIDATES:
            found[col] = (col, kind)
    for col in days.columns:
        if not col.startswith(OWN_PREFIX):
            continue
        values = days[col].drop_nulls()
        if not values.len():
            continue
        if values.is_in([0.0, 1.0]).all():
            kind = "yesno"
        elif values.min() >= 0:  # type: ignore[operator]
            kind = "amount"
        else:
            kind = "level"
        found[col] = (col.removeprefix(OWN_PREFIX), kind)
    return found


def _numeric(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.Float64)


def _recorded(col: str, kind: str) -> pl.Expr:
    """Days on which the variable was recorded; the menstrual window only counts people
    who record periods (some bleeding), the pill-free week people on a pill cycle."""
    if kind == "menstruation":
        bleeding = pl.col(col).is_not_null() & ~pl.col(col).is_in(["none"])
        return pl.when(bleeding.any().over(_P)).then(pl.col(col).is_not_null()).otherwise(False)
    if kind == "contraceptive":
        cycle = (pl.col(col) == "pill_free").any().over(_P) & (pl.col(col) == "active").any().over(
            _P
        )
        return pl.when(cycle).then(pl.col(col).is_not_null()).otherwise(False)
    return pl.col(col).is_not_null()


def candidate_columns(
    days: pl.DataFrame, settings: TriggerSettings | None = None
) -> tuple[pl.DataFrame, list[Candidate], pl.DataFrame]:
    """The day table (sorted by patient and date) with one column per candidate, the
    candidates, and a frame of each person's scale per variable: recorded days, their
    quarters, spread and the spread of changes (the words of a definition use them).

    ``days`` must hold consecutive dates per patient, as the day table does."""
    s = settings or TriggerSettings()
    frame = days.sort(_P, "date")
    kinds = variable_kinds(frame)
    exprs: list[pl.Expr] = []
    scale_exprs: list[pl.Expr] = []
    candidates: list[Candidate] = []
    for col, (name, kind) in kinds.items():
        recorded = _recorded(col, kind)
        scale_exprs.append(recorded.sum().alias(f"{name}__recorded"))
        for form in FORMS_BY_KIND[kind]:
            cand = Candidate(name, form, kind)
            candidates.append(cand)
            exprs.append(_form(col, kind, form, recorded, s).alias(cand.column))
        if kind in ("amount", "level"):
            v = _numeric(col)
            scale_exprs += [
                v.quantile(s.usual_low, "linear").alias(f"{name}__low"),
                v.quantile(s.usual_high, "linear").alias(f"{name}__high"),
                v.std().alias(f"{name}__sd"),
                _change(col, s).std().alias(f"{name}__change_sd"),
            ]
    frame = frame.with_columns(exprs)
    scales = days.sort(_P, "date").group_by(_P, maintain_order=True).agg(scale_exprs)
    return frame, candidates, scales


def _change(col: str, s: TriggerSettings) -> pl.Expr:
    """Today's value minus the mean of the previous ``baseline_days`` recorded days that
    were not inside an attack (an attack may have changed them)."""
    v = pl.col(col).cast(pl.Float64)
    clean = pl.when(_attack_day()).then(None).otherwise(v)
    before = clean.shift(1).rolling_mean(s.baseline_days, min_samples=s.baseline_min_days).over(_P)
    return v - before


def _attack_day() -> pl.Expr:
    return pl.col("onset").fill_null(False) | pl.col("ongoing").fill_null(False)


def _form(col: str, kind: str, form: str, recorded: pl.Expr, s: TriggerSettings) -> pl.Expr:
    v = _numeric(col) if kind not in ("menstruation", "contraceptive") else None
    if form == "window":
        value = EXPOSURES["menstrual_window"][1].cast(pl.Float64)
        return pl.when(recorded).then(value).otherwise(None)
    if form == "pill_free":
        value = (pl.col(col) == "pill_free").cast(pl.Float64)
        return pl.when(recorded).then(value).otherwise(None)
    assert v is not None
    if form == "present":
        return (v > 0).cast(pl.Float64)
    if form == "high":
        cut = v.quantile(s.usual_high, "linear").over(_P)
        # a person whose upper quarter starts at their lowest value has no "high" days
        usable = cut > v.min().over(_P)
        return pl.when(usable).then((v > cut).cast(pl.Float64)).otherwise(None)
    if form == "low":
        cut = v.quantile(s.usual_low, "linear").over(_P)
        usable = cut < v.max().over(_P)
        return pl.when(usable).then((v < cut).cast(pl.Float64)).otherwise(None)
    if form == "per_sd":
        sd = v.std().over(_P)
        return pl.when(sd > 0).then((v - v.mean().over(_P)) / sd).otherwise(None)
    if form == "change":
        change = _change(col, s)
        sd = change.std().over(_P)
        return pl.when(sd > 0).then(change / sd).otherwise(None)
    raise ValueError(f"unknown form {form!r}")
