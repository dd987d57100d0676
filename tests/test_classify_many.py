"""Classifying a cohort at once gives each patient the answer classifying them alone gives."""

from __future__ import annotations

import polars as pl
import pytest

from painlink.clinical.classify import classify, classify_many
from painlink.diary.frames import DiaryFrames
from painlink.simulate.simulator import simulate
from painlink.simulate.spec import SimulationSpec


@pytest.fixture(scope="module")
def cohort() -> DiaryFrames:
    # 150 days: long enough for the chronic and overuse codes to be evaluable in some
    parts = list(simulate(SimulationSpec(patients=12, days=150, seed=5)))
    return DiaryFrames.concat(p[0] for p in parts)


def test_classify_many_equals_one_at_a_time(cohort: DiaryFrames) -> None:
    together = classify_many(cohort)
    assert list(together) == cohort.patient_ids()
    labels = set()
    for pid in cohort.patient_ids():
        alone = classify(cohort.only([pid]))
        assert together[pid].as_dict() == alone.as_dict(), pid
        labels.update(alone.labels)
    assert len(labels) >= 2  # the cohort exercises more than one diagnosis


def test_classify_many_passes_each_patient_their_own_answers(cohort: DiaryFrames) -> None:
    first, second = cohort.patient_ids()[:2]
    answers = {first: {"pattern_change": True, "onset_to_peak_min": 0.2}}
    together = classify_many(cohort, presentations=answers)
    assert together[first].screen.flags
    assert (
        together[first].as_dict()
        == classify(cohort.only([first]), presentation=answers[first]).as_dict()
    )
    assert together[second].as_dict() == classify(cohort.only([second])).as_dict()


def test_classify_many_keeps_a_patient_without_entries(cohort: DiaryFrames) -> None:
    new = DiaryFrames.from_tables(patients=pl.DataFrame({"patient_id": ["NEW"]}))
    both = DiaryFrames.concat([cohort.only(cohort.patient_ids()[:1]), new])
    together = classify_many(both)
    assert together["NEW"].as_dict() == classify(new).as_dict()
    assert together["NEW"].window is None
