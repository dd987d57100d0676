"""Brand and other names people type for a drug, each mapped to the generic name in
:data:`painlink.rules.medications.DRUGS`.

Why a table of brand names: people write what is on the box — "Maxalt", "Advil",
"Nurtec" — and a diary that refuses them is one they stop keeping. The class (and so
the ICHD-3 8.2 medication-overuse count) and the ATC code always come from the
generic's row, so a brand can never carry a class of its own that disagrees with it.

Sources of the brand → generic mapping (checked 2026-11):
- US: FDA Drugs@FDA / DailyMed labels (https://dailymed.nlm.nih.gov/) — Imitrex, Maxalt,
  Zomig, Relpax, Amerge, Frova, Axert, Treximet, Advil, Motrin, Aleve, Naprosyn, Tylenol,
  Excedrin, Fioricet, Nurtec ODT, Ubrelvy, Zavzpret, Qulipta, Reyvow, Migranal, Trudhesa,
  Reglan, Ultram, Inderal, Lopressor, Toprol-XL, Topamax, Elavil, Atacand, Depakote,
  Aimovig, Ajovy, Emgality, Vyepti, Botox, Lyrica, Cambia, Elyxyb.
- EU/UK: EMA European public assessment reports (https://www.ema.europa.eu/) and the UK
  electronic Medicines Compendium (https://www.medicines.org.uk/emc) — Imigran, Naramig,
  Migard, Almogran, Vydura, Aquipta, Rayvow, Nurofen, Voltarol, Panadol, Maxolon,
  Motilium, Epilim, Sibelium; national names in common use: Ascotop (DE zolmitriptan),
  Allegro (DE frovatriptan), Thomapyrin (DE aspirin+paracetamol+caffeine), Paspertin
  (DE/AT metoclopramide), Doliprane/Dafalgan/Efferalgan/ben-u-ron (paracetamol).
Synonyms (acetaminophen, dipyrone, indomethacin, valproic acid ...) follow the WHO INN
and USAN lists.

Keys are lower case with single spaces (:func:`painlink.rules.medications.normalise_drug_name`);
values must be a generic name in ``DRUGS`` (tests/test_drug_names.py checks every one).
Add a brand by adding a line.
"""

from __future__ import annotations

#: brand or synonym (normalised) → generic name as spelled in ``DRUGS``
BRANDS: dict[str, str] = {
    # triptans (N02CC)
    "imitrex": "sumatriptan",
    "imigran": "sumatriptan",
    "imigran recovery": "sumatriptan",
    "zembrace": "sumatriptan",
    "tosymra": "sumatriptan",
    "onzetra": "sumatriptan",
    "maxalt": "rizatriptan",
    "maxalt-mlt": "rizatriptan",
    "maxalt mlt": "rizatriptan",
    "maxalt lingua": "rizatriptan",
    "rizalt": "rizatriptan",
    "zomig": "zolmitriptan",
    "zomig-zmt": "zolmitriptan",
    "zomig zmt": "zolmitriptan",
    "ascotop": "zolmitriptan",
    "relpax": "eletriptan",
    "naramig": "naratriptan",
    "amerge": "naratriptan",
    "frova": "frovatriptan",
    "migard": "frovatriptan",
    "allegro": "frovatriptan",
    "axert": "almotriptan",
    "almogran": "almotriptan",
    # triptan + NSAID in one tablet: a combination (ICHD-3 8.2.5)
    "treximet": "sumatriptan+naproxen",
    # NSAIDs and other non-opioid analgesics (M01A, N02B)
    "advil": "ibuprofen",
    "motrin": "ibuprofen",
    "nurofen": "ibuprofen",
    "brufen": "ibuprofen",
    "dolormin": "ibuprofen",
    "aleve": "naproxen",
    "naprosyn": "naproxen",
    "anaprox": "naproxen",
    "voltaren": "diclofenac",
    "voltarol": "diclofenac",
    "cambia": "diclofenac",
    "bayer": "acetylsalicylic acid",
    "bayer aspirin": "acetylsalicylic acid",
    "aspro": "acetylsalicylic acid",
    "disprin": "acetylsalicylic acid",
    "asa": "acetylsalicylic acid",
    "orudis": "ketoprofen",
    "profenid": "ketoprofen",
    "keral": "dexketoprofen",
    "enantyum": "dexketoprofen",
    "celebrex": "celecoxib",
    "elyxyb": "celecoxib",
    "indomethacin": "indometacin",
    "indocin": "indometacin",
    "dipyrone": "metamizole",
    "novalgin": "metamizole",
    "nolotil": "metamizole",
    "clotam": "tolfenamic acid",
    # paracetamol (N02BE01)
    "tylenol": "paracetamol",
    "panadol": "paracetamol",
    "calpol": "paracetamol",
    "doliprane": "paracetamol",
    "dafalgan": "paracetamol",
    "efferalgan": "paracetamol",
    "ben-u-ron": "paracetamol",
    "apap": "paracetamol",
    # combination analgesics (ICHD-3 8.2.5)
    "excedrin": "aspirin+paracetamol+caffeine",
    "excedrin migraine": "aspirin+paracetamol+caffeine",
    "thomapyrin": "aspirin+paracetamol+caffeine",
    "anadin extra": "aspirin+paracetamol+caffeine",
    "panadol extra": "paracetamol+caffeine",
    "fioricet": "butalbital+paracetamol+caffeine",
    "co-codamol": "paracetamol+codeine",
    "tylenol with codeine": "paracetamol+codeine",
    # gepants (N02CD) and ditans
    "nurtec": "rimegepant",
    "nurtec odt": "rimegepant",
    "vydura": "rimegepant",
    "ubrelvy": "ubrogepant",
    "zavzpret": "zavegepant",
    "qulipta": "atogepant",
    "aquipta": "atogepant",
    "reyvow": "lasmiditan",
    "rayvow": "lasmiditan",
    # ergots (N02CA); Cafergot is ergotamine with caffeine, counted as ergotamine (8.2.1)
    "cafergot": "ergotamine",
    "dhe": "dihydroergotamine",
    "migranal": "dihydroergotamine",
    "trudhesa": "dihydroergotamine",
    # antiemetics (A03FA): taken with an attack, not counted towards overuse
    "maxolon": "metoclopramide",
    "reglan": "metoclopramide",
    "paspertin": "metoclopramide",
    "primperan": "metoclopramide",
    "motilium": "domperidone",
    # opioids
    "ultram": "tramadol",
    "tramal": "tramadol",
    # preventives
    "inderal": "propranolol",
    "inderal la": "propranolol",
    "lopressor": "metoprolol",
    "toprol-xl": "metoprolol",
    "toprol xl": "metoprolol",
    "beloc-zok": "metoprolol",
    "topamax": "topiramate",
    "trokendi": "topiramate",
    "qudexy": "topiramate",
    "elavil": "amitriptyline",
    "atacand": "candesartan",
    "blopress": "candesartan",
    "sibelium": "flunarizine",
    "depakote": "valproate",
    "depakine": "valproate",
    "epilim": "valproate",
    "orfiril": "valproate",
    "valproic acid": "valproate",
    "sodium valproate": "valproate",
    "divalproex": "valproate",
    "lyrica": "pregabalin",
    "aimovig": "erenumab",
    "ajovy": "fremanezumab",
    "emgality": "galcanezumab",
    "vyepti": "eptinezumab",
    "botox": "onabotulinumtoxinA",
    "botulinum toxin": "onabotulinumtoxinA",
    "effexor": "venlafaxine",
    "pamelor": "nortriptyline",
    "zestril": "lisinopril",
}

#: acute drugs also licensed for prevention, which the preventives page accepts:
#: rimegepant is authorised for the acute treatment *and* the prevention of episodic
#: migraine (EMA, Vydura SmPC section 4.1; FDA Nurtec ODT label, 2021). Taken every
#: other day as a preventive it is a treatment period, not an acute-medication day.
ALSO_PREVENTIVE: frozenset[str] = frozenset({"rimegepant"})
