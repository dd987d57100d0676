"""Medication classes for counting medication days and medication overuse.

Source of the classes and their counting rules: ICHD-3 (2018) 8.2 Medication-overuse
headache — every non-opioid analgesic (paracetamol, NSAIDs, acetylsalicylic acid) is
one class; a *combination analgesic* is one formulation of drugs from two or more
classes or with an adjuvant such as caffeine, and is its own class
(https://ichd-3.org/8-headache-attributed-to-a-substance-or-its-withdrawal/8-2-medication-overuse-headache-moh/).
ATC codes: WHO Collaborating Centre for Drug Statistics Methodology, ATC/DDD Index 2025
(https://atcddd.fhi.no/atc_ddd_index/), every row; zavegepant is N02CD08 (N02CD07 is
atogepant) and lasmiditan N02CC08, as cross-checked against DrugBank's ATC entries.
Brand names and synonyms map onto these rows in :mod:`painlink.rules.drug_names`.
Antiemetics (metoclopramide, domperidone) are taken with an attack but are neither an
analgesic nor a migraine-specific drug, so ICHD-3 8.2 does not count them: they are
their own class ``antiemetic``, outside :data:`ACUTE_CLASSES` — not ``other``, which
8.2.7 counts as an acute drug of unverified class. Gepants and ditans are not in ICHD-3 8.2's
list; they are kept as their own classes so a later rule can decide how to count them.

The table is data, not code: add a drug by adding a row. Names are matched
case-insensitively after trimming, so "Sumatriptan " and "sumatriptan" are one drug.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from painlink.rules.drug_names import BRANDS


class DrugClass(StrEnum):
    triptan = "triptan"
    ergotamine = "ergotamine"
    opioid = "opioid"
    non_opioid_analgesic = "non_opioid_analgesic"
    combination_analgesic = "combination_analgesic"
    gepant = "gepant"
    ditan = "ditan"
    preventive = "preventive"
    hormonal_contraceptive = "hormonal_contraceptive"
    #: taken with an attack for nausea; not a headache drug, so never counted (ICHD-3 8.2)
    antiemetic = "antiemetic"
    #: an acute drug whose class could not be established: ICHD-3 8.2.7 counts these
    other = "other"


#: Classes taken to treat an attack; their intake days are "acute-medication days".
ACUTE_CLASSES: frozenset[DrugClass] = frozenset(
    {
        DrugClass.triptan,
        DrugClass.ergotamine,
        DrugClass.opioid,
        DrugClass.non_opioid_analgesic,
        DrugClass.combination_analgesic,
        DrugClass.gepant,
        DrugClass.ditan,
    }
)


@dataclass(frozen=True, slots=True)
class Drug:
    name: str
    atc: str | None
    drug_class: DrugClass

    @property
    def acute(self) -> bool:
        """Taken for an attack (and counted as an acute-medication day)."""
        return self.drug_class in ACUTE_CLASSES

    @property
    def preventive(self) -> bool:
        """Taken every day as ongoing treatment, kept apart from attack intakes."""
        return self.drug_class is DrugClass.preventive


def _d(name: str, atc: str | None, cls: DrugClass) -> Drug:
    return Drug(name, atc, cls)


_T, _E, _O, _N = (
    DrugClass.triptan,
    DrugClass.ergotamine,
    DrugClass.opioid,
    DrugClass.non_opioid_analgesic,
)
_C, _G, _D, _P, _H = (
    DrugClass.combination_analgesic,
    DrugClass.gepant,
    DrugClass.ditan,
    DrugClass.preventive,
    DrugClass.hormonal_contraceptive,
)

DRUGS: tuple[Drug, ...] = (
    # N02CC selective serotonin (5HT1) agonists
    _d("sumatriptan", "N02CC01", _T),
    _d("naratriptan", "N02CC02", _T),
    _d("zolmitriptan", "N02CC03", _T),
    _d("rizatriptan", "N02CC04", _T),
    _d("almotriptan", "N02CC05", _T),
    _d("eletriptan", "N02CC06", _T),
    _d("frovatriptan", "N02CC07", _T),
    # N02CA ergot alkaloids
    _d("ergotamine", "N02CA02", _E),
    _d("dihydroergotamine", "N02CA01", _E),
    # N02A opioids
    _d("codeine", "R05DA04", _O),
    _d("tramadol", "N02AX02", _O),
    _d("morphine", "N02AA01", _O),
    _d("oxycodone", "N02AA05", _O),
    _d("hydrocodone", "N02AA03", _O),
    _d("tapentadol", "N02AX06", _O),
    _d("butorphanol", "N02AF01", _O),
    # non-opioid analgesics: N02B and M01A (NSAIDs) — one class under ICHD-3 8.2.3
    _d("paracetamol", "N02BE01", _N),
    _d("acetaminophen", "N02BE01", _N),
    _d("acetylsalicylic acid", "N02BA01", _N),
    _d("aspirin", "N02BA01", _N),
    _d("ibuprofen", "M01AE01", _N),
    _d("naproxen", "M01AE02", _N),
    _d("ketoprofen", "M01AE03", _N),
    _d("dexketoprofen", "M01AE17", _N),
    _d("diclofenac", "M01AB05", _N),
    _d("indometacin", "M01AB01", _N),
    _d("celecoxib", "M01AH01", _N),
    _d("metamizole", "N02BB02", _N),
    _d("tolfenamic acid", "M01AG02", _N),
    # combination analgesics (ICHD-3 8.2.5)
    _d("paracetamol+codeine", "N02AJ06", _C),
    _d("paracetamol+caffeine", "N02BE51", _C),
    _d("aspirin+paracetamol+caffeine", "N02BA51", _C),
    _d("ibuprofen+caffeine", "M01AE51", _C),
    _d("butalbital+paracetamol+caffeine", None, _C),
    _d("sumatriptan+naproxen", "N02CC51", _C),
    # gepants and ditans
    _d("rimegepant", "N02CD06", _G),
    _d("ubrogepant", "N02CD04", _G),
    _d("zavegepant", "N02CD08", _G),
    _d("atogepant", "N02CD07", _P),  # used as a preventive, not acutely
    _d("lasmiditan", "N02CC08", _D),
    # preventives
    _d("propranolol", "C07AA05", _P),
    _d("metoprolol", "C07AB02", _P),
    _d("topiramate", "N03AX11", _P),
    _d("amitriptyline", "N06AA09", _P),
    _d("candesartan", "C09CA06", _P),
    _d("flunarizine", "N07CA03", _P),
    _d("valproate", "N03AG01", _P),
    _d("pregabalin", "N03AX16", _P),
    _d("erenumab", "N02CD01", _P),
    _d("galcanezumab", "N02CD02", _P),
    _d("fremanezumab", "N02CD03", _P),
    _d("eptinezumab", "N02CD05", _P),
    _d("onabotulinumtoxinA", "M03AX01", _P),
    _d("venlafaxine", "N06AX16", _P),
    _d("nortriptyline", "N06AA10", _P),
    _d("lisinopril", "C09AA03", _P),
    # antiemetics (A03FA propulsives): taken with an attack, not counted as overuse
    _d("metoclopramide", "A03FA01", DrugClass.antiemetic),
    _d("domperidone", "A03FA03", DrugClass.antiemetic),
    # hormonal contraceptives (G03A)
    _d("ethinylestradiol+levonorgestrel", "G03AA07", _H),
    _d("ethinylestradiol+drospirenone", "G03AA12", _H),
    _d("desogestrel", "G03AC09", _H),
    _d("combined oral contraceptive", "G03AA", _H),
)


def normalise_drug_name(name: str) -> str:
    return " ".join(name.split()).lower()  # the same as the vectorised lookup in the importer


_BY_NAME: dict[str, Drug] = {normalise_drug_name(d.name): d for d in DRUGS}

#: every name painlink knows — generic names, brands and synonyms — to its table row
NAMES: dict[str, Drug] = {
    **{brand: _BY_NAME[normalise_drug_name(generic)] for brand, generic in BRANDS.items()},
    **_BY_NAME,
}


def lookup(name: str) -> Drug | None:
    """The table's entry for a drug name (generic, brand or synonym), or None when
    painlink does not know it."""
    return NAMES.get(normalise_drug_name(name))


def drug_class_of(name: str) -> DrugClass | None:
    drug = lookup(name)
    return drug.drug_class if drug else None
