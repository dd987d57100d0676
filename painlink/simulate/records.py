"""The clinical records a simulated patient accumulates around the attacks.

Acute medications (with overuse), spine-pain episodes, flexion-rotation exams and
HIT-6 responses: each drawn from the chunk's random generator in the order the
simulator calls them, so a seed gives the same diary as before they moved here.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from painlink.simulate.spec import SimulationSpec

ACUTE = {
    "migraine": (
        ("sumatriptan", 50.0),
        ("rizatriptan", 10.0),
        ("ibuprofen", 400.0),
        ("paracetamol+caffeine", 1000.0),
    ),
    "tth": (("paracetamol", 1000.0), ("ibuprofen", 400.0), ("acetylsalicylic acid", 500.0)),
}
RELIEF = np.array(["none", "partial", "complete"], dtype=object)


def acute_medications(
    rng: np.random.Generator,
    spec: SimulationSpec,
    pid: np.ndarray,
    htype: np.ndarray,
    who: np.ndarray,
    day: np.ndarray,
    start_us: np.ndarray,
    end_h: np.ndarray,
    attack_ids: pl.Series,
) -> pl.DataFrame:
    """Acute intakes: one per attack for most, one per attack day for overusers."""
    m, n, t = who.size, htype.size, spec.days
    overuser = (htype == "1.3") & (rng.random(n) < 0.6)
    drug_pick = rng.integers(0, 2, size=n)  # a patient's usual drug among the first two
    rows_who, rows_attack, rows_time = [], [], []
    take = rng.random(m) < np.where(htype[who] == "2.2", 0.5, 0.75)
    take |= overuser[who]
    for k in np.flatnonzero(take):
        last = min(int(end_h[k] // 24), t - 1)
        span = range(day[k], last + 1) if overuser[who[k]] else range(day[k], day[k] + 1)
        for j, d in enumerate(span):
            rows_who.append(who[k])
            rows_attack.append(k)
            rows_time.append(
                start_us[k] + 45 * 60_000_000 if j == 0 else d * 86_400_000_000 + 8 * 3_600_000_000
            )
    if not rows_who:
        return pl.DataFrame()
    w = np.array(rows_who)
    kind = np.where(htype[w] == "2.2", "tth", "migraine")
    which = drug_pick[w] + (rng.random(w.size) < 0.15) * 2  # sometimes a second-line drug
    drugs = np.array(
        [ACUTE[k][min(c, len(ACUTE[k]) - 1)] for k, c in zip(kind, which, strict=True)],
        dtype=object,
    )
    base_dt = dt.datetime.combine(spec.start, dt.time())
    return pl.DataFrame(
        {
            "patient_id": pl.Series(pid[w], dtype=pl.String),
            "taken_at": pl.Series(np.array(rows_time, dtype=np.int64)).cast(pl.Duration("us"))
            + base_dt,
            "drug": [d[0] for d in drugs],
            "dose": [d[1] for d in drugs],
            "dose_unit": "mg",
            "relief_2h": pl.Series(
                RELIEF[rng.choice(3, size=w.size, p=[0.2, 0.45, 0.35])], dtype=pl.String
            ),
            "attack_id": attack_ids.gather(np.array(rows_attack)),
        }
    ).with_columns(
        pl.col("drug")
        .replace_strict(
            {
                "sumatriptan": "triptan",
                "rizatriptan": "triptan",
                "ibuprofen": "non_opioid_analgesic",
                "paracetamol": "non_opioid_analgesic",
                "acetylsalicylic acid": "non_opioid_analgesic",
                "paracetamol+caffeine": "combination_analgesic",
            }
        )
        .alias("drug_class")
    )


def overusing(medications: pl.DataFrame, n: int, pid: np.ndarray, t: int) -> dict[str, bool]:
    """True where some 30-day window holds 10 or more acute-medication days (simulated truth)."""
    if not medications.height:
        return {}
    per_day = medications.select("patient_id", pl.col("taken_at").dt.date().alias("d")).unique()
    counts = per_day.group_by("patient_id").agg(pl.len().alias("days"))
    months = max(t / 30.0, 1.0)
    return {
        r["patient_id"]: r["days"] / months >= 10 and t >= 90 for r in counts.iter_rows(named=True)
    }


def spine_episodes(
    rng: np.random.Generator, pid: np.ndarray, neck_obs: np.ndarray, base_dt: dt.datetime
) -> pl.DataFrame:
    """Upper-cervical episodes noted by patients whose neck pain flares (≥6/10)."""
    flare_p, flare_d = np.nonzero((neck_obs >= 6) & (rng.random(neck_obs.shape) < 0.3))
    if flare_p.size == 0:
        return pl.DataFrame()
    start = (
        pl.Series((flare_d * 24 + 7).astype(np.int64) * 3_600_000_000).cast(pl.Duration("us"))
        + base_dt
    )
    return pl.DataFrame(
        {
            "patient_id": pl.Series(pid[flare_p], dtype=pl.String),
            "region": "upper_cervical",
            "side": pl.Series(
                np.where(rng.random(flare_p.size) < 0.5, "left", "bilateral"), dtype=pl.String
            ),
            "start": start,
            "end": start + dt.timedelta(hours=10),
            "nrs": neck_obs[flare_p, flare_d].astype(float),
        }
    )


def frt_exams(
    rng: np.random.Generator,
    pid: np.ndarray,
    neck_role: np.ndarray,
    examined: np.ndarray,
    first: dt.date | None,
    last: dt.date,
) -> pl.DataFrame:
    """Flexion–rotation tests at intake and at the last day, two trials per side.

    Patients whose neck pain causes attacks rotate less (true mean 28° vs 42°); each
    trial adds measurement noise (SD 3°), so repeated trials carry a known error.
    """
    who = np.flatnonzero(examined)
    if first is None or who.size == 0:
        return pl.DataFrame()
    rows = []
    for i in who:
        true = 28.0 if neck_role[i] == "cause" else 42.0
        side_low = "left" if rng.random() < 0.5 else "right"
        for visit in (first, last):
            at = dt.datetime.combine(visit, dt.time(9, 30))
            for side in ("left", "right"):
                level = true if side == side_low else true + 8.0
                for repeat in (1, 2):
                    rows.append(
                        {
                            "patient_id": pid[i],
                            "at": at,
                            "measure": f"frt_{side}_deg",
                            "value": round(float(level + rng.normal(0, 3.0)), 1),
                            "unit": "deg",
                            "method": "goniometer",
                            "examiner": "Dr. Demo (simulated)",
                            "repeat": repeat,
                        }
                    )
    return pl.DataFrame(rows)


HIT6_VALUES = np.array([6.0, 8.0, 10.0, 11.0, 13.0])


def hit6_responses(
    rng: np.random.Generator,
    treated: np.ndarray,
    attacks: pl.DataFrame,
    first: dt.date | None,
    last: dt.date,
) -> pl.DataFrame:
    """HIT-6 at the intake visit and on the last day for treated patients.

    Impact follows the attacks of the 28 days before each response (total ≈ 44 + 2.2 per
    attack, capped to 36–78, roughly the frequency gradient of Kosinski 2003), and each
    item answer adds noise, so a response carries real measurement error.
    """
    if first is None or treated.size == 0:
        return pl.DataFrame()
    counts = {}
    for visit in (first, last):
        window = attacks.filter(
            (pl.col("start").dt.date() < visit)
            & (pl.col("start").dt.date() >= visit - dt.timedelta(days=28))
        )
        counts[visit] = dict(window.group_by("patient_id").len().iter_rows())
    rows = []
    for p in treated:
        for visit in (first, last):
            total = float(np.clip(44 + 2.2 * counts[visit].get(p, 0), 36, 78))
            level = (total - 36) / 42 * 4
            answers = np.clip(np.rint(level + rng.normal(0, 0.7, 6)), 0, 4).astype(int)
            rows += [
                {
                    "patient_id": p,
                    "completed_on": visit,
                    "instrument": "hit6",
                    "item": f"hit6-{k}",
                    "value": HIT6_VALUES[a],
                    "recorded_by": "Dr. Demo (simulated)",
                }
                for k, a in enumerate(answers, 1)
            ]
    return pl.DataFrame(rows)
