"""The drug table and the parser behind medication entry (issue 12, point 5): brand
names land on the right generic, class and ATC code; typed doses and counts are read;
small typos are forgiven but never guessed between two drugs; the antiemetic class
survives a migration on a database holding data."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from painlink.clinical.day_counts import ACUTE_MED_COLUMNS
from painlink.rules.drug_entry import allowed_edits, edit_distance, match_name, parse_drug
from painlink.rules.drug_names import BRANDS
from painlink.rules.medications import (
    ACUTE_CLASSES,
    DRUGS,
    NAMES,
    DrugClass,
    lookup,
    normalise_drug_name,
)
from painlink.store import migrate
from painlink.store.engine import normalise_url

ATC = re.compile(r"^[A-Z]\d\d[A-Z]{2}\d\d$|^[A-Z]\d\d[A-Z]{1,2}$")

#: the brief's list: brand → (generic, class, ATC) as the WHO ATC/DDD index and ICHD-3 8.2 say
EXPECTED = {
    "Imitrex": ("sumatriptan", DrugClass.triptan, "N02CC01"),
    "Imigran": ("sumatriptan", DrugClass.triptan, "N02CC01"),
    "Maxalt": ("rizatriptan", DrugClass.triptan, "N02CC04"),
    "Zomig": ("zolmitriptan", DrugClass.triptan, "N02CC03"),
    "Relpax": ("eletriptan", DrugClass.triptan, "N02CC06"),
    "Naramig": ("naratriptan", DrugClass.triptan, "N02CC02"),
    "Amerge": ("naratriptan", DrugClass.triptan, "N02CC02"),
    "Frova": ("frovatriptan", DrugClass.triptan, "N02CC07"),
    "Migard": ("frovatriptan", DrugClass.triptan, "N02CC07"),
    "Axert": ("almotriptan", DrugClass.triptan, "N02CC05"),
    "Almogran": ("almotriptan", DrugClass.triptan, "N02CC05"),
    "Advil": ("ibuprofen", DrugClass.non_opioid_analgesic, "M01AE01"),
    "Motrin": ("ibuprofen", DrugClass.non_opioid_analgesic, "M01AE01"),
    "Nurofen": ("ibuprofen", DrugClass.non_opioid_analgesic, "M01AE01"),
    "Aleve": ("naproxen", DrugClass.non_opioid_analgesic, "M01AE02"),
    "Naprosyn": ("naproxen", DrugClass.non_opioid_analgesic, "M01AE02"),
    "Voltaren": ("diclofenac", DrugClass.non_opioid_analgesic, "M01AB05"),
    "Bayer": ("acetylsalicylic acid", DrugClass.non_opioid_analgesic, "N02BA01"),
    "ketoprofen": ("ketoprofen", DrugClass.non_opioid_analgesic, "M01AE03"),
    "acetaminophen": ("acetaminophen", DrugClass.non_opioid_analgesic, "N02BE01"),
    "Tylenol": ("paracetamol", DrugClass.non_opioid_analgesic, "N02BE01"),
    "Panadol": ("paracetamol", DrugClass.non_opioid_analgesic, "N02BE01"),
    "Excedrin": ("aspirin+paracetamol+caffeine", DrugClass.combination_analgesic, "N02BA51"),
    "Treximet": ("sumatriptan+naproxen", DrugClass.combination_analgesic, "N02CC51"),
    "Nurtec": ("rimegepant", DrugClass.gepant, "N02CD06"),
    "Vydura": ("rimegepant", DrugClass.gepant, "N02CD06"),
    "Ubrelvy": ("ubrogepant", DrugClass.gepant, "N02CD04"),
    "Zavzpret": ("zavegepant", DrugClass.gepant, "N02CD08"),
    "Reyvow": ("lasmiditan", DrugClass.ditan, "N02CC08"),
    "ergotamine": ("ergotamine", DrugClass.ergotamine, "N02CA02"),
    "Trudhesa": ("dihydroergotamine", DrugClass.ergotamine, "N02CA01"),
    "Migranal": ("dihydroergotamine", DrugClass.ergotamine, "N02CA01"),
    "Maxolon": ("metoclopramide", DrugClass.antiemetic, "A03FA01"),
    "Reglan": ("metoclopramide", DrugClass.antiemetic, "A03FA01"),
    "domperidone": ("domperidone", DrugClass.antiemetic, "A03FA03"),
    "codeine": ("codeine", DrugClass.opioid, "R05DA04"),
    "tramadol": ("tramadol", DrugClass.opioid, "N02AX02"),
    "propranolol": ("propranolol", DrugClass.preventive, "C07AA05"),
    "metoprolol": ("metoprolol", DrugClass.preventive, "C07AB02"),
    "Topamax": ("topiramate", DrugClass.preventive, "N03AX11"),
    "amitriptyline": ("amitriptyline", DrugClass.preventive, "N06AA09"),
    "candesartan": ("candesartan", DrugClass.preventive, "C09CA06"),
    "flunarizine": ("flunarizine", DrugClass.preventive, "N07CA03"),
    "valproate": ("valproate", DrugClass.preventive, "N03AG01"),
    "Aimovig": ("erenumab", DrugClass.preventive, "N02CD01"),
    "Ajovy": ("fremanezumab", DrugClass.preventive, "N02CD03"),
    "Emgality": ("galcanezumab", DrugClass.preventive, "N02CD02"),
    "Vyepti": ("eptinezumab", DrugClass.preventive, "N02CD05"),
    "Qulipta": ("atogepant", DrugClass.preventive, "N02CD07"),
    "Aquipta": ("atogepant", DrugClass.preventive, "N02CD07"),
    "Botox": ("onabotulinumtoxinA", DrugClass.preventive, "M03AX01"),
}


@pytest.mark.parametrize("typed", sorted(EXPECTED))
def test_every_named_drug_maps_to_its_generic_class_and_atc(typed: str) -> None:
    drug = lookup(typed)
    assert drug is not None, typed
    assert (drug.name, drug.drug_class, drug.atc) == EXPECTED[typed]


def test_every_brand_names_a_generic_of_the_table() -> None:
    generics = {normalise_drug_name(d.name) for d in DRUGS}
    assert {normalise_drug_name(g) for g in BRANDS.values()} <= generics
    assert all(k == normalise_drug_name(k) for k in BRANDS), "brand keys must be normalised"
    assert not set(BRANDS) & generics, "a brand must not shadow a generic"


def test_atc_codes_are_well_formed() -> None:
    for d in DRUGS:
        assert d.atc is None or ATC.match(d.atc), d


def test_only_acute_headache_drugs_count_towards_overuse() -> None:
    """ICHD-3 8.2 counts triptans, ergots, opioids, simple and combination analgesics
    (gepants and ditans kept countable by their own rule); never preventives or
    antiemetics, and 'other' only as 8.2.7's unverified class."""
    assert DrugClass.antiemetic not in ACUTE_CLASSES
    assert DrugClass.preventive not in ACUTE_CLASSES
    assert "med_antiemetic" not in ACUTE_MED_COLUMNS
    for typed, (_g, cls, _a) in EXPECTED.items():
        drug = lookup(typed)
        assert drug is not None and drug.acute == (cls in ACUTE_CLASSES), typed
        assert not (drug.acute and drug.preventive)


@pytest.mark.parametrize(
    ("typed", "generic", "strength", "count"),
    [
        ("Sumatriptan 50 mg", "sumatriptan", 50.0, 1),
        ("ibuprofen 400mg", "ibuprofen", 400.0, 1),
        ("Advil 2x200 mg", "ibuprofen", 200.0, 2),
        ("Maxalt 10", "rizatriptan", 10.0, 1),
        ("2 x Nurofen 200", "ibuprofen", 200.0, 2),
        ("zomig 2,5 mg", "zolmitriptan", 2.5, 1),
        ("paracetamol 1 g", "paracetamol", 1000.0, 1),
        ("  TYLENOL   500  MG ", "paracetamol", 500.0, 1),
        ("Maxalt-MLT 10", "rizatriptan", 10.0, 1),
        ("acetylsalicylic acid 500 mg", "acetylsalicylic acid", 500.0, 1),
        ("Nurtec", "rimegepant", None, 1),
    ],
)
def test_a_dose_typed_with_the_name_is_read(
    typed: str, generic: str, strength: float | None, count: int
) -> None:
    entry = parse_drug(typed)
    assert entry.drug is not None and entry.drug.name == generic
    assert (entry.strength_mg, entry.count) == (strength, count)
    assert entry.dose_mg == (None if strength is None else strength * count)


@pytest.mark.parametrize(
    ("typed", "generic"),
    [
        ("sumatripan", "sumatriptan"),
        ("Ibuprophen", "ibuprofen"),
        ("paracetamoll", "paracetamol"),
        ("rizatriptn 10", "rizatriptan"),
        ("Maxalr", "rizatriptan"),
        ("Nurtek", "rimegepant"),
    ],
)
def test_small_typos_are_forgiven(typed: str, generic: str) -> None:
    entry = parse_drug(typed)
    assert entry.drug is not None and entry.drug.name == generic


@pytest.mark.parametrize("typed", ["advl", "asx", "tea", "Feverfew", "200", "zzzzzzzz"])
def test_short_or_far_names_are_not_guessed(typed: str) -> None:
    assert parse_drug(typed).drug is None


_NAMES = sorted(n for n in NAMES if len(n) >= 5 and n.replace(" ", "").isalpha())
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@st.composite
def _typo(draw: st.DrawFn) -> tuple[str, str]:
    """A known name with up to the allowed number of single-letter edits."""
    name = draw(st.sampled_from(_NAMES))
    typed = name
    for _ in range(draw(st.integers(0, allowed_edits(name)))):
        i = draw(st.integers(0, len(typed) - 1))
        op = draw(st.sampled_from(["swap", "drop", "add"]))
        letter = draw(st.sampled_from(_LETTERS))
        if op == "swap":
            typed = typed[:i] + letter + typed[i + 1 :]
        elif op == "drop" and len(typed) > 5:
            typed = typed[:i] + typed[i + 1 :]
        else:
            typed = typed[:i] + letter + typed[i:]
    return name, typed


@settings(max_examples=300, deadline=None)
@given(_typo(), st.sampled_from(["", " 50", " 50 mg", " 2x200mg", " 2,5 mg"]))
def test_a_typo_never_lands_on_a_drug_farther_than_the_one_meant(
    pair: tuple[str, str], dose: str
) -> None:
    """Whatever a typo matches is at least as close as the name meant, within the
    allowed edits; and when it is nearer the meant name than any other, it is found."""
    meant, typed = pair
    entry = parse_drug(typed.upper() + dose)
    assert entry.name.lower() == typed
    found = entry.drug
    limit = allowed_edits(typed)
    d_meant = edit_distance(typed, meant, 5)
    if found is not None:
        found_names = [n for n, d in NAMES.items() if d == found]
        d_found = min(edit_distance(typed, n, 5) for n in found_names)
        assert d_found <= d_meant or d_meant > limit
    elif d_meant == 0:
        pytest.fail(f"exact name {typed!r} not found")
    if dose:
        assert entry.strength_mg is not None and entry.dose_mg is not None


@given(st.text(max_size=60))
def test_any_text_parses_without_error(text: str) -> None:
    entry = parse_drug(text)
    assert entry.count >= 1
    assert entry.strength_mg is None or entry.strength_mg >= 0


@given(st.text(alphabet=_LETTERS, min_size=0, max_size=12), st.text(alphabet=_LETTERS, max_size=12))
def test_edit_distance_is_symmetric_and_bounded(a: str, b: str) -> None:
    full = edit_distance(a, b, 30)
    assert full == edit_distance(b, a, 30)
    assert full <= max(len(a), len(b)) and (full == 0) == (a == b)
    assert edit_distance(a, b, 1) == min(full, 2)


def test_an_exact_name_wins_over_a_nearer_fuzzy_one() -> None:
    assert match_name("Frova").name == "frovatriptan"  # type: ignore[union-attr]


def test_antiemetic_class_survives_the_migration(tmp_path: object, db_url: str) -> None:
    engine = sa.create_engine(normalise_url(db_url))
    migrate.upgrade(engine, "0008")
    at = dt.datetime(2026, 5, 1, 10, 0)
    insert = sa.text(
        "INSERT INTO medications (patient_id, taken_at, drug, drug_class) "
        "VALUES ('P1', :at, :drug, :cls)"
    )
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO patients (patient_id, sex, time_zone) "
                "VALUES ('P1', 'female', 'Europe/Berlin')"
            )
        )
        conn.execute(insert, {"at": at, "drug": "sumatriptan", "cls": "triptan"})
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(insert, {"at": at, "drug": "metoclopramide", "cls": "antiemetic"})
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(insert, {"at": at, "drug": "metoclopramide", "cls": "antiemetic"})
    with engine.connect() as conn:
        rows = pl.read_database("SELECT drug, drug_class FROM medications ORDER BY id", conn)
    assert rows.rows() == [("sumatriptan", "triptan"), ("metoclopramide", "antiemetic")]
    migrate.downgrade(engine, "0008")
    with engine.connect() as conn:
        back = conn.execute(sa.text("SELECT drug, drug_class FROM medications ORDER BY id")).all()
    assert [tuple(r) for r in back] == [("sumatriptan", "triptan"), ("metoclopramide", "other")]
    engine.dispose()
