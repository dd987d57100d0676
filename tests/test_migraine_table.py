"""The 400-row Migraine Classification table through the documented mapping.

The figures asserted here are the ones docs/classification-agreement.md explains.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from painlink.interop.migraine_table import agreement, classify_table, read_table


@pytest.fixture(scope="module")
def tables(external: Path) -> Path:
    return external / "migraine-classification"


@pytest.fixture(scope="module")
def strict(tables: Path) -> pl.DataFrame:
    return classify_table(tables / "migraine_data.csv")


@pytest.fixture(scope="module")
def assumed(tables: Path) -> pl.DataFrame:
    return classify_table(tables / "migraine_data.csv", assume_typical_aura=True)


def _counts(results: pl.DataFrame) -> dict[str, tuple[int, int]]:
    return {
        r["table_label"]: (r["rows"], r["agree"]) for r in agreement(results).iter_rows(named=True)
    }


def test_both_copies_of_the_table_read_alike(tables: Path) -> None:
    a = read_table(tables / "migraine_data.csv")
    b = read_table(tables / "migraine_varun5292_variant.csv")
    assert a.height == 400 and b.height == 463
    assert a.drop("row").equals(b.head(400).drop("row"))


@pytest.mark.slow
def test_strict_mapping(strict: pl.DataFrame) -> None:
    counts = _counts(strict)
    assert counts["Migraine without aura"] == (60, 60)
    assert counts["Basilar-type aura"] == (18, 18)
    # aura characteristics are not in the table: at most probable migraine with aura
    typical = strict.filter(pl.col("table_label") == "Typical aura with migraine")
    assert typical["painlink"].value_counts().sort("painlink").rows() == [
        ("brainstem aura (refer)", 7),
        ("probable migraine with aura", 240),
    ]
    # no motor column: hemiplegic migraine is never recognised as such
    hemiplegic = strict.filter(pl.col("table_label").str.contains("hemiplegic"))
    assert hemiplegic.height == 38 and not hemiplegic["agree"].any()


@pytest.mark.slow
def test_with_typical_aura_assumed(assumed: pl.DataFrame) -> None:
    counts = _counts(assumed)
    assert counts["Typical aura with migraine"] == (247, 240)
    assert counts["Typical aura without migraine"] == (20, 13)
    assert assumed["agree"].sum() == 332
    # every disagreement among typical-aura rows is a brainstem symptom recorded in the row
    wrong = assumed.filter(pl.col("table_label").str.starts_with("Typical") & ~pl.col("agree"))
    assert set(wrong["painlink"]) == {"brainstem aura (refer)"}
