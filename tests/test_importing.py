"""The one import service (painlink/services/importing.py) that the CLI and the web
upload share: read a source, then store it as new diaries or merge it into one."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from painlink.interop.csv_diary import DiaryFormatError, read_diary_folder
from painlink.services.importing import import_diary, into_diary, read_source
from painlink.store.account_tables import audit_log
from painlink.store.diary_io import PatientExistsError
from painlink.store.merge import MergeConflict
from painlink.store.store import Store

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<HealthData locale="en_US">
 <ExportDate value="2024-03-10 08:00:00 -0800"/>
 <Me HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale"/>
"""


def _health(*records: tuple[str, str, str, str]) -> bytes:
    """An Apple Health export.xml holding these (kind, start, end, value) records."""
    body = "".join(
        f' <Record type="HKCategoryTypeIdentifier{kind}" sourceName="Health" '
        f'startDate="{start}" endDate="{end}" value="{value}"/>\n'
        for kind, start, end, value in records
    )
    return (HEAD + body + "</HealthData>\n").encode()


HEADACHE = ("Headache", "2024-03-01 09:00:00 -0800", "2024-03-01 13:00:00 -0800", "2")
SECOND = ("Headache", "2024-03-05 18:00:00 -0800", "2024-03-05 19:00:00 -0800", "3")
HEAVY = ("MenstrualFlow", "2024-03-03 08:00:00 -0800", "2024-03-03 08:00:00 -0800",
         "HKCategoryValueVaginalBleedingHeavy")  # fmt: skip
LIGHT = (*HEAVY[:3], "HKCategoryValueVaginalBleedingLight")
BACK = ("LowerBackPain", "2024-03-03 08:00:00 -0800", "2024-03-03 09:00:00 -0800", "1")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'import.db'}")
    store.init()
    return store


def _audit(store: Store) -> list[tuple[str, str | None]]:
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(audit_log.c.action, audit_log.c.patient_id)).all()
    return [(r.action, r.patient_id) for r in rows]


def test_bytes_and_a_path_read_the_same(tmp_path: Path) -> None:
    data = _health(HEADACHE, BACK)
    (tmp_path / "export.xml").write_bytes(data)
    from_bytes, skipped = read_source(data, "apple-health", "ah1", "America/Los_Angeles")
    from_path, skipped_too = read_source(
        tmp_path / "export.xml", "apple-health", "ah1", "America/Los_Angeles"
    )
    assert from_bytes.attacks.equals(from_path.attacks) and from_bytes.attacks.height == 1
    assert skipped == skipped_too == {"HKCategoryTypeIdentifierLowerBackPain": 1}


def test_an_export_is_a_new_diary_then_merged_into_it(store: Store) -> None:
    first = import_diary(store, _health(HEADACHE, BACK), app="apple-health", patient_id="ah2")
    assert first.action == "import" and first.written is not None
    assert first.written["patients"] == 1 and first.written["attacks"] == 1
    assert first.problems == ["1 HKCategoryTypeIdentifierLowerBackPain not imported"]
    again = import_diary(store, _health(HEADACHE, SECOND), app="apple-health", patient_id="ah2")
    assert again.action == "merge" and again.merged is not None
    assert (again.merged.attacks_added, again.merged.attacks_already_there) == (1, 1)
    assert again.as_dict()["merged"]["attacks_added"] == 1
    assert store.read(["ah2"]).attacks.height == 2
    assert _audit(store) == [("import", "ah2"), ("merge", "ah2")]


def test_a_conflicting_day_value_stores_nothing_unless_replace(store: Store) -> None:
    import_diary(store, _health(HEAVY), app="apple-health", patient_id="ah3")
    with pytest.raises(MergeConflict):
        import_diary(store, _health(LIGHT, SECOND), app="apple-health", patient_id="ah3")
    assert store.read(["ah3"]).attacks.height == 0  # the new attack went with the refusal
    assert store.read(["ah3"]).days["menstruation"].to_list() == ["heavy"]
    import_diary(store, _health(LIGHT, SECOND), app="apple-health", patient_id="ah3", replace=True)
    assert store.read(["ah3"]).days["menstruation"].to_list() == ["light"]
    assert store.read(["ah3"]).attacks.height == 1


def test_a_csv_folder_adds_patients_and_never_merges(store: Store, simulated_folder: Path) -> None:
    result = import_diary(store, simulated_folder)
    assert result.written is not None and result.written["patients"] == 50
    assert result.problems == []
    before = store.counts()
    with pytest.raises(PatientExistsError):
        import_diary(store, simulated_folder)
    assert store.counts() == before


def test_into_diary_is_part_of_the_callers_transaction(
    store: Store, simulated_folder: Path
) -> None:
    """The web app stores an upload inside its own write (with its own audit row):
    when that write fails after the import, the import is rolled back with it."""
    diary = read_diary_folder(simulated_folder).only(["SIM000003"])
    with pytest.raises(RuntimeError), store.writing() as conn:
        assert into_diary(conn, diary, merge_into="SIM000003").action == "import"
        raise RuntimeError("the page's own check failed")
    assert store.patient_ids() == []


def test_a_bad_file_or_call_is_a_typed_error_and_stores_nothing(store: Store) -> None:
    bad = _health(("Headache", "yesterday", "2024-03-01 10:00:00 -0800", "2"))
    with pytest.raises(DiaryFormatError):
        import_diary(store, bad, app="apple-health", patient_id="ah4")
    with pytest.raises(ValueError, match="unknown source 'bearable'"):
        import_diary(store, b"", app="bearable", patient_id="ah4")
    with pytest.raises(ValueError, match="patient id is needed"):
        import_diary(store, _health(HEADACHE), app="apple-health")
    with pytest.raises(ValueError, match="folder of CSV files"):
        import_diary(store, b"patient_id\n")
    assert store.patient_ids() == [] and _audit(store) == []
