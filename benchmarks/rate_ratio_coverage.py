"""Coverage of the exact conditional rate-ratio interval on Poisson pairs with a known ratio.

    python benchmarks/rate_ratio_coverage.py --pairs 20000

Then the same with overdispersed 28-day block counts (2,000 pairs per row).

Counts are drawn here with numpy (not painlink's simulator). Pairs with no event
before are left out, as painlink reports "not enough data" for them. Prints a markdown
table for docs/reliability.md.
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from painlink.analysis.outcomes import exact_rate_ratio

REGIMES = [  # rate before per day, true ratio, days before, days during
    (0.10, 0.2, 28, 28),
    (0.10, 0.5, 28, 56),
    (0.05, 1.0, 90, 28),
    (0.20, 0.1, 90, 90),
    (0.30, 0.7, 60, 120),
    (0.15, 2.0, 28, 28),
    (0.25, 0.5, 90, 90),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print(
        "| rate before /day | true RR | days before | days during | pairs | share with 0 during "
        "| coverage | lower limit finite | upper limit finite |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for rate, ratio, t0, t1 in REGIMES:
        before = rng.poisson(rate * t0, args.pairs)
        during = rng.poisson(rate * ratio * t1, args.pairs)
        keep = before > 0
        cover = lo_ok = hi_ok = 0
        for y0, y1 in zip(before[keep], during[keep], strict=True):
            r = exact_rate_ratio(int(y1), t1, int(y0), t0)
            cover += r.ci_low <= ratio <= r.ci_high
            lo_ok += math.isfinite(r.ci_low)
            hi_ok += math.isfinite(r.ci_high)
        n = int(keep.sum())
        print(
            f"| {rate} | {ratio} | {t0} | {t1} | {n} | {np.mean(during[keep] == 0):.1%} "
            f"| {cover / n:.1%} | {lo_ok / n:.0%} | {hi_ok / n:.0%} |"
        )


def _blocks(rng: np.random.Generator, mean: float, k: int, phi: float) -> np.ndarray:
    """k block counts with mean ``mean`` and variance mean × φ (gamma-Poisson)."""
    if phi == 1.0:
        return rng.poisson(mean, k)
    shape = mean / (phi - 1)
    return rng.poisson(rng.gamma(shape, mean / shape, k))


def overdispersed(pairs: int, seed: int) -> None:
    """28-day block counts with extra-Poisson variation: the plain exact interval against
    the one deflated by the baseline blocks' Pearson dispersion, as painlink does."""
    import polars as pl

    from painlink.analysis.outcomes import _dispersion

    rng = np.random.default_rng(seed)
    print(
        "| true φ | rate before /day | true RR | 28-day blocks before / during | pairs "
        "| coverage, plain | coverage, with baseline φ |"
    )
    print("|---|---|---|---|---|---|---|")
    for phi, rate, ratio, k0, k1 in (
        (2.0, 0.2, 0.3, 3, 2),
        (3.0, 0.3, 0.2, 3, 3),
        (1.0, 0.2, 0.3, 3, 2),
    ):
        plain = wide = n = 0
        for _ in range(pairs):
            before = _blocks(rng, rate * 28, k0, phi)
            during = _blocks(rng, rate * ratio * 28, k1, phi)
            if before.sum() == 0:
                continue
            # weekly rows as painlink keeps them: each block's count in its first week
            weeks = pl.DataFrame(
                {
                    "week": np.arange(-4 * k0, 0),
                    "y": [int(before[i // 4]) if i % 4 == 0 else 0 for i in range(4 * k0)],
                    "days": [7] * (4 * k0),
                    "treated": [0.0] * (4 * k0),
                }
            )
            args = (int(during.sum()), 28 * k1, int(before.sum()), 28 * k0)
            a = exact_rate_ratio(*args)
            b = exact_rate_ratio(*args, dispersion=_dispersion(weeks))
            plain += a.ci_low <= ratio <= a.ci_high
            wide += b.ci_low <= ratio <= b.ci_high
            n += 1
        print(
            f"| {phi} | {rate} | {ratio} | {k0} / {k1} | {n} | {plain / n:.1%} | {wide / n:.1%} |"
        )


if __name__ == "__main__":
    main()
    print()
    overdispersed(2000, 2)
