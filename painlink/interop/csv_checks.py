"""Checks of a diary folder across rows and files, after each file's cells are read.

Why its own module: duplicate keys, ends before starts, unknown patients and attacks,
own-factor columns, drug classes and questionnaire and screening answers are checked
against other rows (or painlink's tables), not cell by cell; each records its
problems with the file and line so :func:`painlink.interop.csv_diary.read_diary_folder`
can report them all at once.
"""

from __future__ import annotations

import re

import polars as pl

from painlink.diary.frames import conform
from painlink.diary.vocabulary import FactorKind
from painlink.interop.csv_cells import FALSE_WORDS, TRUE_WORDS, Problems, to_bool
from painlink.rules import plausibility, screening_questions
from painlink.rules.medications import NAMES
from painlink.rules.questionnaires import INSTRUMENTS

_FACTOR_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_ \-]{0,63}$")


def derive_attack_ids(frame: pl.DataFrame) -> pl.DataFrame:
    """Give an attack without ``attack_id`` one made from its start minute (YYYYMMDDHHMM).

    The same rule as the app imports use, so a re-import of the same sheet gives the
    same ids; a second attack starting in the same minute gets "-2", "-3" …, and an id
    already written in the file is never reused.
    """
    if not frame.height or frame["attack_id"].null_count() == 0:
        return frame
    used: dict[str, set[str]] = {}
    for pid, aid in frame.select("patient_id", "attack_id").iter_rows():
        if aid is not None:
            used.setdefault(pid, set()).add(aid)
    ids = []
    for pid, aid, start in frame.select("patient_id", "attack_id", "start").iter_rows():
        if aid is None and start is not None:
            taken = used.setdefault(pid, set())
            base = f"{start:%Y%m%d%H%M}"
            aid, n = base, 1
            while aid in taken:
                n += 1
                aid = f"{base}-{n}"
            taken.add(aid)
        ids.append(aid)
    return frame.with_columns(pl.Series("attack_id", ids, dtype=pl.String))


def duplicates(file: str, frame: pl.DataFrame, key: list[str], problems: Problems) -> None:
    dup = frame.select(
        pl.struct(key).is_duplicated() & pl.all_horizontal([pl.col(c).is_not_null() for c in key])
    ).to_series()
    problems.add_mask(file, frame, dup, key[-1], f"duplicate {' + '.join(key)}")


def end_after_start(file: str, frame: pl.DataFrame, problems: Problems) -> None:
    bad = (frame["end"] < frame["start"]).fill_null(False)
    problems.add_mask(file, frame, bad, "end", "end is before start", frame["end"].cast(pl.String))


def known_patient(file: str, frame: pl.DataFrame, known: set[str], problems: Problems) -> None:
    bad = frame["patient_id"].is_not_null() & ~frame["patient_id"].is_in(list(known))
    problems.add_mask(
        file, frame, bad, "patient_id", "patient is not in patients.csv", frame["patient_id"]
    )


def known_attack(file: str, frame: pl.DataFrame, attacks: pl.DataFrame, problems: Problems) -> None:
    keys = attacks.select(["patient_id", "attack_id"]).unique()
    linked = frame.select(["patient_id", "attack_id", "_line"]).filter(
        pl.col("attack_id").is_not_null()
    )
    missing = linked.join(keys, on=["patient_id", "attack_id"], how="anti")
    for row in missing.iter_rows(named=True):
        problems.add(
            file, row["_line"], "attack_id", row["attack_id"], "no such attack in attacks.csv"
        )


def check_questionnaire_items(frame: pl.DataFrame, problems: Problems) -> None:
    """Each item must belong to its instrument and hold one of that item's values."""
    file = "questionnaires.csv"
    for key, rules in INSTRUMENTS.items():
        mine = pl.col("instrument") == key
        foreign = frame.select(mine & ~pl.col("item").is_in(rules.items)).to_series()
        problems.add_mask(
            file, frame, foreign, "item", f"not an item of {rules.name}", frame["item"]
        )
        in_range = pl.col("value").is_between(rules.item_min, rules.item_max)
        if rules.allowed_values is not None:
            in_range = in_range & pl.col("value").is_in([float(v) for v in rules.allowed_values])
        bad = frame.select(mine & ~in_range).to_series()
        problems.add_mask(
            file,
            frame,
            bad,
            "value",
            f"not a valid {rules.name} answer ({rules.allowed_text})",
            frame["value"],
        )


def check_screening_answers(frame: pl.DataFrame, problems: Problems) -> None:
    """Yes/no questions hold 1 or 0; ages are at most 120 years."""
    numeric = pl.col("question").is_in(screening_questions.NUMERIC)
    yes_no = frame.select(~numeric & ~pl.col("answer").is_in([0.0, 1.0])).to_series()
    problems.add_mask(
        "screenings.csv", frame, yes_no, "answer", "a yes/no answer is 1 or 0", frame["answer"]
    )
    age = pl.col("question").is_in(["age", "headache_onset_age"]) & (pl.col("answer") > 120)
    problems.add_mask(
        "screenings.csv",
        frame,
        frame.select(age).to_series(),
        "answer",
        "an age is at most 120",
        frame["answer"],
    )


def factor_columns(
    days: pl.DataFrame, extra: pl.DataFrame, problems: Problems
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Turn extra days.csv columns into own-factor definitions and long values."""
    kinds, values = [], []
    for name in extra.columns:
        if not _FACTOR_NAME.match(name):
            problems.add(
                "days.csv",
                1,
                name,
                None,
                "an own factor's name must start with a letter and hold letters, digits, "
                "spaces, '_' or '-' (at most 64)",
            )
            continue
        raw = extra[name]
        lowered = raw.str.to_lowercase()
        present = raw.is_not_null()
        words = lowered.is_in(list((TRUE_WORDS | FALSE_WORDS) - {"1", "0"}))
        if present.any() and (words | ~present).all():
            kind = FactorKind.boolean
            number = to_bool(lowered).cast(pl.Float64)
            reason = "not yes or no"
        else:
            kind = FactorKind.numeric
            number = raw.cast(pl.Float64, strict=False)
            reason = "not a number (an own factor is numeric or yes/no)"
        bad = present & (number.is_null() | ~number.is_finite().fill_null(True))
        problems.add_mask("days.csv", days, bad, name, reason, raw)
        limit = plausibility.MAX_OWN_FACTOR_VALUE
        huge = present & ~bad & (number.abs() > limit).fill_null(False)
        problems.add_mask("days.csv", days, huge, name, f"beyond ±{limit}", raw)
        long = pl.DataFrame(
            {
                "patient_id": days["patient_id"],
                "date": days["date"],
                "name": pl.Series([name] * days.height, dtype=pl.String),
                "value": number,
            }
        ).filter(pl.col("value").is_not_null())
        values.append(long)
        kinds.append(
            long.select("patient_id")
            .unique()
            .with_columns(pl.lit(name).alias("name"), pl.lit(kind.value).alias("kind"))
        )
    factor_values = (
        conform("factor_values", pl.concat(values))
        if values
        else conform("factor_values", pl.DataFrame())
    )
    factors = conform("factors", pl.concat(kinds)) if kinds else conform("factors", pl.DataFrame())
    return factor_values, factors


def resolve_drug_classes(frame: pl.DataFrame, problems: Problems) -> pl.DataFrame:
    names = {name: d.drug_class.value for name, d in NAMES.items()}  # brands too
    looked_up = (
        frame["drug"]
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
        .str.to_lowercase()
        .replace_strict(names, default=None, return_dtype=pl.String)
    )
    unknown = frame["drug_class"].is_null() & looked_up.is_null() & frame["drug"].is_not_null()
    problems.add_mask(
        "medications.csv",
        frame,
        unknown,
        "class",
        "drug is not in painlink's drug table; give its class "
        "(triptan, ergotamine, opioid, non_opioid_analgesic, combination_analgesic, gepant, "
        "ditan, preventive, hormonal_contraceptive, antiemetic, other)",
        frame["drug"],
    )
    return frame.with_columns(pl.col("drug_class").fill_null(looked_up))


def legacy_attack_fever(frame: pl.DataFrame) -> pl.DataFrame:
    """Before version 3 the attack-time check asked fever, stiff neck, rash and confusion
    as one question stored as ``fever``: read it as that combined answer (migration 0008
    does the same for stored screens)."""
    combined = (pl.col("question") == "fever") & (pl.col("context") == "attack")
    return frame.with_columns(
        pl.when(combined)
        .then(pl.lit("fever_or_meningism"))
        .otherwise(pl.col("question"))
        .alias("question")
    )
