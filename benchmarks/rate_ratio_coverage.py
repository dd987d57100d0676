"""Coverage of the exact conditional rate-ratio interval on Poisson pairs with a known ratio.

    python benchmarks/rate_ratio_coverage.py --pairs 20000

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


if __name__ == "__main__":
    main()
