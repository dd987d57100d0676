"""Questionnaire scoring on real FHIR resources and at the missing-item rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from painlink.clinical.questionnaires import (
    QuestionnaireError,
    compare_scores,
    load_questionnaire,
    score_response,
    score_values,
)


@pytest.fixture
def fhir(external: Path) -> Path:
    return external / "fhir"


@pytest.fixture
def ndi_response(fhir: Path) -> Path:
    return fhir / "QuestionnaireResponse-NeckDisabilityIndexExample.json"


def test_ndi_example_scores_as_its_authors_totalled_it(ndi_response: Path) -> None:
    s = score_response(ndi_response)
    assert (s.instrument, s.raw_total, s.score, s.percent) == ("ndi", 20, 20, 40)
    assert s.percent == s.stated_total  # the response's own "total-score" item is the %
    assert s.band == "moderate disability"


def test_odi_example_scores_38_percent(fhir: Path) -> None:
    s = score_response(fhir / "QuestionnaireResponse-OswestryDisabilityIndexExample.json")
    assert (s.instrument, s.raw_total, s.score) == ("odi", 19, 38)
    assert s.score == s.stated_total
    assert s.band == "moderate disability"


def test_ndi_questionnaire_loads_wording_from_the_licensed_resource(
    fhir: Path, ndi_response: Path
) -> None:
    instrument = load_questionnaire(
        fhir / "Questionnaire-NeckDisabilityIndexQuestionnaireExample.no-narrative.json"
    )
    assert instrument.rules.key == "ndi"
    assert instrument.item_text["ndi-5"] == "Headaches"
    assert score_response(ndi_response, instrument).score == 20


def test_ndi_prorates_up_to_two_missing_items(ndi_response: Path) -> None:
    data = json.loads(ndi_response.read_text())
    data["item"] = [i for i in data["item"] if i["linkId"] not in {"ndi-8"}]  # driving skipped
    s = score_response(data)
    assert s.computable and s.missing == ("ndi-8",)
    assert s.score == pytest.approx(18 * 10 / 9)
    data["item"] = [i for i in data["item"] if i["linkId"] not in {"ndi-1", "ndi-2"}]
    assert not score_response(data).computable


def test_odi_denominator_shrinks_with_missing_sections() -> None:
    values = {f"odi-{i}": 2.0 for i in range(1, 11)}
    values["odi-8"] = None  # sex life, often skipped
    s = score_values("odi", values)
    assert s.score == pytest.approx(18 / 45 * 100)


@pytest.mark.parametrize(
    ("answers", "band"),
    [
        ([6] * 6, "little or no impact"),
        ([8, 8, 8, 8, 8, 10], "some impact"),
        ([13] * 6, "severe impact"),
    ],
)
def test_hit6_totals_and_bands(answers: list[int], band: str) -> None:
    s = score_values("hit6", {f"hit6-{i + 1}": float(a) for i, a in enumerate(answers)})
    assert s.score == sum(answers) and s.band == band


def test_hit6_and_midas_do_not_score_with_a_missing_item() -> None:
    hit6 = {f"hit6-{i}": 10.0 for i in range(1, 7)} | {"hit6-6": None}
    assert not score_values("hit6", hit6).computable
    midas = {f"midas-{i}": 2.0 for i in range(1, 6)} | {"midas-3": None}
    assert not score_values("midas", midas).computable


@pytest.mark.parametrize(
    ("total", "grade"), [(5, "Grade I"), (6, "Grade II"), (20, "Grade III"), (21, "Grade IV")]
)
def test_midas_grades(total: int, grade: str) -> None:
    s = score_values(
        "midas", {"midas-1": float(total), "midas-2": 0, "midas-3": 0, "midas-4": 0, "midas-5": 0}
    )
    assert s.band is not None and s.band.startswith(grade)


def test_bad_answers_name_the_item() -> None:
    with pytest.raises(QuestionnaireError, match="item hit6-2: 9 is not a valid answer"):
        score_values("hit6", {"hit6-1": 6.0, "hit6-2": 9.0})
    with pytest.raises(QuestionnaireError, match="item ndi-3: 7 is not a valid answer"):
        score_values("ndi", {"ndi-3": 7.0})
    with pytest.raises(QuestionnaireError, match="midas-1 \\+ midas-2"):
        score_values("midas", {"midas-1": 60.0, "midas-2": 40.0})
    with pytest.raises(QuestionnaireError, match="unknown instrument"):
        score_values("sf36", {})
    with pytest.raises(QuestionnaireError, match="not a valid FHIR R4 QuestionnaireResponse"):
        score_response(
            {"resourceType": "QuestionnaireResponse", "status": "completed", "item": "ndi-1"}
        )


def test_change_against_the_important_change() -> None:
    before = score_values("ndi", {f"ndi-{i}": 2.0 for i in range(1, 11)})
    after = score_values("ndi", {f"ndi-{i}": 1.0 for i in range(1, 11)})
    assert "reaches" in compare_scores(before, after)
    slight = score_values("ndi", {f"ndi-{i}": (1.0 if i <= 3 else 2.0) for i in range(1, 11)})
    assert "is below" in compare_scores(before, slight)
    # 5 points reach NDI's important change (5) but not the ±5.5 two single scores
    # differ by chance (SEM 2, Stratford 1999)
    five = score_values("ndi", {f"ndi-{i}": (1.0 if i <= 5 else 2.0) for i in range(1, 11)})
    assert compare_scores(before, five).endswith(
        "reaches the minimal clinically important change of 5, but two single scores "
        "differ by up to ±5.5 by chance"
    )
    assert "by chance" not in compare_scores(before, after)  # 10 points: beyond both
