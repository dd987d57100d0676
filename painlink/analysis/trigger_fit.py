"""Per-person estimates of every candidate × lag, batched across people.

For each person, candidate (a variable in one form) and lag, a penalised logistic
regression of attack onset on days at risk (days not already inside an attack):

    logit P(onset_t) = a + b·x_{t−lag} + c·weekend_t + d·log(1 + days since last onset)
                       + e·menstrual window_t (people who record periods; other variables)
                       + f·log(½ + onsets in the previous 28 days) (a drifting baseline)
                       + Σ_k g_k·(inside an attack k days before), k = 1 … K
                         (K = ``TriggerSettings.attack_history_days``, 1 by default:
                         an attack's aftermath and bursts of attacks)
                       + Σ_k h_k·cos(π k (t + ½) / N) (seasons and drifts, one term per
                         90 days of diary: :mod:`painlink.analysis.seasons`)

With ``adjust`` (the check of a call against the person's other records,
:func:`painlink.analysis.companions.companion_check`) the model also carries
Σ_u j_u·z_{u,t−lag}: each of the person's other variables, standardised, on the same
day of the lag (its companions; on the same day only where attacks do not move them).

All people's models go through one batched Newton solver in chunks: people are padded
to the longest diary and the padding masked out, so a cohort costs a few large array
operations instead of one small model at a time — the kernel a cohort analysis reuses.
A person's models share every column but the exposure, so the solver is the
shared-covariate one (:func:`painlink.analysis.logistic.fit_logit_shared`: the
information of the shared columns is a matrix product of the models' weights with each
day's outer products, with no models × days × columns design array); the check of a
call beside its companions, whose columns differ between models, uses
:func:`painlink.analysis.logistic.fit_logit`. Both give the same fit to rounding
(tests/test_shared_logit.py).
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import stats

from painlink.analysis.attack_response import attack_changes, moves_after_onset
from painlink.analysis.companion_design import (
    HORMONAL_FORMS,
    checked_columns,
    companion_columns,
    cycle_variables,
    fit_with_companions,
    standardised,
)
from painlink.analysis.family_test import (
    max_t,
    null_residuals,
    null_weights,
    residualise_shared,
    score_correlation,
    serial_inflation,
)
from painlink.analysis.logistic import fit_logit, fit_logit_shared
from painlink.analysis.seasons import slow_terms, term_counts
from painlink.days.candidates import Candidate
from painlink.days.exposures import log_days_since_last_onset
from painlink.rules.triggers import SAME_DAY, TriggerSettings

#: the columns of the estimates, one row per person × candidate × lag
ESTIMATES: dict[str, pl.DataType] = {
    "patient_id": pl.String(),
    "variable": pl.String(),
    "form": pl.String(),
    "kind": pl.String(),
    "lag": pl.Int64(),
    "log_or": pl.Float64(),
    "se": pl.Float64(),
    "days_at_risk": pl.Int64(),
    "exposed_days": pl.Int64(),
    "unexposed_days": pl.Int64(),
    "attacks_exposed": pl.Int64(),
    "attacks_at_risk": pl.Int64(),
    "enough_data": pl.Boolean(),
    "p_raw": pl.Float64(),
    #: the variable's max-T p-value over its forms × lags, and the critical value of
    #: their simultaneous 95% intervals (painlink.analysis.family_test); the same on
    #: every row of one person's variable
    "p_family": pl.Float64(),
    "z_family": pl.Float64(),
    #: the row of the score correlation matrix of the person's variable (its forms ×
    #: lags, in order): what a weighted max-T test needs (weighted_families)
    "score_corr": pl.List(pl.Float64()),
    #: t statistic of "inside an attack" for the variable (see attack_response)
    "inside_t": pl.Float64(),
    #: was the same day (lag 0) tried for this person's variable? Not where attacks
    #: move it, nor where the diary cannot show whether they do (attacks that never
    #: last into a second day): then "no association" says nothing of the same day
    "same_day_tried": pl.Boolean(),
}
BINARY_FORMS = ("present", "high", "low", "window", "pill_free")
_CHUNK_CELLS = 6_000_000  # models × days per batch (× p / 7): ~50 MB per design array


def _family_tests(
    families: list[np.ndarray],
    z: np.ndarray,
    enough: np.ndarray,
    resid: dict[int, np.ndarray],
    w_null: np.ndarray,
    out: tuple[np.ndarray, np.ndarray, list[list[float]]],
) -> None:
    """For each variable (its blocks in ``families``): every person's max-T p-value,
    each model's simultaneous critical value and its row of the score correlation
    matrix, written into ``out`` (p_family, z_family, corr; models are laid out block by
    block, P people per block). The variables go through one max-T call, padded to the
    largest family (a padded form is untested and never counts)."""
    P, n = w_null.shape
    p_family, z_family, corr = out
    people = np.arange(P)
    k_max = max(len(f) for f in families)
    zz = np.full((len(families), P, k_max), np.nan)
    rr = np.zeros((len(families), P, k_max, k_max))
    rows_of = []
    for i, blocks in enumerate(families):
        rows = blocks[None, :] * P + people[:, None]  # (P, K) model indices
        rows_of.append(rows)
        k = len(blocks)
        zz[i, :, :k] = np.where(enough[rows], z[rows], np.nan)
        xt = np.stack([resid.get(int(b), np.zeros((P, n), np.float32)) for b in blocks], axis=1)
        rr[i, :, :k, :k] = score_correlation(xt.astype(float), w_null)
    p, c = max_t(zz.reshape(-1, k_max), rr.reshape(-1, k_max, k_max))
    p, c = p.reshape(len(families), P), c.reshape(len(families), P, k_max)
    for i, rows in enumerate(rows_of):
        k = rows.shape[1]
        p_family[rows] = np.where(enough[rows], p[i][:, None], np.nan)
        z_family[rows] = c[i, :, :k]
        for row, values in zip(rows.ravel(), rr[i, :, :k, :k].reshape(-1, k).tolist(), strict=True):
            corr[row] = values


def weighted_families(estimates: pl.DataFrame, weights: np.ndarray) -> pl.DataFrame:
    """``estimates`` with ``p_family`` and ``z_family`` recomputed by the weighted max-T
    test, one weight per row (a form × lag of a person's variable), e.g. the share of
    the rest of a cohort that form acts in. The weights must not come from the row's
    own person, or the test is no longer valid."""
    p_family = np.full(estimates.height, np.nan)
    z_family = np.full(estimates.height, np.nan)
    groups = (
        estimates.with_row_index("_row")
        .group_by("patient_id", "variable", maintain_order=True)
        .agg(pl.col("_row"))
    )
    by_size: dict[int, list[list[int]]] = {}
    for rows in groups["_row"].to_list():
        by_size.setdefault(len(rows), []).append(rows)
    log_or, se = estimates["log_or"].to_numpy(), estimates["se"].to_numpy()
    enough = estimates["enough_data"].to_numpy()
    corr = estimates["score_corr"].to_list()
    for size, members in by_size.items():
        idx = np.array(members)  # (G, K) row indices, in block order
        z = np.where(enough[idx], log_or[idx] / se[idx], np.nan)
        # every row holds its row of its variable's K × K matrix (person_estimates)
        r = np.array([corr[i] for i in idx.ravel()], float).reshape(len(idx), size, size)
        p, c = max_t(z, r, weights=weights[idx])
        p_family[idx] = np.where(enough[idx], p[:, None], np.nan)
        z_family[idx] = c
    return estimates.with_columns(
        pl.Series("p_family", p_family).fill_nan(None),
        pl.Series("z_family", z_family).fill_nan(None),
    )


def _pad(frame: pl.DataFrame) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Patients, row → (patient index, day index), and lengths, for padding to (P, n)."""
    pids = frame["patient_id"]
    runs = pids.rle().struct.unnest()  # runs: the frame is sorted by patient
    lengths = runs["len"].to_numpy().astype(int)
    names = [str(v) for v in runs["value"].to_list()]
    return (
        names,
        lengths,
        np.concatenate([np.arange(n) for n in lengths]) if len(lengths) else np.array([], int),
    )


def _padded(
    values: np.ndarray, who: np.ndarray, day: np.ndarray, shape: tuple[int, int]
) -> np.ndarray:
    out = np.full(shape, np.nan)
    out[who, day] = values
    return out


def _recent_rate(window: int) -> pl.Expr:
    """The person's drifting baseline: log of (attack onsets in the previous ``window``
    days + ½), so a spell of frequent attacks is not credited to whatever else was
    unusual then (a season, a stressful month)."""
    return (
        (pl.col("onset").cast(pl.Float64).shift(1).rolling_sum(window, min_samples=1) + 0.5)
        .over("patient_id")
        .fill_null(0.5)
        .log()
    )


def person_estimates(
    frame: pl.DataFrame,
    candidates: list[Candidate],
    settings: TriggerSettings,
    *,
    adjust: bool = False,
    only: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Estimates for every person × candidate × lag (see the module).

    ``frame`` is :func:`painlink.days.candidates.candidate_columns`' frame: the day table
    sorted by patient and date with one column per candidate. ``adjust`` adds each
    candidate's companions (see the module); ``only`` (patient_id, variable, form, lag)
    fits just those models — the other people's rows of the same candidate × lag come
    back without data, blocks nobody asked for not at all, and no max-T test is run
    (the check of calls needs single models)."""
    s = settings
    if frame.height == 0 or not candidates:
        return pl.DataFrame(schema=ESTIMATES)
    # people with the same number of seasonal terms are fitted together: one long
    # diary would otherwise widen (and lengthen) every model of the cohort
    people = frame.group_by("patient_id", maintain_order=True).agg(
        ((pl.col("date").max() - pl.col("date").min()).dt.total_days() + 1).alias("span"),
        (pl.col("logged").sum() if "logged" in frame.columns else pl.len()).alias("logged"),
    )
    terms = term_counts(
        people["span"].to_numpy(),
        people["logged"].to_numpy(),
        s.trend_days,
        max_terms=s.trend_max_terms,
        logged_per_term=s.trend_logged_per_term,
    )
    if len(np.unique(terms)) > 1:
        ids = people["patient_id"].to_numpy()
        parts = [
            person_estimates(
                frame.filter(pl.col("patient_id").is_in(list(ids[terms == k]))),
                candidates,
                s,
                adjust=adjust,
                only=only,
            )
            for k in np.unique(terms)
        ]
        return pl.concat(parts).sort("patient_id", maintain_order=True)
    frame = frame.with_columns(
        (pl.col("date").dt.weekday() >= 6).cast(pl.Float64).alias("_weekend"),
        log_days_since_last_onset().alias("_log_days_since"),
        _recent_rate(s.trend_window_days).alias("_recent_rate"),
        (pl.col("date") - pl.col("date").min().over("patient_id"))
        .dt.total_days()
        .cast(pl.Float64)
        .alias("_diary_day"),
    )
    names, lengths, day = _pad(frame)
    who = np.repeat(np.arange(len(names)), lengths)
    P, n = len(names), int(lengths.max())
    shape = (P, n)
    y = np.nan_to_num(_padded(frame["onset"].cast(pl.Float64).to_numpy(), who, day, shape))
    at_risk = _padded((~frame["ongoing"]).cast(pl.Float64).to_numpy(), who, day, shape) == 1
    attack_day = (
        _padded((frame["onset"] | frame["ongoing"]).cast(pl.Float64).to_numpy(), who, day, shape)
        == 1
    )
    window = next((c for c in candidates if c.form == "window"), None)
    menstrual = (
        np.nan_to_num(_padded(frame[window.column].to_numpy(), who, day, shape))
        if window is not None
        else np.zeros(shape)
    )
    cov = np.stack(
        [
            np.nan_to_num(_padded(frame["_weekend"].to_numpy(), who, day, shape)),
            np.nan_to_num(_padded(frame["_log_days_since"].to_numpy(), who, day, shape)),
            menstrual,
            np.nan_to_num(_padded(frame["_recent_rate"].to_numpy(), who, day, shape)),
            # the day before was inside an attack (and, by choice, 2, 3, … days before:
            # TriggerSettings.attack_history_days): an attack can change what is
            # recorded on its days (rest, a painkiller with caffeine) and also makes a
            # new onset the next day less likely, so without this a value an attack
            # changed would look like a protector the day after
            *(
                np.concatenate(
                    [np.zeros((P, min(k, n))), attack_day[:, : max(n - k, 0)]], axis=1
                ).astype(float)
                for k in range(1, max(s.attack_history_days, 1) + 1)
            ),
        ],
        axis=-1,
    )
    # seasons and drifts: a variable that only shares the months with the attacks is
    # not credited with them (painlink.analysis.seasons)
    # (people's rows are in the frame's order, one run per person: the names' order)
    diary_day = _padded(frame["_diary_day"].to_numpy(), who, day, shape)
    seasons = slow_terms(diary_day, people["span"].to_numpy(), terms)
    cov = np.concatenate([cov, seasons], axis=-1)
    ongoing = _padded(frame["ongoing"].cast(pl.Float64).to_numpy(), who, day, shape) == 1
    onset = y == 1
    # per variable, on one numeric column of it ("more of it" points up in every one of
    # these forms): may it be tried at lag 0, and does it move inside attacks?
    # (variables' rows stacked into batches of the checks, at most _CHUNK_CELLS rows ×
    # days each: every row is fitted alone, so the answers are those of one call per
    # variable, in a third of the time for one person)
    checked: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    preferred = list(checked_columns(candidates).values())
    per_batch = max(1, _CHUNK_CELLS // max(P * n, 1))
    for first in range(0, len(preferred), per_batch):
        batch = preferred[first : first + per_batch]
        values = np.concatenate(
            [_padded(frame[c.column].cast(pl.Float64).to_numpy(), who, day, shape) for c in batch]
        )  # (len(batch) · P, n): variable by variable, each its P people
        on, going = np.tile(onset, (len(batch), 1)), np.tile(ongoing, (len(batch), 1))
        changed, inside_t = attack_changes(values, going, s.reverse_alpha)
        changed |= moves_after_onset(values, on, going, s.reverse_alpha)
        for i, c in enumerate(batch):
            rows = slice(i * P, (i + 1) * P)
            checked[c.variable] = (~changed[rows] | (c.variable in SAME_DAY), inside_t[rows])
    preferred_of = {c.variable: c for c in preferred}

    # the variables a candidate is adjusted for (its companions), standardised; each
    # model takes them on the day of its lag, on the same day only where attacks do not
    # move them (as a candidate). Shifted per chunk for the people fitted there: a
    # cohort never holds a copy per lag
    companions = list(companion_columns(candidates)) if adjust else []
    cycle = cycle_variables(companion_columns(candidates))
    level = np.zeros((P, n, 0))
    same_day = np.zeros((P, 0), bool)
    if companions:
        level = np.stack(
            [
                standardised(
                    _padded(
                        frame[preferred_of[v].column].cast(pl.Float64).to_numpy(), who, day, shape
                    )
                )
                for v in companions
            ],
            axis=-1,
        )  # (P, n, V)
        same_day = np.stack([checked[v][0] for v in companions], axis=-1)  # (P, V)
    # models in blocks of one candidate × lag for every patient: x[t] = raw[t − lag]
    blocks = [(ci, lag) for ci in range(len(candidates)) for lag in s.lags]
    lag_of = {int(lag): i for i, lag in enumerate(s.lags)}  # a lag's place in s.lags
    # ``only``: which person × candidate × lag models are wanted, as one boolean array
    wanted: np.ndarray | None = None
    if only is not None:
        wanted = np.zeros((P, len(candidates), len(s.lags)), bool)
        person_of = {str(name): i for i, name in enumerate(names)}
        candidate_of = {(c.variable, c.form): i for i, c in enumerate(candidates)}
        for pid, variable, form, lag in only.select(
            "patient_id", "variable", "form", "lag"
        ).iter_rows():
            who_i, cand_i = person_of.get(str(pid)), candidate_of.get((variable, form))
            lag_i = lag_of.get(int(lag)) if lag is not None else None
            if who_i is not None and cand_i is not None and lag_i is not None:
                wanted[who_i, cand_i, lag_i] = True
        kinds = np.asarray(wanted.any(axis=0))  # (candidates, lags): wanted by anyone
        blocks = [(ci, lag) for ci, lag in blocks if kinds[ci, lag_of[lag]]]
    m = len(blocks) * P
    mp = np.tile(np.arange(P), len(blocks))
    mc = np.repeat([ci for ci, _ in blocks], P)
    ml = np.repeat([lag for _, lag in blocks], P)
    ml_pos = np.repeat(np.array([lag_of[lag] for _, lag in blocks], int), P)
    log_or = np.full(m, np.nan)
    se = np.full(m, np.nan)
    days_at_risk = np.zeros(m, int)
    exposed = np.zeros(m, int)
    attacks_exposed = np.zeros(m, int)
    attacks = np.zeros(m, int)
    enough = np.zeros(m, bool)
    p = 2 + cov.shape[-1] + len(companions)
    # a design array holds n × p numbers per model: fewer models per chunk when wider
    per_chunk = max(1, _CHUNK_CELLS * 7 // max(n * P * p, 1))
    # each person's covariates without any exposure: where every model's Newton starts
    base = np.concatenate([np.ones((P, n, 1)), cov], axis=-1)
    null = fit_logit(base, y, at_risk, prior_sd=s.prior_sd).coef
    # the covariate sets of the shared-covariate kernel: each person's, and for the
    # cycle's forms the same with the menstrual window (column 3) at zero (not needed
    # beside companions, whose models each get a design array)
    shared = base
    if not companions and any(c.form in HORMONAL_FORMS for c in candidates):
        cycle_free = base.copy()
        cycle_free[:, :, 3] = 0.0
        shared = np.concatenate([base, cycle_free])
    start = np.insert(null, 1, 0.0, axis=1)
    if companions:
        start = np.concatenate([start, np.zeros((P, len(companions)))], axis=1)
    # the null model's weights p̂(1 − p̂): what the score tests of one variable's forms
    # × lags share, for their joint (max-T) test (painlink.analysis.family_test)
    w_null = null_weights(base, null, at_risk)
    # ... and its residuals y − p̂ on the days at risk: their serial dependence widens
    # every standard error (serial_lag_share), and so every z of the max-T test
    e_null = null_residuals(base, null, at_risk, y)
    # each fitted model's exposure residualised on its covariates, kept per block only
    # until every block of its variable is fitted: then the variable's max-T test runs
    # and they are let go (a cohort never holds all of them at once)
    resid: dict[int, np.ndarray] = {}
    block_variables = [candidates[ci].variable for ci, _ in blocks]
    families = {
        v: np.array([b for b, x in enumerate(block_variables) if x == v])
        for v in dict.fromkeys(block_variables)
    }
    p_family = np.full(m, np.nan)
    z_family = np.full(m, np.nan)
    score_corr: list[list[float]] = [[] for _ in range(m)]
    for first in range(0, len(blocks), per_chunk):
        chunk = blocks[first : first + per_chunk]
        idx = np.arange(first * P, (first + len(chunk)) * P)
        x = np.full((len(chunk), P, n), np.nan)
        raws: dict[int, np.ndarray] = {}  # a candidate's padded values, once for its lags
        for k, (ci, lag) in enumerate(chunk):
            if ci not in raws:
                column = frame[candidates[ci].column].cast(pl.Float64).to_numpy()
                raws[ci] = _padded(column, who, day, shape)
            raw = raws[ci]
            if lag == 0:
                # the same day only where the attack cannot have changed the value
                keep = checked[candidates[ci].variable][0]
                x[k] = np.where(keep[:, None], raw, np.nan)
                continue
            x[k, :, lag:] = raw[:, : n - lag]
        flat = x.reshape(-1, n)
        valid = at_risk[mp[idx]] & ~np.isnan(flat)
        xv = np.where(valid, flat, 0.0)
        yv = y[mp[idx]] * valid
        n_valid = valid.sum(1)
        days_at_risk[idx] = n_valid
        attacks[idx] = yv.sum(1)
        is_bin = np.isin(mc[idx], [i for i, c in enumerate(candidates) if c.form in BINARY_FORMS])
        exposed[idx] = np.where(is_bin, (xv > 0).sum(1), n_valid)
        attacks_exposed[idx] = np.where(is_bin, (yv * (xv > 0)).sum(1), 0)
        spread = (xv**2).sum(1) - xv.sum(1) ** 2 / np.maximum(n_valid, 1)
        ok = (attacks[idx] >= s.min_attacks) & np.where(
            is_bin,
            (exposed[idx] >= s.min_days_each) & (n_valid - exposed[idx] >= s.min_days_each),
            (n_valid >= s.min_days_numeric) & (spread > 1e-9),
        )
        if wanted is not None:
            ok &= wanted[mp[idx], mc[idx], ml_pos[idx]]
        enough[idx] = ok
        fit_idx = np.flatnonzero(ok)
        sel = idx[fit_idx]
        if sel.size:
            hormonal = np.isin(
                mc[sel], [i for i, c in enumerate(candidates) if c.form in HORMONAL_FORMS]
            )
            if companions:
                fit, done = fit_with_companions(
                    sel, fit_idx, xv, yv, valid, cov, level, same_day, companions, cycle,
                    candidates, hormonal, (mp, mc, ml), start, w_null, s, n, p,
                )  # fmt: skip
            else:
                # a person's models share every column but the exposure: the shared-
                # covariate kernel (logistic.fit_logit_shared), with the cycle's forms
                # on a second set whose menstrual covariate is zero (it is the form)
                sets = mp[sel] + np.where(hormonal, P, 0)
                fit = fit_logit_shared(
                    shared, sets, xv[fit_idx], yv[fit_idx], valid[fit_idx],
                    prior_sd=s.prior_sd, start=start[mp[sel]],
                )  # fmt: skip
                done = residualise_shared(
                    xv[fit_idx], shared, sets, w_null[mp[sel]] * valid[fit_idx]
                )
            log_or[sel] = fit.coef[:, 1]
            se[sel] = fit.se[:, 1]
            se[sel] *= serial_inflation(done, e_null, s.serial_lag_share, mp[sel])
            for b in np.unique(sel // P):
                mine = sel // P == b
                held = resid.setdefault(int(b), np.zeros((P, n), np.float32))
                held[sel[mine] % P] = done[mine]
        # the variables whose every block is now fitted: their max-T tests, then let go
        fitted_to = first + len(chunk)
        ready = [v for v, f in families.items() if f.max() < fitted_to]
        if ready and wanted is None:
            _family_tests(
                [families[v] for v in ready],
                log_or / se,
                enough,
                resid,
                w_null,
                (p_family, z_family, score_corr),
            )
        for v in ready:
            for b in families.pop(v):
                resid.pop(int(b), None)
    p_raw = np.where(enough, 2 * stats.norm.sf(np.abs(log_or / se)), np.nan)
    return pl.DataFrame(
        {
            "patient_id": [names[i] for i in mp],
            "variable": [candidates[c].variable for c in mc],
            "form": [candidates[c].form for c in mc],
            "kind": [candidates[c].kind for c in mc],
            "lag": ml.astype(np.int64),
            "log_or": log_or,
            "se": se,
            "days_at_risk": days_at_risk,
            "exposed_days": exposed,
            "unexposed_days": days_at_risk - exposed,
            "attacks_exposed": attacks_exposed,
            "attacks_at_risk": attacks,
            "enough_data": enough,
            "p_raw": p_raw,
            "p_family": p_family,
            "z_family": z_family,
            "score_corr": score_corr,
            "inside_t": [
                float(checked[candidates[c].variable][1][i])
                if candidates[c].variable in checked
                else float("nan")
                for i, c in zip(mp, mc, strict=True)
            ],
            "same_day_tried": [
                bool(checked[candidates[c].variable][0][i])
                if candidates[c].variable in checked
                else True
                for i, c in zip(mp, mc, strict=True)
            ],
        },
        schema=ESTIMATES,
    ).sort("patient_id", maintain_order=True)
