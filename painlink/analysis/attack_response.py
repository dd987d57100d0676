"""Does an attack change what is recorded? The check that decides whether a variable's
same day (lag 0) may be tried as a trigger for a person.

An attack changes what is recorded on its days — rest, a caffeine-containing
painkiller, less screen time — and then a same-day association looks like a trigger.
Both checks fit, per patient, the value on a day against the day before and
indicators of the days an attack could reach (:func:`_on_the_day_before`), batched
over patients (rows) and days (columns); :mod:`painlink.analysis.trigger_fit` tries
lag 0 only where neither finds a response (``TriggerSettings.reverse_alpha``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import stats


class _DayBefore(NamedTuple):
    """A least-squares fit per patient of x_t on x_{t−1} and day indicators."""

    beta: np.ndarray  # (P, 2 + indicators): intercept, x_{t−1}, the indicators
    inverse: np.ndarray  # (P, k, k): (AᵀA)⁻¹
    sigma2: np.ndarray  # (P,) residual variance
    dof: np.ndarray  # (P,) residual degrees of freedom
    marked: np.ndarray  # (P,) recorded days carrying any indicator
    varies: np.ndarray  # (P,) the value is not constant over the days fitted


def _on_the_day_before(
    x: np.ndarray, indicators: list[np.ndarray], leave_out: np.ndarray | None = None
) -> _DayBefore:
    """x_t (rows of ``x``: patients; columns: days) on an intercept, x_{t−1} and each
    of ``indicators`` (P × days, booleans of day t), over the days with both values
    recorded and not in ``leave_out``: what :func:`attack_changes` and
    :func:`moves_after_onset` test their response coefficients in."""
    now, before = x[:, 1:], x[:, :-1]
    ok = ~np.isnan(now) & ~np.isnan(before)
    if leave_out is not None:
        ok &= ~leave_out[:, 1:]
    n = ok.sum(1)
    marks = [m[:, 1:].astype(float) for m in indicators]
    cols = [np.ones_like(now), np.nan_to_num(before), *marks]
    A = np.stack([c * ok for c in cols], axis=-1)  # (P, n, k)
    k = A.shape[-1]
    yv = np.nan_to_num(now) * ok
    xtx = np.einsum("pni,pnj->pij", A, A) + 1e-9 * np.eye(k)
    xty = np.einsum("pni,pn->pi", A, yv)
    beta = np.linalg.solve(xtx, xty[..., None])[..., 0]
    resid = (yv - np.einsum("pni,pi->pn", A, beta)) * ok
    dof = np.maximum(n - k, 1)
    # a value that never varies (coffee every day, as "present") cannot show a response
    high = np.max(np.where(ok, now, -np.inf), axis=1, initial=-np.inf)
    return _DayBefore(
        beta=beta,
        inverse=np.linalg.inv(xtx),
        sigma2=(resid**2).sum(1) / dof,
        dof=dof,
        marked=(sum(marks) * ok).sum(1),
        varies=high > np.min(np.where(ok, now, np.inf), axis=1, initial=np.inf),
    )


def attack_changes(
    x: np.ndarray, ongoing: np.ndarray, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per patient (rows of ``x``, days in columns): does the value move on days inside an
    attack, beyond what the day before predicts? Least squares of x_t on x_{t−1} and
    "inside an attack" over recorded days; True when the attack coefficient's p < alpha,
    or when fewer than 3 attack days are recorded (then nobody can tell). Such a
    variable's same-day value may be the attack's effect (rest, a painkiller with
    caffeine), so it is not tried at lag 0 for that person. Also returns the t statistic
    of "inside an attack" (NaN where it cannot be estimated): a value that rises inside
    attacks may be an early sign of them rather than a cause."""
    fit = _on_the_day_before(x, [ongoing])
    var = fit.sigma2 * fit.inverse[:, 2, 2]
    t = fit.beta[:, 2] / np.sqrt(np.maximum(var, 1e-300))
    p = 2 * stats.t.sf(np.abs(t), fit.dof)
    enough = (fit.marked >= 3) & fit.varies
    changed: np.ndarray = ~enough | (p < alpha)
    return changed, np.where(enough, t, np.nan)


def moves_after_onset(
    x: np.ndarray, onset: np.ndarray, ongoing: np.ndarray, alpha: float
) -> np.ndarray:
    """Per patient (rows of ``x``, days in columns): may an attack have changed the value
    on the days it reaches after its onset? True where a joint F test of "inside an
    attack" and "the day after an attack" (least squares of x_t on x_{t−1} and both,
    2 df, onset days left out) has p < alpha, or where fewer than 3 such days are
    recorded (then nobody can tell).

    :func:`attack_changes` compares the days inside an attack with ordinary days; this
    adds the day after an attack ends (the postdrome, a symptomatic phase after the
    headache resolves, ICHD-3's glossary; a painkiller taken again, a day spent
    resting) and leaves the onset days out of the comparison: there a cause and an
    effect of the attack are one day's value, and kept among the ordinary days a
    response on the onset day dilutes the contrast it should show. Without it, a
    caffeine-containing painkiller taken on the onset day and the day after (the
    fourth generator's story l) had caffeine called a same-day trigger in 31% of the
    people it does nothing in (docs/validation.md). Comparing with the last day no
    attack reached, instead of the day before, was tried: it withdrew more false calls
    and more true same-day effects (a persistent cause is high before and after the
    onset, which then reads as a response)."""
    attack_day = onset | ongoing
    after = np.zeros_like(attack_day)
    after[:, 1:] = attack_day[:, :-1] & ~attack_day[:, 1:]
    fit = _on_the_day_before(x, [ongoing, after], leave_out=onset)
    # the two response coefficients' joint Wald F (their block of the inverse)
    b = fit.beta[:, 2:]
    cov = fit.inverse[:, 2:, 2:] + 1e-12 * np.eye(2)
    quad = np.einsum("pi,pi->p", b, np.linalg.solve(cov, b[..., None])[..., 0])
    p = stats.f.sf(quad / (2 * np.maximum(fit.sigma2, 1e-300)), 2, fit.dof)
    enough = (fit.marked >= 3) & fit.varies
    moved: np.ndarray = ~enough | (p < alpha)
    return moved
