"""False calls where nothing acts but everything persists, over many seeds.

    python benchmarks/persistent_series.py [--seeds 11 12 ... 20] [--trend-days D]
        [--attack-history-days H] [--set NAME=VALUE]

The diaries of ``tests/test_serial_dependence.py::
test_persistent_unrelated_series_are_not_called_linked``: 200 people × 365 days,
attacks drawn from a slow susceptibility of their own (AR(1), 0.97, on the log-odds
scale around an 8% daily rate), stress, sleep, screen time, neck and back pain
persistent for weeks (AR(1), 0.95) and acting on nothing. Every trigger call is false;
the share of person × variable pairs called is printed per seed and as a mean, each
person analysed alone (the app's route). The test asserts one seed against the ceiling
seen here; docs/analysis.md ("Days that depend on each other") gives the figures.
The test draws its diaries here (:func:`diaries`), so the figures are about what it
guards.
"""

from __future__ import annotations

import argparse
import datetime as dt

import numpy as np
import polars as pl
from painlink_calls import add_trigger_options, trigger_settings

from painlink.analysis.triggers import TriggerAnalysis


def ar1(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    """A stationary AR(1) series of ``n`` days, unit variance, persistence ``phi``."""
    x = np.empty(n)
    x[0] = rng.normal()
    shocks = rng.normal(0.0, np.sqrt(1 - phi**2), n)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + shocks[t]
    return x


def diaries(seed: int, people: int = 200, days: int = 365) -> pl.DataFrame:
    """The day table of ``people`` unrelated persistent diaries (see the module)."""
    rng = np.random.default_rng(seed)
    dates = pl.date_range(
        dt.date(2024, 1, 1), dt.date(2024, 1, 1) + dt.timedelta(days - 1), eager=True
    )
    frames = []
    for i in range(people):
        onset = rng.random(days) < 1 / (1 + np.exp(2.4 - ar1(rng, days, 0.97)))
        values = {
            "stress": np.clip(np.round(5 + 2 * ar1(rng, days, 0.95)), 0, 10),
            "sleep_hours": np.round(7 + ar1(rng, days, 0.95), 1),
            "screen_hours": np.round(np.clip(3 + 1.5 * ar1(rng, days, 0.95), 0, 9), 1),
            "neck_pain_max": np.clip(np.round(3 + 2 * ar1(rng, days, 0.95)), 0, 10),
            "back_pain_max": np.clip(np.round(2 + 2 * ar1(rng, days, 0.95)), 0, 10),
        }
        frames.append(
            pl.DataFrame(
                {
                    "patient_id": f"P{i:03d}",
                    "date": dates,
                    "onset": onset,
                    "ongoing": np.zeros(days, bool),
                    "attack_day": onset,
                    **values,
                    "menstruation": [None] * days,
                },
                schema_overrides={"menstruation": pl.String},
            )
        )
    return pl.concat(frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(11, 21)))
    add_trigger_options(parser)
    args = parser.parse_args()
    settings = trigger_settings(args)
    rates = []
    for seed in args.seeds:
        verdicts = TriggerAnalysis(settings).fit(diaries(seed), shrink=False).to_frame()
        tested = verdicts.filter(pl.col("verdict") != "not recorded")
        called = tested.filter(pl.col("verdict").is_in(["likely trigger", "likely protector"]))
        rates.append(called.height / tested.height)
        print(f"seed {seed}: {called.height} of {tested.height} pairs called ({rates[-1]:.2%})")
    spread = f"min {min(rates):.2%}, max {max(rates):.2%}"
    print(f"mean over {len(rates)} seeds: {np.mean(rates):.2%} ({spread})")


if __name__ == "__main__":
    main()
