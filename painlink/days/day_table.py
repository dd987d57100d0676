"""The day table: one row per patient per calendar day, the input of every analysis.

Analyses of triggers, day counts and outcomes all ask "what happened on day d?",
so the diary is flattened here once, vectorised, into columns:

- ``logged``: any entry exists for the day (a check-in, an attack, a medication, a
  spine entry). Days with no entry are kept, with ``logged`` false, so an analysis
  can tell "headache-free" from "not recorded" and decide how to treat each.
- attacks: ``attack_day``, ``onset`` (an attack starts), ``onsets`` (how many),
  ``ongoing`` (an attack runs on from an earlier day), ``headache_day`` (an attack
  with pain, i.e. intensity above none or not rated), ``attack_hours`` (hours of the
  day inside an attack), ``max_intensity`` (0–3) and ``max_intensity_nrs`` (0–10)
  kept apart, ``aura_day``, ``open_attack``.
- medication: ``med_<class>`` intakes per drug class, ``acute_med_day``.
- the daily check-in's columns as recorded, own factors as ``factor_<name>``.
- spine: ``spine_<region>`` (highest 0–10 rating of episodes touching the day),
  ``neck_pain_max`` and ``back_pain_max`` across check-in and episodes.
- treatments: ``treatment`` and ``treatment_kind`` in force (``; ``-joined if several).

An attack still open (no end) counts up to ``as_of`` and at most
``OPEN_ATTACK_MAX_DAYS`` days, so a forgotten "end" does not turn months into
headache days.

The table covers at most the last ``ANALYSIS_WINDOW_DAYS`` days up to each person's
latest entry (:func:`window_starts`): analysis work is bounded by that window, never by
the calendar distance to the earliest entry (one entry dated 1900 would otherwise add
46,000 empty days to every analysis). Older entries stay in the diary and its exports;
the analyses say which period they looked at.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

import polars as pl

from painlink.diary.frames import TABLE_BY_NAME, DiaryFrames
from painlink.diary.vocabulary import SpineRegion
from painlink.rules.medications import ACUTE_CLASSES, DrugClass

OPEN_ATTACK_MAX_DAYS = 3  # ICHD-3 migraine lasts at most 72 h untreated (1.1 criterion B)
#: How far back from a person's latest entry the analyses look. Five years hold every
#: window an analysis uses (ICHD-3's 3 months, a treatment's 90-day baseline, the
#: forecast's history) many times over, while attack patterns and treatments drift
#: over years; and it bounds the day table at ~1,800 rows per person whatever dates
#: the diary holds (the date bounds, painlink/rules/plausibility.py, allow 1900).
ANALYSIS_WINDOW_DAYS = 5 * 365 + 1
_KEY = ["patient_id", "date"]
_NECK = [SpineRegion.upper_cervical, SpineRegion.lower_cervical, SpineRegion.cervical]
_BACK = [SpineRegion.thoracic, SpineRegion.lumbar, SpineRegion.sacral_pelvic]
_CHECKIN = [f.name for f in TABLE_BY_NAME["days"].fields if f.name not in _KEY]


def _attack_end(attacks: pl.DataFrame, as_of: dt.date | None) -> pl.Expr:
    cap = pl.col("start") + pl.duration(days=OPEN_ATTACK_MAX_DAYS)
    if as_of is None:
        open_end = pl.col("start")
    else:
        limit = pl.lit(dt.datetime.combine(as_of, dt.time.max))
        open_end = pl.max_horizontal(pl.col("start"), pl.min_horizontal(limit, cap))
    return pl.coalesce(pl.col("end"), open_end).alias("end_eff")


def window_starts(diary: DiaryFrames, as_of: dt.date | None = None) -> pl.DataFrame:
    """Per patient (``patient_id``, ``since``): the first day the analyses look at,
    ``ANALYSIS_WINDOW_DAYS`` before the latest entry of any kind. Computed from the raw
    tables, before any per-day expansion, so it costs by rows, not by dates."""
    latest = [
        diary.days.select("patient_id", pl.col("date")),
        diary.factor_values.select("patient_id", pl.col("date")),
        diary.medications.select("patient_id", pl.col("taken_at").dt.date().alias("date")),
        diary.attacks.select(
            "patient_id",
            pl.max_horizontal(pl.col("start"), _attack_end(diary.attacks, as_of).alias("e"))
            .dt.date()
            .alias("date"),
        ),
        diary.spine_pain.select(
            "patient_id",
            pl.coalesce(pl.col("end"), pl.col("start")).dt.date().alias("date"),
        ),
    ]
    return (
        pl.concat(latest)
        .group_by("patient_id")
        .agg(pl.col("date").max())
        .select(
            "patient_id",
            (pl.col("date") - pl.duration(days=ANALYSIS_WINDOW_DAYS - 1)).alias("since"),
        )
    )


def _from_since(start: pl.Expr, since: pl.DataFrame | None) -> pl.Expr:
    """A date range's first day, moved up to the window's start (``since`` joined in)."""
    return start if since is None else pl.max_horizontal(start, pl.col("since"))


def _join_since(frame: pl.DataFrame, since: pl.DataFrame | None) -> pl.DataFrame:
    return frame if since is None else frame.join(since, on="patient_id", how="inner")


def attack_day_rows(
    attacks: pl.DataFrame, as_of: dt.date | None = None, since: pl.DataFrame | None = None
) -> pl.DataFrame:
    """One row per attack per calendar day it touches, with the hours it covers that day
    (only days from each person's ``since`` on, when given: see :func:`window_starts`)."""
    a = _join_since(attacks, since)
    a = a.with_columns(_attack_end(a, as_of)).with_columns(
        pl.date_ranges(
            _from_since(pl.col("start").dt.date(), since), pl.col("end_eff").dt.date()
        ).alias("date")
    )
    a = a.explode("date").drop_nulls("date")
    if since is not None:
        a = a.drop("since")
    day_start = pl.col("date").cast(pl.Datetime("us"))
    day_end = day_start + pl.duration(days=1)
    overlap = pl.min_horizontal(pl.col("end_eff"), day_end) - pl.max_horizontal(
        pl.col("start"), day_start
    )
    return a.with_columns(
        (overlap.dt.total_seconds() / 3600.0).clip(lower_bound=0).alias("hours"),
        (pl.col("start").dt.date() == pl.col("date")).alias("starts_here"),
        (pl.col("intensity").is_null() | (pl.col("intensity") > 0)).alias("painful"),
    )


def _attack_days(
    attacks: pl.DataFrame, as_of: dt.date | None, since: pl.DataFrame | None
) -> pl.DataFrame:
    a = attack_day_rows(attacks, as_of, since)
    return a.group_by(_KEY).agg(
        pl.lit(True).alias("attack_day"),
        pl.col("starts_here").any().alias("onset"),
        pl.col("starts_here").sum().cast(pl.Int32).alias("onsets"),
        (~pl.col("starts_here")).any().alias("ongoing"),
        pl.col("painful").any().alias("headache_day"),
        pl.col("hours").sum().clip(upper_bound=24.0).alias("attack_hours"),
        pl.col("intensity").max().alias("max_intensity"),
        pl.col("intensity_nrs").max().alias("max_intensity_nrs"),
        (pl.col("aura").fill_null(False) & pl.col("starts_here")).any().alias("aura_day"),
        pl.col("end").is_null().any().alias("open_attack"),
    )


def _medication_days(meds: pl.DataFrame) -> pl.DataFrame:
    classes = [c.value for c in DrugClass]
    counts = (
        meds.with_columns(pl.col("taken_at").dt.date().alias("date"))
        .group_by(_KEY)
        .agg([(pl.col("drug_class") == c).sum().cast(pl.Int32).alias(f"med_{c}") for c in classes])
    )
    acute = [f"med_{c.value}" for c in ACUTE_CLASSES]
    return counts.with_columns(
        pl.any_horizontal([pl.col(c) > 0 for c in acute]).alias("acute_med_day")
    )


def _spine_days(spine: pl.DataFrame, since: pl.DataFrame | None) -> pl.DataFrame:
    s = (
        _join_since(spine, since)
        .with_columns(
            pl.date_ranges(
                _from_since(pl.col("start").dt.date(), since),
                pl.coalesce(pl.col("end"), pl.col("start")).dt.date(),
            ).alias("date")
        )
        .explode("date")
        .drop_nulls("date")
    )
    return s.group_by(_KEY).agg(
        [
            pl.col("nrs").filter(pl.col("region") == r.value).max().alias(f"spine_{r.value}")
            for r in SpineRegion
        ]
    )


def _treatment_days(treatments: pl.DataFrame, span: pl.DataFrame) -> pl.DataFrame:
    """Treatments in force per day, only within each person's table (``first_date`` to
    ``last_date``): a treatment begun decades before the window costs nothing."""
    t = treatments.join(span, on="patient_id", how="inner").with_columns(
        pl.date_ranges(
            pl.max_horizontal("start", "first_date"),
            pl.min_horizontal(pl.coalesce("end", "last_date"), "last_date"),
        ).alias("date")
    )
    t = t.explode("date").drop_nulls("date")
    return (
        t.sort("start")
        .group_by(_KEY, maintain_order=True)
        .agg(
            pl.col("name").str.join("; ").alias("treatment"),
            pl.col("kind").str.join("; ").alias("treatment_kind"),
        )
    )


def _factor_days(diary: DiaryFrames) -> pl.DataFrame | None:
    if not diary.factor_values.height:
        return None
    wide = diary.factor_values.with_columns(
        pl.concat_str([pl.lit("factor_"), pl.col("name")]).alias("name")
    ).pivot(on="name", index=_KEY, values="value")
    return wide


def build_day_table(
    diary: DiaryFrames, *, as_of: dt.date | None = None, windowed: bool = True
) -> pl.DataFrame:
    """Flatten diaries into one row per patient per day, from first to last entry —
    within the last ``ANALYSIS_WINDOW_DAYS`` before the latest entry unless
    ``windowed`` is false (then the cost grows with the calendar span)."""
    since = window_starts(diary, as_of) if windowed else None
    attack_days = _attack_days(diary.attacks, as_of, since)
    med_days = _in_window(_medication_days(diary.medications), since)
    spine_days = _spine_days(diary.spine_pain, since)
    checkin = _in_window(diary.days.with_columns(pl.lit(True).alias("checked_in")), since)
    factor_days = _factor_days(diary)
    if factor_days is not None:
        factor_days = _in_window(factor_days, since)

    dated = [
        checkin.select(_KEY),
        attack_days.select(_KEY),
        med_days.select(_KEY),
        spine_days.select(_KEY),
    ]
    if factor_days is not None:
        dated.append(factor_days.select(_KEY))
    entries = pl.concat(dated).unique()
    span = entries.group_by("patient_id").agg(
        pl.col("date").min().alias("first_date"), pl.col("date").max().alias("last_date")
    )
    grid = (
        span.with_columns(pl.date_ranges("first_date", "last_date").alias("date"))
        .select("patient_id", "date")
        .explode("date")
    )
    table = (
        grid.join(checkin, on=_KEY, how="left")
        .join(attack_days, on=_KEY, how="left")
        .join(med_days, on=_KEY, how="left")
        .join(spine_days, on=_KEY, how="left")
    )
    if factor_days is not None:
        table = table.join(factor_days, on=_KEY, how="left")
    table = table.join(
        _treatment_days(diary.treatments, span),
        on=_KEY,
        how="left",
    )
    med_cols = [f"med_{c.value}" for c in DrugClass]
    flags = [
        "attack_day",
        "onset",
        "ongoing",
        "headache_day",
        "aura_day",
        "open_attack",
        "acute_med_day",
    ]
    spine_cols = [f"spine_{r.value}" for r in SpineRegion]
    table = table.with_columns(
        [pl.col(c).fill_null(False) for c in [*flags, "checked_in"]]
        + [pl.col(c).fill_null(0) for c in [*med_cols, "onsets"]]
        + [pl.col("attack_hours").fill_null(0.0)]
    ).with_columns(
        (
            pl.col("checked_in")
            | pl.col("attack_day")
            | pl.any_horizontal([pl.col(c) > 0 for c in med_cols])
            | pl.any_horizontal([pl.col(c).is_not_null() for c in spine_cols])
        ).alias("logged"),
        pl.max_horizontal(["neck_pain", *[f"spine_{r.value}" for r in _NECK]]).alias(
            "neck_pain_max"
        ),
        pl.max_horizontal(["low_back_pain", *[f"spine_{r.value}" for r in _BACK]]).alias(
            "back_pain_max"
        ),
    )
    front = [
        "patient_id",
        "date",
        "logged",
        "checked_in",
        "attack_day",
        "onset",
        "onsets",
        "ongoing",
        "headache_day",
        "attack_hours",
        "max_intensity",
        "max_intensity_nrs",
        "aura_day",
        "open_attack",
        "acute_med_day",
        *med_cols,
        *_CHECKIN,
        "neck_pain_max",
        "back_pain_max",
        *spine_cols,
        "treatment",
        "treatment_kind",
    ]
    rest = sorted(c for c in table.columns if c not in front)
    return table.select([*front, *rest]).sort(_KEY)


def _in_window(frame: pl.DataFrame, since: pl.DataFrame | None) -> pl.DataFrame:
    """Rows dated on or after each person's window start."""
    if since is None:
        return frame
    return (
        frame.join(since, on="patient_id", how="inner")
        .filter(pl.col("date") >= pl.col("since"))
        .drop("since")
    )


class _Readable(Protocol):
    """What :func:`day_table` needs of a store (``painlink.store.Store``, a layer above)."""

    def read(self, patient_ids: Sequence[str] | None = None) -> DiaryFrames: ...


def day_table(
    store: _Readable, patient_ids: list[str] | None = None, *, as_of: dt.date | None = None
) -> pl.DataFrame:
    """The day table of stored patients (all when ``patient_ids`` is None)."""
    return build_day_table(store.read(patient_ids), as_of=as_of)
