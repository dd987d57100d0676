"""Classify the public "Migraine Classification" table (400 patients, 24 columns).

Each row of that table describes one patient's typical attack (age, duration in days,
attacks per month, location, character, intensity, nausea, vomiting, photo- and
phonophobia, counts of visual and sensory aura symptoms, brainstem symptoms, family
history) and a diagnosis label. This module turns a row into a diary painlink can
classify, with every assumption named (docs/classification-agreement.md):

- the row's attack is repeated :data:`ATTACKS_PER_ROW` times, the fewest ICHD-3 1.1
  asks for, because the table does not say how many attacks the patient had;
- ``Duration`` (1–3 days) becomes 24·d − 12 hours, inside 4–72 h;
- aggravation by routine activity is not in the table: left unknown;
- aura symptoms: Visual → visual, Sensory → sensory, Dysphasia → speech; Dysarthria,
  Vertigo, Tinnitus, Hypoacusis, Diplopia, Ataxia, Conscience → brainstem (ICHD-3
  1.2.2); Defect (a field defect in both eyes) → visual and Paresthesia (bilateral)
  → sensory, as ICHD-3 dropped these from 1.2.2 (they were ICHD-2 basilar criteria);
- the aura characteristics of 1.2 criterion C are not in the table. The strict
  mapping leaves them unknown; ``assume_typical_aura=True`` assumes the textbook
  aura (20 minutes, spreading, positive, unilateral) as a sensitivity analysis;
- there is no motor-weakness column, so hemiplegic migraine cannot be recognised.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl

from painlink.clinical.classify import Classification, classify
from painlink.diary.frames import DiaryFrames

ATTACKS_PER_ROW = 5
REFERENCE_YEAR = 2025
BRAINSTEM = ("Dysarthria", "Vertigo", "Tinnitus", "Hypoacusis", "Diplopia", "Ataxia", "Conscience")
LABELS = {
    "Typical aura with migraine": "typical aura with migraine",
    "Typical aura without migraine": "typical aura without headache",
    "Migraine without aura": "migraine without aura",
    "Basilar-type aura": "brainstem aura (refer)",
    "Familial hemiplegic migraine": "hemiplegic (not recognisable)",
    "Sporadic hemiplegic migraine": "hemiplegic (not recognisable)",
    "Other": "other",
}


def read_table(path: str | Path) -> pl.DataFrame:
    """Read either copy of the table (';' or ',' separated; 'Defect' or 'Visual_defect')."""
    path = Path(path)
    head = path.read_text(encoding="utf-8").splitlines()[0]
    frame = pl.read_csv(path, separator=";" if head.count(";") > head.count(",") else ",")
    frame = frame.rename({"Visual_defect": "Defect"}) if "Visual_defect" in frame.columns else frame
    return frame.with_row_index("row", offset=1)


def row_to_diary(row: dict[str, Any], assume_typical_aura: bool = False) -> DiaryFrames:
    pid = f"row{row['row']}"
    start = dt.datetime(REFERENCE_YEAR, 1, 1, 8)
    gap = dt.timedelta(days=max(1.0, 30.0 / max(row["Frequency"], 1)))
    hours = 24 * row["Duration"] - 12
    side = {1: "left", 2: "bilateral"}.get(row["Location"])
    quality = {1: "pulsating", 2: "pressing"}.get(row["Character"])
    types = []
    if row["Visual"] > 0 or row["Defect"]:
        types.append("visual")
    if row["Sensory"] > 0 or row["Paresthesia"]:
        types.append("sensory")
    if row["Dysphasia"]:
        types.append("speech")
    if any(row[c] for c in BRAINSTEM):
        types.append("brainstem")
    attacks, aura = [], []
    for k in range(ATTACKS_PER_ROW):
        begin = start + k * gap
        attacks.append(
            {
                "patient_id": pid,
                "attack_id": f"a{k}",
                "start": begin,
                "end": begin + dt.timedelta(hours=hours),
                "intensity": row["Intensity"],
                "side": side,
                "quality": quality,
                "nausea": bool(row["Nausea"]),
                "vomiting": bool(row["Vomit"]),
                "photophobia": bool(row["Photophobia"]),
                "phonophobia": bool(row["Phonophobia"]),
                "aura": bool(types),
            }
        )
        for j, kind in enumerate(types):
            symptom: dict[str, object] = {"patient_id": pid, "attack_id": f"a{k}", "type": kind}
            if assume_typical_aura:
                symptom |= {
                    "start": begin - dt.timedelta(minutes=40 - 10 * j),
                    "duration_min": 20.0,
                    "positive": True,
                    "unilateral": True,
                    "gradual_spread": True,
                }
            aura.append(symptom)
    return DiaryFrames.from_tables(
        patients=pl.DataFrame(
            [
                {
                    "patient_id": pid,
                    "birth_year": REFERENCE_YEAR - row["Age"],
                    "time_zone": "UTC",
                    "family_history_migraine": bool(row["DPF"]),
                }
            ]
        ),
        attacks=pl.DataFrame(attacks),
        aura_symptoms=pl.DataFrame(aura) if aura else pl.DataFrame(),
    )


def predicted_label(result: Classification) -> str:
    """painlink's classification in the table's vocabulary."""
    status = {d.code: d.status for d in result.diagnoses}
    if any(d.code == "1.2.2" and d.refer for d in result.diagnoses):
        return "brainstem aura (refer)"
    if status.get("1.2.1.2") == "met" and status.get("1.2.1.1") != "met":
        return "typical aura without headache"
    if status.get("1.2.1.1") == "met" or status.get("1.2") == "met":
        return "typical aura with migraine"
    if status.get("1.5.2") == "probable":
        return "probable migraine with aura"
    if status.get("1.1") == "met":
        return "migraine without aura"
    if status.get("1.5.1") == "probable":
        return "probable migraine without aura"
    return "other"


def classify_table(path: str | Path, assume_typical_aura: bool = False) -> pl.DataFrame:
    """One row per table row: the table's label, painlink's label and whether they agree."""
    table = read_table(path)
    out = []
    for row in table.iter_rows(named=True):
        result = classify(row_to_diary(row, assume_typical_aura))
        ours = predicted_label(result)
        theirs = LABELS.get(row["Type"], row["Type"])
        out.append(
            {"row": row["row"], "table_label": row["Type"], "expected": theirs, "painlink": ours}
        )
    frame = pl.DataFrame(out)
    return frame.with_columns(
        (pl.col("expected") == pl.col("painlink")).alias("agree"),
        (
            (pl.col("expected") == pl.col("painlink"))
            | (pl.col("painlink") == pl.concat_str([pl.lit("probable "), pl.col("expected")]))
            | (
                (pl.col("expected") == "typical aura with migraine")
                & (pl.col("painlink") == "probable migraine with aura")
            )
        ).alias("agree_incl_probable"),
    )


def agreement(results: pl.DataFrame) -> pl.DataFrame:
    return (
        results.group_by("table_label")
        .agg(
            pl.len().alias("rows"),
            pl.col("agree").sum().alias("agree"),
            pl.col("agree_incl_probable").sum().alias("agree_incl_probable"),
        )
        .with_columns((pl.col("agree") / pl.col("rows")).round(3).alias("share"))
        .sort("rows", descending=True)
    )


def confusion(results: pl.DataFrame) -> pl.DataFrame:
    return (
        results.group_by("table_label", "painlink")
        .len()
        .pivot(on="painlink", index="table_label", values="len")
        .fill_null(0)
        .sort("table_label")
    )
