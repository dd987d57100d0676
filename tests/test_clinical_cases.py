"""The red-flag vignettes in tests/clinical_cases/presentations.yaml, each written from a
cited source: the screen must give the expected level and raise (or not) the named rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from painlink.clinical.screening import screen
from painlink.rules.red_flags import RED_FLAGS

CASES_FILE = Path(__file__).parent / "clinical_cases" / "presentations.yaml"
DATA = yaml.safe_load(CASES_FILE.read_text())
CASES: list[dict[str, Any]] = DATA["cases"]


def test_the_set_is_large_enough_and_every_case_cites_its_source() -> None:
    assert len(CASES) >= 45
    assert len({c["id"] for c in CASES}) == len(CASES)
    codes = {f.code for f in RED_FLAGS}
    for case in CASES:
        assert case["source"] and case["quote"], case["id"]
        assert case["level"] in ("none", "soon", "urgent", "emergency"), case["id"]
        assert set(case.get("fires", [])) | set(case.get("absent", [])) <= codes, case["id"]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_presentation(case: dict[str, Any]) -> None:
    result = screen(case["answers"])
    raised = {f.code for f in result.flags}
    assert result.urgency == case["level"], (case["id"], result.summary())
    assert set(case.get("fires", [])) <= raised, (case["id"], raised)
    assert not set(case.get("absent", [])) & raised, (case["id"], raised)
