"""red-flag screen: measured blood pressure and the questions asked apart (issue 10)

The screen now asks fever, neck stiffness, rash and confusion separately. The attack-time
check used to store one answer to all four as ``fever``; those rows become
``fever_or_meningism`` so an old "yes" is not read as fever alone and an old "no" still
denies all four (painlink.rules.red_flags reads both).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

OLD_QUESTIONS = (
    "age",
    "headache_onset_age",
    "onset_to_peak_min",
    "thunderclap",
    "new_headache",
    "pattern_change",
    "progressive",
    "atypical",
    "positional",
    "precipitated_by_valsalva",
    "after_head_trauma",
    "fever",
    "neck_stiffness",
    "rash",
    "confusion",
    "weight_loss",
    "night_sweats",
    "neuro_deficit",
    "decreased_consciousness",
    "seizure",
    "papilloedema",
    "transient_visual_obscurations",
    "painful_eye_autonomic",
    "jaw_claudication",
    "scalp_tenderness",
    "visual_disturbance",
    "pregnant_or_postpartum",
    "history_cancer",
    "history_immunosuppression",
    "anticoagulants",
    "painkiller_overuse",
    "new_drug_at_onset",
    "recent_neck_manipulation",
    "neck_trauma",
    "new_neck_pain",
    "dizziness",
    "diplopia",
    "dysarthria",
    "dysphagia",
    "ataxia",
    "drop_attack",
    "nystagmus",
    "facial_numbness",
    "spinal_pain",
    "spinal_trauma",
    "night_pain",
    "iv_drug_use",
    "saddle_anaesthesia",
    "bladder_bowel_dysfunction",
    "bilateral_leg_weakness",
)
ADDED_QUESTIONS = (
    "systolic_bp",
    "diastolic_bp",
    "weeks_since_birth",
    "deficit_minutes",
    "hypertension_before_pregnancy",
    "ruq_epigastric_pain",
    "worst_ever",
    "vomiting",
    "wakes_from_sleep",
    "worse_upright",
    "worse_lying_or_straining",
    "deficit_still_present",
    "motor_weakness",
    "minor_spinal_trauma",
    "osteoporosis",
    "long_term_steroids",
    "fever_or_meningism",
)
_CHECK = "question_vocab"


def _vocab(questions: tuple[str, ...]) -> str:
    return "question IN (" + ", ".join(f"'{q}'" for q in questions) + ")"


def _replace_check(questions: tuple[str, ...]) -> None:
    with op.batch_alter_table("screening_answers") as batch:
        batch.drop_constraint(op.f(f"ck_screening_answers_{_CHECK}"), type_="check")
        batch.create_check_constraint(_CHECK, _vocab(questions))


def upgrade() -> None:
    _replace_check(OLD_QUESTIONS + ADDED_QUESTIONS)
    op.execute(
        "UPDATE screening_answers SET question = 'fever_or_meningism' "
        "WHERE question = 'fever' AND context = 'attack'"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE screening_answers SET question = 'fever' "
        "WHERE question = 'fever_or_meningism' AND context = 'attack'"
    )
    table = sa.table("screening_answers", sa.column("question"))
    op.execute(table.delete().where(table.c.question.in_(ADDED_QUESTIONS)))
    _replace_check(OLD_QUESTIONS)
