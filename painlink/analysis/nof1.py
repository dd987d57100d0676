"""N-of-1 experiments: find out, rather than guess, whether a change helps one person.

Observation alone rarely settles a suspected trigger: comparable days are rare
(Houle 2013: ~1.5 stress-similar days a month). A randomised N-of-1 design does:

1. **Design**: pairs of blocks (e.g. 14 days "cut caffeine" and 14 days "as usual",
   or 14 days with and without manual therapy), the order within each pair drawn at
   random, so that drift, seasons and expectations cannot line up with the change.
2. **Power**, by simulation from the person's own history: their attack rate and its
   block-to-block variation (a gamma-Poisson fitted to their 14-day counts), under the
   effect they hope to see; and how many pairs would give 80% power.
3. **Analysis** when it ends: rate ratio of attacks in "on" against "off" blocks,
   quasi-Poisson with the larger of the historical and the observed dispersion, in
   plain words.

The same test is used in the power simulation and in the analysis, so the power is
the power of the analysis actually run.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import polars as pl
from scipy import stats

from painlink.analysis.plotting import figure, finish
from painlink.analysis.results import Results

if TYPE_CHECKING:
    from matplotlib.figure import Figure

ALPHA = 0.05


@dataclass(frozen=True)
class Block:
    pair: int
    condition: str  # "on" (the change) or "off" (as usual)
    start: dt.date
    end: dt.date


@dataclass
class ExperimentDesign:
    patient_id: str
    change: str
    block_days: int
    pairs: int
    assumed_rate_ratio: float
    baseline_attacks_per_28d: float
    dispersion: float  # block-level variance / mean from the person's history (≥1)
    power: float
    pairs_for_80_percent: int | None
    seed: int
    blocks: list[Block] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["blocks"] = [{**asdict(b), "start": str(b.start), "end": str(b.end)} for b in self.blocks]
        return d

    def schedule(self) -> pl.DataFrame:
        return pl.DataFrame([asdict(b) for b in self.blocks])


def _history(days: pl.DataFrame, block_days: int) -> tuple[float, float]:
    """Attacks per day at risk, and the dispersion of block counts (variance / mean)."""
    d = days.sort("date").tail(180)
    rate = float(d.select(pl.col("onset").mean()).item() or 0.0)
    counts = (
        d.with_columns((pl.int_range(pl.len()) // block_days).alias("b"))
        .group_by("b")
        .agg(pl.col("onset").sum(), pl.len().alias("n"))
        .filter(pl.col("n") == block_days)["onset"]
        .to_numpy()
    )
    dispersion = (
        float(counts.var(ddof=1) / counts.mean()) if counts.size > 2 and counts.mean() > 0 else 1.0
    )
    return rate, max(dispersion, 1.0)


def _test(
    y_on: np.ndarray, y_off: np.ndarray, days_on: float, days_off: float, dispersion: float = 1.0
) -> tuple[np.ndarray, ...]:
    """Vectorised quasi-Poisson comparison of block counts (rows = trials).

    The dispersion is the larger of the person's historical one and the one the blocks
    show: a handful of blocks alone estimates it too poorly for a t test to have any
    power. Returns log rate ratio, its SE, p-value (normal reference) and residual df.
    """
    k_on, k_off = y_on.shape[-1], y_off.shape[-1]
    block_on, block_off = days_on / k_on, days_off / k_off
    sum_on, sum_off = y_on.sum(-1), y_off.sum(-1)
    rate_on = (sum_on + 0.5) / days_on  # +0.5: finite with zero counts
    rate_off = (sum_off + 0.5) / days_off
    log_rr = np.log(rate_on / rate_off)
    fitted_on, fitted_off = rate_on[..., None] * block_on, rate_off[..., None] * block_off
    pearson = ((y_on - fitted_on) ** 2 / fitted_on).sum(-1) + (
        (y_off - fitted_off) ** 2 / fitted_off
    ).sum(-1)
    df = k_on + k_off - 2
    phi = np.maximum(pearson / df, max(dispersion, 1.0))
    se = np.sqrt(phi * (1 / (sum_on + 0.5) + 1 / (sum_off + 0.5)))
    p = 2 * stats.norm.sf(np.abs(log_rr / se))
    return log_rr, se, p, np.full(np.shape(log_rr), df)


def simulated_power(
    rate: float,
    dispersion: float,
    block_days: int,
    pairs: int,
    rate_ratio: float,
    n_sim: int = 4000,
    seed: int = 0,
) -> float:
    rng = np.random.default_rng(seed)
    mean_off = rate * block_days
    shape = mean_off / (dispersion - 1) if dispersion > 1 else None

    def counts(mean: float) -> np.ndarray:
        if shape is None or mean <= 0:
            return rng.poisson(mean, size=(n_sim, pairs))
        return rng.poisson(rng.gamma(shape, mean / shape, size=(n_sim, pairs)))

    y_on, y_off = counts(mean_off * rate_ratio), counts(mean_off)
    _, _, p, _ = _test(y_on, y_off, pairs * block_days, pairs * block_days, dispersion)
    return float((p < ALPHA).mean())


def design_experiment(
    days: pl.DataFrame,
    change: str,
    start: dt.date,
    *,
    block_days: int = 14,
    pairs: int = 4,
    rate_ratio: float = 0.6,
    seed: int | None = None,
) -> ExperimentDesign:
    """A randomised block schedule with its power, from one patient's day table."""
    ids = days["patient_id"].unique().to_list()
    if not ids:
        raise ValueError(
            "no diary days yet: an experiment's power comes from the attack history, "
            "so log some days first"
        )
    if len(ids) != 1:
        raise ValueError("an experiment is designed for one patient")
    if not 0 < rate_ratio < 10 or rate_ratio == 1:
        raise ValueError("rate_ratio must be positive and not 1 (the effect to detect)")
    if block_days < 7 or pairs < 2:
        raise ValueError("blocks of at least 7 days and at least 2 pairs are needed")
    if seed is None:
        entropy = np.random.SeedSequence().entropy  # an int when drawn fresh, as here
        seed = int(cast(int, entropy) % 2**31)
    rng = np.random.default_rng(seed)
    rate, dispersion = _history(days, block_days)
    blocks, day = [], start
    for pair in range(1, pairs + 1):
        order = ["on", "off"] if rng.random() < 0.5 else ["off", "on"]
        for condition in order:
            blocks.append(Block(pair, condition, day, day + dt.timedelta(days=block_days - 1)))
            day += dt.timedelta(days=block_days)
    power = simulated_power(rate, dispersion, block_days, pairs, rate_ratio, seed=seed)
    needed = next(
        (
            k
            for k in range(2, 25)
            if simulated_power(rate, dispersion, block_days, k, rate_ratio, 2000, seed) >= 0.8
        ),
        None,
    )
    return ExperimentDesign(
        ids[0],
        change,
        block_days,
        pairs,
        rate_ratio,
        rate * 28,
        dispersion,
        power,
        needed,
        seed,
        blocks,
    )


@dataclass(frozen=True)
class ExperimentResult(Results):
    """One experiment's answer: attacks in "on" against "off" blocks. It is one person's
    by design, so ``patient_id`` in the contract's methods is accepted and not needed."""

    rate_ratio: float
    ci_low: float
    ci_high: float
    p: float
    attacks_on: int
    attacks_off: int
    days_on: int
    days_off: int
    message: str

    def summary(self, patient_id: str | None = None) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_frame(self, patient_id: str | None = None) -> pl.DataFrame:
        return pl.DataFrame([self.to_dict()])

    def plot(self, patient_id: str | None = None, path: str | None = None) -> Figure:
        """Attacks per 28 days in the "on" and "off" blocks, with the rate ratio's
        interval in the title: the two bars a person compares, the interval that says
        how sure the comparison is."""
        fig, axes = figure(3, height_per_row=0.9, width=6)
        ax = axes[0, 0]
        rates = [
            self.attacks_on / self.days_on * 28 if self.days_on else math.nan,
            self.attacks_off / self.days_off * 28 if self.days_off else math.nan,
        ]
        ax.bar(["with the change (on)", "as usual (off)"], rates, color=["#2471a3", "#7f8c8d"])
        ax.set_ylabel("attacks per 28 days")
        ax.set_title(
            f"rate ratio {self.rate_ratio:.2f} (95% CI {self.ci_low:.2f}–{self.ci_high:.2f})"
        )
        return finish(fig, path)


def analyze_experiment(days: pl.DataFrame, design: ExperimentDesign) -> ExperimentResult:
    """Attacks in "on" against "off" blocks, with the same test the power assumed."""
    y: dict[str, list[int]] = {"on": [], "off": []}
    n = {"on": 0, "off": 0}
    for b in design.blocks:
        block = days.filter((pl.col("date") >= b.start) & (pl.col("date") <= b.end))
        if block.height < design.block_days // 2:
            raise ValueError(
                f"block {b.pair} ({b.condition}) from {b.start} has {block.height} diary days"
            )
        y[b.condition].append(int(block["onset"].sum()))
        n[b.condition] += block.height
    # the test the power was computed for: the design's historical dispersion as the
    # floor, a normal reference; its interval excludes 1 exactly when p < ALPHA
    log_rr, se, p, _ = _test(
        np.array(y["on"], float)[None],
        np.array(y["off"], float)[None],
        n["on"],
        n["off"],
        design.dispersion,
    )
    z = stats.norm.ppf(1 - ALPHA / 2)
    rr, lo, hi = (
        math.exp(log_rr[0]),
        math.exp(log_rr[0] - z * se[0]),
        math.exp(log_rr[0] + z * se[0]),
    )
    if hi < 1:
        message = (
            f"Fewer attacks with {design.change}: rate ratio {rr:.2f} (95% CI {lo:.2f}–{hi:.2f})."
        )
    elif lo > 1:
        message = (
            f"More attacks with {design.change}: rate ratio {rr:.2f} (95% CI {lo:.2f}–{hi:.2f})."
        )
    else:
        message = (
            f"No clear difference with {design.change}: rate ratio {rr:.2f} "
            f"(95% CI {lo:.2f}–{hi:.2f}). This does not show there is no effect; "
            "more pairs would narrow the interval."
        )
    return ExperimentResult(
        rr, lo, hi, float(p[0]), sum(y["on"]), sum(y["off"]), n["on"], n["off"], message
    )


def fit(days: pl.DataFrame, design: ExperimentDesign) -> ExperimentResult:
    """The finished experiment's answer (:func:`analyze_experiment`, under the contract's
    name): the design is the experiment's own setting, as the trigger settings are theirs."""
    return analyze_experiment(days, design)
