"""Issue 10: every screen question is read, old combined answers stay readable, and the
stored vocabulary follows the questions on both databases."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from painlink.clinical.screening import screen, screens_stored
from painlink.diary.vocabulary import ScreeningQuestion
from painlink.rules.red_flags import RED_FLAGS, rules_table
from painlink.rules.screening_questions import Presentation
from painlink.store import migrate
from painlink.store.engine import normalise_url

DOCS = Path(__file__).parents[1] / "docs" / "clinical.md"


def test_every_screen_question_is_read_by_a_rule() -> None:
    read = set().union(*(rule.fields for rule in RED_FLAGS))
    assert set(Presentation.model_fields) - read == set()
    assert read - set(Presentation.model_fields) == set()  # no rule reads a phantom field


def test_stored_vocabulary_is_the_presentation() -> None:
    assert [q.value for q in ScreeningQuestion] == list(Presentation.model_fields)


def test_numeric_answers_are_derived_from_the_one_declaration() -> None:
    """Stored answers keep their form: these as numbers (whole for ages and mmHg), every
    other question as 1/0, all read off the Presentation model's field types."""
    from painlink.rules.screening_questions import INTEGER, NUMERIC, QUESTIONS

    assert tuple(q.value for q in ScreeningQuestion) == QUESTIONS
    assert NUMERIC == (
        "age",
        "headache_onset_age",
        "onset_to_peak_min",
        "systolic_bp",
        "diastolic_bp",
        "weeks_since_birth",
        "deficit_minutes",
    )
    assert INTEGER == ("age", "headache_onset_age", "systolic_bp", "diastolic_bp")


def test_every_rule_names_its_source_and_the_sentence_it_rests_on() -> None:
    for rule in RED_FLAGS:
        assert rule.source and rule.quote and rule.points_to, rule.code
    assert len({r.code for r in RED_FLAGS}) == len(RED_FLAGS)


def test_docs_list_every_rule_as_the_rules_say() -> None:
    text = DOCS.read_text()
    begin, end = "<!-- red-flag-rules:begin -->", "<!-- red-flag-rules:end -->"
    assert text.split(begin)[1].split(end)[0].strip() == rules_table()


def test_old_combined_fever_answer_is_read_sensibly() -> None:
    said_no = screen({"fever_or_meningism": False})
    codes = {"fever_meningism", "fever_or_meningism_combined"}  # systemic also asks weight
    assert not codes & set(said_no.not_asked) and said_no.urgency == "none"
    said_yes = screen({"fever_or_meningism": True})
    assert said_yes.urgency == "urgent"
    assert [f.code for f in said_yes.flags] == ["fever_or_meningism_combined"]
    # a later, separate answer wins over the old combined one
    assert screen({"fever_or_meningism": False, "fever": True, "rash": True}).urgency == (
        "emergency"
    )


def test_blood_pressure_is_bounded_and_diastolic_below_systolic() -> None:
    import pytest
    from pydantic import ValidationError

    for bad in ({"systolic_bp": 49}, {"systolic_bp": 301}, {"diastolic_bp": 19}):
        with pytest.raises(ValidationError, match="_bp"):
            screen(bad)
    with pytest.raises(ValidationError, match="diastolic_bp: must be lower"):
        screen({"systolic_bp": 120, "diastolic_bp": 130})
    with pytest.raises(ValidationError, match="deficit_minutes"):
        screen({"deficit_minutes": float("nan")})


def test_migration_keeps_old_attack_answers_readable(tmp_path: Path, db_url: str) -> None:
    engine = sa.create_engine(normalise_url(db_url))
    migrate.upgrade(engine, "0005")
    at = dt.datetime(2026, 5, 1, 10, 0)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO patients (patient_id, sex, time_zone) "
                "VALUES ('P1', 'female', 'Europe/Berlin')"
            )
        )
        for context, question, answer in [
            ("attack", "fever", 1.0),
            ("attack", "thunderclap", 0.0),
            ("intake", "fever", 0.0),
        ]:
            conn.execute(
                sa.text(
                    "INSERT INTO screening_answers (patient_id, at, context, question, answer) "
                    "VALUES ('P1', :at, :context, :question, :answer)"
                ),
                {
                    "at": at if context == "attack" else at + dt.timedelta(hours=1),
                    "context": context,
                    "question": question,
                    "answer": answer,
                },
            )
    migrate.upgrade(engine, "0008")
    with engine.connect() as conn:
        rows = pl.read_database(
            "SELECT patient_id, at, context, question, answer, attack_id, answered_by "
            "FROM screening_answers",
            conn,
        )
    by = {(r["context"], r["question"]) for r in rows.to_dicts()}
    assert by == {("attack", "fever_or_meningism"), ("attack", "thunderclap"), ("intake", "fever")}
    attack = next(s for s in screens_stored(rows) if s.context == "attack")
    assert attack.result.urgency == "urgent"
    assert "fever_or_meningism_combined" in {f.code for f in attack.result.flags}
    with engine.begin() as conn:  # the new questions are accepted now
        conn.execute(
            sa.text(
                "INSERT INTO screening_answers (patient_id, at, context, question, answer) "
                "VALUES ('P1', :at, 'attack', 'systolic_bp', 165)"
            ),
            {"at": at},
        )
    migrate.downgrade(engine, "0005")
    with engine.connect() as conn:
        back = conn.execute(sa.text("SELECT context, question FROM screening_answers")).all()
    assert sorted(back) == [("attack", "fever"), ("attack", "thunderclap"), ("intake", "fever")]
    engine.dispose()


def test_a_version_2_folder_keeps_its_combined_attack_answer(tmp_path: Path) -> None:
    import json

    from painlink.interop.csv_diary import read_diary_folder

    (tmp_path / "patients.csv").write_text("patient_id,sex,time_zone\np1,female,Europe/Berlin\n")
    (tmp_path / "attacks.csv").write_text("patient_id,attack_id,start\np1,a1,2025-01-01T08:00\n")
    (tmp_path / "screenings.csv").write_text(
        "patient_id,at,context,question,answer,attack_id\n"
        "p1,2025-01-01T08:05,attack,fever,1,a1\n"
        "p1,2025-01-01T09:00,intake,fever,0,\n"
    )
    screens = {}
    for version in (2, 3):
        manifest = {"format": "painlink-diary-csv", "version": version}
        (tmp_path / "painlink.json").write_text(json.dumps(manifest))
        frame = read_diary_folder(tmp_path).screening_answers
        screens[version] = sorted(frame.select("context", "question").iter_rows())
    assert screens[2] == [("attack", "fever_or_meningism"), ("intake", "fever")]
    assert screens[3] == [("attack", "fever"), ("intake", "fever")]


def _values(field: str) -> list[object]:
    """Answers worth trying for a field: yes / no / not asked, numbers around thresholds."""
    numeric = {
        "age": [20, 49, 50, 80],
        "headache_onset_age": [20, 49, 50, 80],
        "onset_to_peak_min": [0.5, 1.0, 3.0, 5.0, 30.0],
        "systolic_bp": [120, 139, 140, 159, 160, 179, 180, 200],
        "diastolic_bp": [70, 89, 90, 109, 110, 119, 120],
        "weeks_since_birth": [2.0, 6.0, 6.2, 30.0],
        "deficit_minutes": [10.0, 60.0, 61.0, 300.0],
    }
    return [*numeric.get(field, [True, False]), None]


def test_every_field_a_rule_names_can_change_that_rule() -> None:
    """A rule's ``fields`` must be what it really reads: for each rule and each of its
    fields, two presentations differing only in that field give different outcomes."""
    import random

    from painlink.rules.red_flag_checks import ScreeningSettings

    settings = ScreeningSettings()
    rng = random.Random(10)
    dead = []
    for rule in RED_FLAGS:
        for field in rule.fields:
            others = [f for f in rule.fields if f != field]
            found = False
            for _ in range(50_000):  # stops at the first pair found
                base = {f: rng.choice(_values(f)) for f in others}
                outcomes = {rule.test({**base, field: v}, settings) for v in _values(field)}
                if len(outcomes) > 1:
                    found = True
                    break
            if not found:
                dead.append((rule.code, field))
    assert not dead, dead
