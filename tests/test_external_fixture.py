"""The `external` fixture: real outside files when present, a named skip on a plain clone.

The files in ../shared/external were written by other people and are not shipped in
the repository, so a fresh clone must skip the tests that read them, never fail them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import external_dir, external_or_skip


def test_an_absent_folder_is_a_skip_that_says_why(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    with pytest.raises(pytest.skip.Exception) as info:
        external_or_skip(missing)
    assert str(missing) in str(info.value)
    assert "not present: real files written outside painlink" in str(info.value)


def test_a_present_folder_is_given_back(tmp_path: Path) -> None:
    assert external_or_skip(tmp_path) == tmp_path


def test_the_environment_points_it_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAINLINK_TEST_EXTERNAL", str(tmp_path))
    assert external_dir() == tmp_path
    monkeypatch.delenv("PAINLINK_TEST_EXTERNAL")
    assert external_dir().parts[-2:] == ("shared", "external")  # beside the repository
