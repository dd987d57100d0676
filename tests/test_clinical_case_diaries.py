"""Diary vignettes written from the ICHD-3 text, run through the classifier.

Each file in ``tests/clinical_cases/diaries/`` is a compact JSON description of one
person's diary (not made by painlink's simulator), the codes that must and must not
be given, and the ICHD-3 sentence the expectation rests on. The format:

- ``patient``: patient fields (``birth_year`` ...); ``checkins``: [first, last] day
  numbers with a daily check-in on every day between (fixes the diary's span).
- ``series``: attacks every ``every_days`` days from ``first_day``, ``count`` of them,
  ``hours`` (or ``minutes``) long, with a feature ``preset`` plus ``set`` overrides,
  optional ``aura`` symptoms (``offset_min`` from the attack's start) and an
  optional linked ``medication``.
- ``months``: ``count`` 30-day blocks counted back from ``end_day``; in each block,
  each ``per_month`` entry puts ``days`` attacks on consecutive days back from the
  block's end, in turn.
- ``tablet_days``: a list; in each of those blocks, ``days`` days with a tablet of
  ``drug`` (``class``), not linked to an attack, starting ``skip`` days back from the
  block's end.
- ``expect`` / ``absent``: codes that must / must not be among the labels;
  ``criteria``: letters whose status is asserted.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from painlink.clinical.classify import classify
from painlink.diary.frames import DiaryFrames

CASES = sorted((Path(__file__).parent / "clinical_cases" / "diaries").glob("*.json"))
DAY0 = dt.datetime(2025, 1, 6, 8, 0)

PRESETS: dict[str, dict[str, Any]] = {
    # ICHD-3 1.1 C (all four) and D (nausea, photophobia and phonophobia)
    "migraine": {
        "intensity": 3,
        "side": "left",
        "quality": "pulsating",
        "aggravated_by_activity": True,
        "nausea": True,
        "vomiting": False,
        "photophobia": True,
        "phonophobia": True,
    },
    # ICHD-3 2.x C (all four) and D (no nausea, no photophobia or phonophobia)
    "tth": {
        "intensity": 1,
        "side": "bilateral",
        "quality": "pressing",
        "aggravated_by_activity": False,
        "nausea": False,
        "vomiting": False,
        "photophobia": False,
        "phonophobia": False,
    },
    # ICHD-3 3.1 B and C: severe unilateral orbital pain, ipsilateral autonomic signs
    "cluster": {
        "intensity": 3,
        "side": "right",
        "location": "orbital",
        "quality": "stabbing",
        "cranial_autonomic": True,
        "restlessness": True,
        "aggravated_by_activity": False,
        "nausea": False,
        "vomiting": False,
        "photophobia": False,
        "phonophobia": False,
    },
}


def _attack(pid: str, aid: str, start: dt.datetime, spec: dict[str, Any]) -> dict[str, Any]:
    minutes = spec.get("minutes", spec.get("hours", 0) * 60)
    features = {**PRESETS[spec.get("preset", "migraine")], **spec.get("set", {})}
    return {
        "patient_id": pid,
        "attack_id": aid,
        "start": start,
        "end": start + dt.timedelta(minutes=minutes),
        **features,
    }


def expand(case: dict[str, Any]) -> DiaryFrames:
    """The diary a case describes."""
    pid = "case"
    patient = {"patient_id": pid, "birth_year": 1985, "time_zone": "UTC", **case.get("patient", {})}
    attacks: list[dict[str, Any]] = []
    aura: list[dict[str, Any]] = []
    meds: list[dict[str, Any]] = []

    def add(start: dt.datetime, spec: dict[str, Any]) -> None:
        aid = f"a{len(attacks)}"
        attacks.append(_attack(pid, aid, start, spec))
        for s in spec.get("aura", []):
            sym = {k: v for k, v in s.items() if k != "offset_min"}
            sym["start"] = start + dt.timedelta(minutes=s.get("offset_min", -30))
            aura.append({"patient_id": pid, "attack_id": aid, **sym})
        if "medication" in spec:
            m = spec["medication"]
            meds.append(
                {
                    "patient_id": pid,
                    "attack_id": aid,
                    "taken_at": start + dt.timedelta(minutes=m.get("after_min", 15)),
                    "drug": m["drug"],
                    "drug_class": m["class"],
                    "relief_2h": m.get("relief_2h"),
                }
            )

    for spec in case.get("series", []):
        for i in range(spec["count"]):
            add(DAY0 + dt.timedelta(days=spec.get("first_day", 0) + i * spec["every_days"]), spec)
    months = case.get("months")
    if months:
        for block in range(months["count"]):
            day = months["end_day"] - 30 * block
            for spec in months["per_month"]:
                for _ in range(spec["days"]):
                    add(DAY0 + dt.timedelta(days=day), spec)
                    day -= 1
        for tablets in case.get("tablet_days", []):
            for block in range(months["count"]):
                last = months["end_day"] - 30 * block - tablets.get("skip", 0)
                for k in range(tablets["days"]):
                    meds.append(
                        {
                            "patient_id": pid,
                            "attack_id": None,
                            "taken_at": DAY0 + dt.timedelta(days=last - k, hours=4),
                            "drug": tablets["drug"],
                            "drug_class": tablets["class"],
                            "relief_2h": None,
                        }
                    )
    tables: dict[str, pl.DataFrame] = {
        "patients": pl.DataFrame([patient]),
        "attacks": pl.DataFrame(attacks) if attacks else pl.DataFrame(),
    }
    if aura:
        tables["aura_symptoms"] = pl.DataFrame(aura)
    if meds:
        tables["medications"] = pl.DataFrame(meds)
    if "checkins" in case:
        first, last = case["checkins"]
        tables["days"] = pl.DataFrame(
            {
                "patient_id": [pid] * (last - first + 1),
                "date": [(DAY0 + dt.timedelta(days=k)).date() for k in range(first, last + 1)],
            }
        )
    return DiaryFrames.from_tables(**tables)


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def test_there_are_enough_cases_each_with_its_source() -> None:
    assert len(CASES) >= 28
    ids = set()
    for path in CASES:
        case = _load(path)
        assert case["id"] == path.stem
        ids.add(case["id"])
        source = case["source"]
        assert source["section"].startswith("ICHD-3") and source["url"].startswith("https://")
        assert len(source["quote"]) > 20, path.name
        assert case.get("expect") or case.get("absent"), path.name
    assert len(ids) == len(CASES)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case(path: Path) -> None:
    case = _load(path)
    c = classify(expand(case))
    labels = set(c.labels)
    shown = "; ".join(f"{d.code}={d.status}" for d in c.diagnoses if d.status != "not met")
    missing = set(case.get("expect", [])) - labels
    wrong = set(case.get("absent", [])) & labels
    assert not missing and not wrong, (
        f"{case['id']}: missing {sorted(missing)}, given wrongly {sorted(wrong)} "
        f"(labels {sorted(labels)}; {shown}) — {case['source']['quote']}"
    )
    everything = {d.code: d for d in [*c.diagnoses, *c.excluded]}
    for code, letters in case.get("criteria", {}).items():
        got = {k.letter: k.status for k in everything[code].criteria}
        for letter, status in letters.items():
            assert got[letter] == status, f"{case['id']}: {code} {letter} {got[letter]}"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case_through_a_csv_folder_and_the_cli(path: Path, tmp_path: Path) -> None:
    """The same verdict when the diary goes through the CSV format and `painlink classify`."""
    from typer.testing import CliRunner

    from painlink.cli import app
    from painlink.interop.csv_diary import write_diary_folder

    case = _load(path)
    write_diary_folder(expand(case), tmp_path / "diary")
    result = CliRunner().invoke(app, ["classify", str(tmp_path / "diary"), "--json"])
    assert result.exit_code == 0, result.output
    (patient,) = json.loads(result.output)["patients"]
    labels = {d["code"] for d in patient["diagnoses"] if d["status"] in ("met", "probable")}
    assert set(case.get("expect", [])) <= labels
    assert not set(case.get("absent", [])) & labels
