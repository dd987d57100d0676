"""The companions of a trigger call: the one column by which each variable is checked
and adjusts another call, and the design of a model that carries them.

A call is checked beside the person's other records (painlink.analysis.companions):
the model is fitted again with each other variable, standardised, on its own column.
Those columns differ between models, so unlike the person's other trigger models
(:mod:`painlink.analysis.trigger_fit`, on the shared-covariate kernel) these get a
design array each (:func:`painlink.analysis.logistic.fit_logit`). Kept apart from the
fit so that each module holds one job.
"""

from __future__ import annotations

import numpy as np

from painlink.analysis.family_test import residualise
from painlink.analysis.logistic import LogitFit, fit_logit
from painlink.days.candidates import Candidate
from painlink.rules.triggers import FORMS_BY_KIND, TriggerSettings

HORMONAL_FORMS = ("window", "pill_free")
#: the forms on which a variable's response to attacks is checked, in order of
#: preference: every kind of variable has one of them (rules.triggers.FORMS_BY_KIND).
#: An amount is checked per SD, never as "present": someone who drinks coffee every
#: day has a constant "present" column, and a regression on it says nothing
CHECKED_FORMS = ("per_sd", "present", "window", "pill_free")
assert all(set(forms) & set(CHECKED_FORMS) for forms in FORMS_BY_KIND.values())


def checked_columns(candidates: list[Candidate]) -> dict[str, Candidate]:
    """Each variable's first candidate in CHECKED_FORMS' order: the one numeric column
    on which its response to attacks is checked, and by which it adjusts another call
    (a companion; painlink.analysis.companions)."""
    out: dict[str, Candidate] = {}
    for c in sorted(
        (c for c in candidates if c.form in CHECKED_FORMS),
        key=lambda c: CHECKED_FORMS.index(c.form),
    ):
        out.setdefault(c.variable, c)
    return out


def companion_columns(candidates: list[Candidate]) -> dict[str, Candidate]:
    """The variables a call is checked beside (its companions), each by its
    :func:`checked_columns` candidate. The cycle's forms (:data:`HORMONAL_FORMS`) are
    companions of each other only: every other model already has the menstrual window
    as a covariate, but a call of the window and one of the pill-free week are near
    copies (a withdrawal bleed falls in the pill-free week, and ICHD-3 counts it as
    menstruation: appendix A1.1.1, note 1), and unchecked the window
    was called in 8-9% of the women it does nothing in whose pill-free week acts
    (independent simulator, 365 days; docs/validation.md)."""
    return checked_columns(candidates)


def cycle_variables(companions: dict[str, Candidate]) -> frozenset[str]:
    """Those of ``companions`` recorded in a form of the cycle (:data:`HORMONAL_FORMS`)."""
    return frozenset(v for v, c in companions.items() if c.form in HORMONAL_FORMS)


def standardised(values: np.ndarray) -> np.ndarray:
    """Each person's values (rows) minus their mean, per their SD; a missing day or a
    value that never varies is 0 (the person's usual)."""
    ok = ~np.isnan(values)
    count = np.maximum(ok.sum(1, keepdims=True), 1)
    mean = np.where(ok, values, 0.0).sum(1, keepdims=True) / count
    centred = np.where(ok, values - mean, 0.0)
    sd = np.sqrt((centred**2).sum(1, keepdims=True) / count)
    return np.where(sd > 1e-12, centred / np.where(sd > 1e-12, sd, 1.0), 0.0)


def fit_with_companions(
    sel: np.ndarray,
    fit_idx: np.ndarray,
    xv: np.ndarray,
    yv: np.ndarray,
    valid: np.ndarray,
    cov: np.ndarray,
    level: np.ndarray,
    same_day: np.ndarray,
    companions: list[str],
    cycle: frozenset[str],
    candidates: list[Candidate],
    hormonal: np.ndarray,
    index: tuple[np.ndarray, np.ndarray, np.ndarray],
    start: np.ndarray,
    w_null: np.ndarray,
    s: TriggerSettings,
    n: int,
    p: int,
) -> tuple[LogitFit, np.ndarray]:
    """The models of ``sel`` with each companion on its own column (the check of a call
    against the person's other records), and their exposures residualised on the rest:
    a design array per model, since the companions differ between models."""
    mp, mc, ml = index
    X = np.empty((len(sel), n, p))
    X[:, :, 0] = 1.0
    X[:, :, 1] = xv[fit_idx]
    X[:, :, 2 : 2 + cov.shape[-1]] = cov[mp[sel]]
    # each other variable on its own column; the candidate's own is zero
    # (a zero column gets a zero coefficient and changes nothing)
    others = X[:, :, 2 + cov.shape[-1] :]  # a view: filled in place
    for lag in np.unique(ml[sel]).tolist():
        rows = ml[sel] == lag
        mine = level[mp[sel][rows], : n - lag]
        if lag == 0:
            mine = mine * same_day[mp[sel][rows]][:, None, :]
        others[rows, :lag] = 0.0
        others[rows, lag:] = mine
    own = np.array([candidates[c].variable for c in mc[sel]])
    for j, v in enumerate(companions):
        others[own == v, :, j] = 0.0
        if v in cycle:
            # the cycle is beside the cycle's forms only (companion_columns)
            others[~hormonal, :, j] = 0.0
    X[hormonal, :, 4] = 0.0  # the menstrual covariate of a hormonal form is itself
    fit = fit_logit(X, yv[fit_idx], valid[fit_idx], prior_sd=s.prior_sd, start=start[mp[sel]])
    # the exposure residualised on the rest: its own column set to zero in place (a
    # zero column gets a zero coefficient) instead of a copy of X without it
    exposure = X[:, :, 1].copy()
    X[:, :, 1] = 0.0
    return fit, residualise(exposure, X, w_null[mp[sel]] * valid[fit_idx])
