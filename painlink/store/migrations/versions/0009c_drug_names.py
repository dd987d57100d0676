"""medications: an ``antiemetic`` drug class (issue 12, medication entry)

Anti-sickness drugs taken with an attack (metoclopramide, domperidone) were only
storable as ``other``, which ICHD-3 8.2.7 counts as an acute drug of unverified class:
a person taking metoclopramide with every attack drifted towards "medication overuse".
They now have a class of their own that no overuse criterion counts. Existing rows are
left as they are (an ``other`` row may be anything); the downgrade turns
``antiemetic`` rows back into ``other``.

Revision ID: 0009c_drug_names
Revises: 0009a_form_tokens
Create Date: 2026-11-30 02:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0009c_drug_names"
down_revision = "0009a_form_tokens"
branch_labels = None
depends_on = None

OLD_CLASSES = (
    "triptan",
    "ergotamine",
    "opioid",
    "non_opioid_analgesic",
    "combination_analgesic",
    "gepant",
    "ditan",
    "preventive",
    "hormonal_contraceptive",
    "other",
)
NEW_CLASSES = (*OLD_CLASSES[:-1], "antiemetic", "other")
_CHECK = "drug_class_vocab"


def _replace_check(classes: tuple[str, ...]) -> None:
    with op.batch_alter_table("medications") as batch:
        batch.drop_constraint(op.f(f"ck_medications_{_CHECK}"), type_="check")
        batch.create_check_constraint(
            _CHECK, "drug_class IN (" + ", ".join(f"'{c}'" for c in classes) + ")"
        )


def upgrade() -> None:
    _replace_check(NEW_CLASSES)


def downgrade() -> None:
    op.execute("UPDATE medications SET drug_class = 'other' WHERE drug_class = 'antiemetic'")
    _replace_check(OLD_CLASSES)
