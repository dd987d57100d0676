"""Cervical examination: FRT cut-off, measurement error, and stored exam records."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from painlink.clinical.cervical import (
    compare_change,
    flexion_rotation_test,
    frt_by_visit,
    measurement_error,
)
from painlink.interop.csv_diary import DiaryFormatError, read_diary_folder, write_diary_folder
from painlink.simulate.simulator import simulate
from painlink.simulate.spec import SimulationSpec
from painlink.store.store import Store


@pytest.mark.parametrize(
    ("left", "right", "positive"), [(32.0, 45.0, True), (32.5, 45.0, False), (44, 30, True)]
)
def test_frt_positive_at_or_below_32_degrees(left: float, right: float, positive: bool) -> None:
    result = flexion_rotation_test(left, right)
    assert result.positive is positive
    if positive:
        assert result.side == ("left" if left < right else "right")


def test_frt_rejects_impossible_angles() -> None:
    with pytest.raises(ValueError, match="left_deg"):
        flexion_rotation_test(-3, 40)


def test_measurement_error_recovers_a_known_noise_level() -> None:
    rng = np.random.default_rng(3)
    true = rng.normal(40, 8, size=400)  # between-person SD 8°
    noise = 3.0  # within-person SD 3°
    rows = [
        {"subject": i, "repeat": r, "value": float(t + rng.normal(0, noise))}
        for i, t in enumerate(true)
        for r in (1, 2)
    ]
    err = measurement_error(pl.DataFrame(rows), unit="deg")
    expected_icc = 8**2 / (8**2 + noise**2)
    assert err.icc == pytest.approx(expected_icc, abs=0.03)
    assert err.sem == pytest.approx(noise, rel=0.12)
    assert err.mdc == pytest.approx(1.96 * np.sqrt(2) * err.sem)
    assert not compare_change(40, 44, err).beyond_error  # 4° < MDC ≈ 8°
    assert compare_change(40, 52, err).beyond_error
    assert "within the measurement error" in compare_change(40, 44, err).message


def test_measurement_error_needs_complete_repeats() -> None:
    with pytest.raises(ValueError, match="missing"):
        measurement_error(
            pl.DataFrame({"subject": [1, 1, 2], "repeat": [1, 2, 1], "value": [1.0, 2.0, 3.0]})
        )


def test_exam_records_round_trip_and_show_frt_per_visit(tmp_path: Path, db_url: str) -> None:
    diary, truth = next(simulate(SimulationSpec(patients=40, days=120, seed=9)))
    assert diary.exam_measurements.height > 0
    write_diary_folder(diary, tmp_path / "d")
    back = read_diary_folder(tmp_path / "d")
    assert back.exam_measurements.equals(diary.sorted().exam_measurements)
    store = Store(db_url)
    store.init()
    store.write(back)
    stored = store.read()
    assert stored.exam_measurements.equals(back.exam_measurements)
    visits = frt_by_visit(stored.exam_measurements)
    roles = {t["patient_id"]: t["neck_pain_role"] for t in truth}
    cause = [v["positive"] for v in visits if roles[v["patient_id"]] == "cause"]
    other = [v["positive"] for v in visits if roles[v["patient_id"]] != "cause"]
    assert np.mean(cause) > 0.7 and np.mean(other) < 0.3


def test_findings_need_a_clinician(tmp_path: Path) -> None:
    (tmp_path / "patients.csv").write_text("patient_id\np1\n")
    (tmp_path / "findings.csv").write_text(
        "patient_id,at,item,present,clinician\np1,2025-01-01T10:00,cervical_lesion,yes,\n"
    )
    with pytest.raises(DiaryFormatError, match="clinician"):
        read_diary_folder(tmp_path)
    (tmp_path / "findings.csv").write_text(
        "patient_id,at,item,present,clinician\np1,2025-01-01T10:00,neck_pain,yes,Dr A\n"
    )
    with pytest.raises(DiaryFormatError, match="not one of"):
        read_diary_folder(tmp_path)
    at = dt.datetime(2025, 1, 1, 10)
    (tmp_path / "findings.csv").write_text(
        f"patient_id,at,item,present,clinician\np1,{at:%Y-%m-%dT%H:%M},cervical_lesion,yes,Dr A\n"
    )
    assert read_diary_folder(tmp_path).clinical_findings["present"].to_list() == [True]
