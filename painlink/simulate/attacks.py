"""The attacks of a simulated chunk: features by headache type, aura symptoms, readings.

Why its own module: given who had an attack and when (the simulator's day loop),
the rest of an attack — intensity, side, quality, accompanying symptoms, aura and
intensity readings — is drawn here, from the same generator in the same order as
before, so a seed still gives the same diary.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from painlink.simulate.spec import SimulationSpec


@dataclass(frozen=True)
class AttackTables:
    attacks: pl.DataFrame
    aura: pl.DataFrame
    readings: pl.DataFrame
    attack_ids: pl.Series
    start_us: np.ndarray  # attack starts, microseconds after the diary start


def attack_tables(
    rng: np.random.Generator,
    spec: SimulationSpec,
    ids: list[str],
    htype: np.ndarray,
    neck_role: np.ndarray,
    who: np.ndarray,
    start_h: np.ndarray,
    end_h: np.ndarray,
    ongoing_last: np.ndarray,
) -> AttackTables:
    """Every attack's row, aura symptoms and intensity readings (``who`` is sorted)."""
    n, m = len(ids), who.size
    # --- attack features by type
    at_type = htype[who]
    is_mig = at_type != "2.2"
    u = rng.random((m, 12))
    intensity = np.where(
        is_mig,
        np.select([u[:, 0] < 0.1, u[:, 0] < 0.55], [1, 2], 3),
        np.where(u[:, 0] < 0.6, 1, 2),
    )
    unilateral = np.where(is_mig, u[:, 1] < 0.6, u[:, 1] < 0.1)
    side = np.where(unilateral, np.where(u[:, 2] < 0.5, "left", "right"), "bilateral").astype(
        object
    )
    quality = np.where(
        is_mig,
        np.where(u[:, 3] < 0.7, "pulsating", "pressing"),
        np.where(u[:, 3] < 0.85, "pressing", "other"),
    )
    aggravated = np.where(is_mig, u[:, 4] < 0.8, u[:, 4] < 0.1)
    nausea = np.where(is_mig, u[:, 5] < 0.6, False)
    vomiting = nausea & (u[:, 6] < 0.25)
    photo = np.where(is_mig, u[:, 7] < 0.8, u[:, 7] < 0.15)
    phono = np.where(is_mig, u[:, 8] < 0.7, (u[:, 8] < 0.15) & ~photo)
    neck_flag = np.where((neck_role[who] == "symptom"), u[:, 9] < 0.75, u[:, 9] < 0.25)
    autonomic = is_mig & (u[:, 10] < 0.08)
    has_aura = (at_type == "1.2.1") & (u[:, 11] < 0.75)
    records_nrs = rng.random(n) < 0.5
    nrs = np.where(
        records_nrs[who],
        np.select(
            [intensity == 1, intensity == 2],
            [rng.integers(1, 4, m), rng.integers(4, 7, m)],
            rng.integers(7, 11, m),
        ),
        -1,
    )
    location = np.where(
        is_mig,
        np.where(unilateral, "temporal;orbital", "frontal;temporal"),
        np.where(u[:, 2] < 0.3, "occipital;neck", "frontal;temporal"),
    )

    base_dt = dt.datetime.combine(spec.start, dt.time())
    start_us = np.round(start_h * 4).astype(np.int64) * 15 * 60 * 1_000_000  # 15-minute steps
    end_us = np.round(end_h * 4).astype(np.int64) * 15 * 60 * 1_000_000
    start_col = pl.Series(start_us).cast(pl.Duration("us")) + base_dt
    end_col = (
        (pl.Series(end_us).cast(pl.Duration("us")) + base_dt).scatter(
            np.flatnonzero(ongoing_last), None
        )
        if m
        else pl.Series([], dtype=pl.Datetime("us"))
    )
    pid = np.array(ids, dtype=object)
    attack_ids = sequence_ids(who, "A")
    attacks = pl.DataFrame(
        {
            "patient_id": pl.Series(pid[who], dtype=pl.String),
            "attack_id": attack_ids,
            "start": start_col,
            "end": end_col,
            "intensity": intensity,
            "intensity_nrs": pl.Series(nrs, dtype=pl.Float64).replace(-1.0, None),
            "onset_to_peak_min": np.round(
                np.where(is_mig, rng.uniform(30, 120, m), rng.uniform(10, 60, m))
            ),
            "side": pl.Series(side, dtype=pl.String),
            "location": pl.Series(location, dtype=pl.String),
            "quality": pl.Series(quality, dtype=pl.String),
            "aggravated_by_activity": aggravated,
            "nausea": nausea,
            "vomiting": vomiting,
            "photophobia": photo,
            "phonophobia": phono,
            "cranial_autonomic": autonomic,
            "restlessness": np.zeros(m, dtype=bool),
            "neck_pain": neck_flag,
            "aura": has_aura,
        }
    )

    # aura symptoms: visual always, sensory in a third, each 5–60 min, before the headache
    aura_rows = np.flatnonzero(has_aura)
    n_sym = 1 + (rng.random(aura_rows.size) < 0.33)
    succession = np.full(m, None, dtype=object)
    succession[aura_rows] = n_sym > 1  # the second symptom follows the first
    attacks = attacks.with_columns(
        pl.Series("aura_succession", succession.tolist(), dtype=pl.Boolean)
    )
    sym_attack = np.repeat(aura_rows, n_sym)
    sym_index = (
        np.concatenate([np.arange(k) for k in n_sym]) if aura_rows.size else np.zeros(0, int)
    )
    sym_type = np.where(sym_index == 0, "visual", "sensory")
    sym_duration = np.round(rng.uniform(8, 45, sym_attack.size))
    lead = rng.uniform(20, 50, aura_rows.size)
    sym_offset = -np.repeat(lead, n_sym) + sym_index * 15.0
    aura = pl.DataFrame(
        {
            "patient_id": pl.Series(pid[who[sym_attack]], dtype=pl.String),
            "attack_id": attack_ids.gather(sym_attack),
            "type": pl.Series(sym_type, dtype=pl.String),
            "start": start_col.gather(sym_attack)
            + pl.Series(np.round(sym_offset).astype(np.int64) * 60_000_000).cast(pl.Duration("us")),
            "duration_min": sym_duration,
            "positive": sym_index == 0,
            "unilateral": rng.random(sym_attack.size) < 0.85,
            "gradual_spread": rng.random(sym_attack.size) < 0.9,
        }
    )

    # intensity readings for half of the patients: at onset and at the peak
    read = np.flatnonzero(records_nrs[who])
    peak_min = attacks["onset_to_peak_min"].to_numpy()[read]
    readings = pl.concat(
        [
            pl.DataFrame(
                {
                    "patient_id": pl.Series(pid[who[read]], dtype=pl.String),
                    "attack_id": attack_ids.gather(read),
                    "at": start_col.gather(read)
                    + pl.Series((offset * 60_000_000).astype(np.int64)).cast(pl.Duration("us")),
                    # the onset reading is a step below the peak
                    "intensity": (
                        np.maximum(intensity[read] - 1, 1) if k == 0 else intensity[read]
                    ).astype(np.int64),
                    "intensity_nrs": pl.Series(
                        np.maximum(nrs[read] - (2 if k == 0 else 0), 1), dtype=pl.Float64
                    ),
                }
            )
            for k, offset in enumerate((np.zeros(read.size), np.round(peak_min)))
        ]
    )
    return AttackTables(attacks, aura, readings, attack_ids, start_us)


def sequence_ids(who: np.ndarray, prefix: str) -> pl.Series:
    """A0001, A0002 … numbered within each patient (``who`` is sorted)."""
    if who.size == 0:
        return pl.Series([], dtype=pl.String)
    starts = np.r_[0, np.flatnonzero(np.diff(who)) + 1]
    counter = np.arange(who.size) - np.repeat(starts, np.diff(np.r_[starts, who.size]))
    numbers = pl.Series(counter + 1).cast(pl.String).str.zfill(4)
    return (prefix + numbers).alias("attack_id")
