"""Each call checked against the person's other records: is it explained by them?

A variable written from the real causes — sleep quality from last night's sleep and the
day's stress, coffee after a short night — goes with attacks wherever those act, and a
test of one variable at a time calls it. Each call is therefore fitted again with the
person's other variables on the same day of its lag as covariates, each in its own
column, standardised (:func:`painlink.analysis.trigger_fit.person_estimates` with
``adjust``; the same day only where attacks do not move them). The call is
withdrawn — verdict ``explained by other records`` — when the adjusted estimate falls
below half the call's own (on the log scale, in its direction), its 95% interval
no longer lies wholly in the call's direction, **and** a record that moves with it
(same-day |r| ≥ 0.3) keeps its own call beside the others: the association is
explained away by something that still carries it. Two near copies that fade together
both stay calls — the diary cannot tell which acts — each shown with what it moves
with.

Why a check of the calls and not every model adjusted: adjusting every test for near
copies of the cause (sleep quality is mostly sleep and stress) takes the power from
the cause itself — measured in docs/validation.md, 0.092 → 0.079 of the true effects
found at 180 days on the independent simulator — while a real cause keeps its size
beside its companions (only its interval widens), and a companion's falls towards 0. The
companions come from the exposures alone, never the attacks, so choosing them does not
bias the test. The check costs one model per call.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
from scipy import stats

from painlink.analysis.companion_design import companion_columns, cycle_variables
from painlink.analysis.trigger_fit import person_estimates
from painlink.analysis.trigger_verdicts import variable_words
from painlink.days.candidates import Candidate
from painlink.rules.triggers import CALLS, EXPLAINED, TriggerSettings

#: the columns the check adds to the verdicts: the estimate beside the other records
#: (in the verdict's direction, with its own 95% interval) and the records that move
#: most with the variable
COLUMNS: dict[str, pl.DataType] = {
    "adjusted_odds_ratio": pl.Float64(),
    "adjusted_ci_low": pl.Float64(),
    "adjusted_ci_high": pl.Float64(),
    "moves_with": pl.String(),
}


def companion_check(
    frame: pl.DataFrame,
    candidates: list[Candidate],
    estimates: pl.DataFrame,
    verdicts: pl.DataFrame,
    s: TriggerSettings,
) -> pl.DataFrame:
    """``verdicts`` with :data:`COLUMNS` on every call, and the calls the person's other
    records explain turned into :data:`~painlink.rules.triggers.EXPLAINED` (see the
    module). ``estimates`` are the unadjusted ones the verdicts came from."""
    keys = ["patient_id", "variable", "form", "lag"]
    calls = verdicts.filter(pl.col("verdict").is_in(CALLS) & pl.col("form").is_not_null())
    if not s.companions or not calls.height:
        return verdicts.with_columns(pl.lit(None, t).alias(c) for c, t in COLUMNS.items())
    people = calls["patient_id"].unique().to_list()
    mine = frame.filter(pl.col("patient_id").is_in(people))
    diaries = {k[0]: d for k, d in mine.partition_by("patient_id", as_dict=True).items()}
    adjusted = person_estimates(
        mine,
        candidates,
        s,
        adjust=True,
        only=calls.select(keys),
    ).filter(pl.col("enough_data"))
    rows = calls.select(*keys, "own_odds_ratio").join(
        adjusted.select(*keys, pl.col("log_or").alias("_a"), pl.col("se").alias("_ase")), on=keys
    )
    rows = rows.join(estimates.select(*keys, pl.col("log_or").alias("_u")).unique(keys), on=keys)
    z = stats.norm.ppf(1 - s.alpha / 2)
    companions = companion_columns(candidates)
    columns = {v: c.column for v, c in companions.items()}
    cycle = cycle_variables(companions)
    out = []
    for r in rows.iter_rows(named=True):
        u, a, ase = r["_u"], r["_a"], r["_ase"]
        if any(v is None or not math.isfinite(v) for v in (u, a, ase)):
            continue
        # the cycle's forms are checked beside each other and the rest; any other call
        # beside the rest (the menstrual window is already a covariate of its model)
        beside = columns
        if r["variable"] not in cycle:
            beside = {v: c for v, c in columns.items() if v not in cycle}
        others, moving = _moves_with(diaries[r["patient_id"]], beside, r["variable"])
        if not others:
            continue  # no other record to be beside: the refit repeats the call (not checked)
        # the verdict shows the estimate in the direction that goes with more attacks
        sign = 1.0 if abs(math.log(r["own_odds_ratio"]) - u) < 1e-9 else -1.0
        low, high = sorted((sign * (a - z * ase), sign * (a + z * ase)))
        out.append(
            {
                **{k: r[k] for k in keys},
                "adjusted_odds_ratio": math.exp(sign * a),
                "adjusted_ci_low": math.exp(low),
                "adjusted_ci_high": math.exp(high),
                # in the call's direction: below half its own, and no longer supported
                # (its interval reaches 1, or lies wholly on the other side)
                "_fades": bool(
                    a * np.sign(u) < s.companion_shrink * abs(u) and a * np.sign(u) < z * ase
                ),
                "_with": moving,
            }
        )
    # a fading call is explained only by a record that moves with it and keeps its own
    # call beside the others (a holder): two near copies that fade together both stay
    # (the diary cannot tell which of them acts; each is shown with what it moves with)
    holders = {(o["patient_id"], o["variable"]) for o in out if not o["_fades"]}
    for o in out:
        mine = o.pop("_with")
        held = [v for v in mine if (o["patient_id"], v) in holders]
        o["_explained"] = o.pop("_fades") and bool(held)
        shown = held + [v for v in mine if v not in held]
        o["moves_with"] = ", ".join(variable_words(v) for v in shown[:2])
    schema = {**{k: verdicts.schema[k] for k in keys}, **COLUMNS, "_explained": pl.Boolean()}
    checked = pl.DataFrame(out, schema=schema)
    gone = pl.col("_explained").fill_null(False)
    return (
        verdicts.join(checked, on=keys, how="left")
        .with_columns(
            pl.when(gone).then(pl.lit(EXPLAINED)).otherwise(pl.col("verdict")).alias("verdict"),
            pl.when(gone).then(None).otherwise(pl.col("called_by")).alias("called_by"),
            pl.when(gone).then(pl.lit("")).otherwise(pl.col("note")).alias("note"),
        )
        .drop("_explained")
    )


#: a record "moves with" the variable when their same-day correlation is at least this
MOVES_WITH_R = 0.3


def _moves_with(one: pl.DataFrame, columns: dict[str, str], variable: str) -> tuple[int, list[str]]:
    """In one person's diary ``one``: how many other variables they recorded with some
    spread (what the refit had beside the call: none, and it only repeats it), and those
    whose day-to-day values go with ``variable``'s (``columns``: each companion's
    column, :func:`~painlink.analysis.companion_design.companion_columns`; |r| ≥
    :data:`MOVES_WITH_R`), strongest first: what may explain a call, and what a
    clinician would ask about."""
    if variable not in columns:
        return 0, []
    mine = one[columns[variable]].cast(pl.Float64).to_numpy()
    usable = 0
    found = []
    for other, column in columns.items():
        if other == variable:
            continue
        theirs = one[column].cast(pl.Float64).to_numpy()
        seen = theirs[~np.isnan(theirs)]
        usable += bool(seen.size >= 3 and np.std(seen) > 0)
        ok = ~np.isnan(mine) & ~np.isnan(theirs)
        if ok.sum() < 3 or np.std(mine[ok]) == 0 or np.std(theirs[ok]) == 0:
            continue
        r = float(np.corrcoef(mine[ok], theirs[ok])[0, 1])
        if abs(r) >= MOVES_WITH_R:
            found.append((abs(r), other))
    return usable, [other for _, other in sorted(found, reverse=True)]
