"""Red flags that need a doctor within days (``Urgency.soon``).

Data only: each rule's check and thresholds are in :mod:`painlink.rules.red_flag_checks`;
:mod:`painlink.rules.red_flags` joins the levels, most urgent first, and names the
sources in full.
"""

from __future__ import annotations

from painlink.rules.red_flag_checks import (
    CANCER_2005,
    CG150,
    SNNOOP,
    RedFlag,
    Urgency,
    new_or_changed,
    older_onset,
    yes,
)

SOON_FLAGS: tuple[RedFlag, ...] = (
    RedFlag(
        "older_onset",
        "New headache starting at an older age",
        Urgency.soon,
        ("giant cell arteritis", "tumour", "vascular disease"),
        "A headache that first started at this age should be checked by a doctor.",
        ("headache_onset_age", "new_headache", "age"),
        older_onset,
        f"{SNNOOP}, O",
        "SNNOOP10: '(5) older age (onset after 65 years)'; the earlier version: 'older age "
        "(onset after 50 years)'.",
    ),
    RedFlag(
        "pattern_change",
        "Recent onset of a new headache, or a change in the usual pattern",
        Urgency.soon,
        ("tumour", "other intracranial disorders"),
        "A new or changed headache pattern should be checked by a doctor.",
        ("new_headache", "pattern_change"),
        lambda p, s: new_or_changed(p),
        f"{SNNOOP}, P; {CG150} 1.1.1",
        "SNNOOP10: '(6) pattern change or recent onset of new headache'. NICE CG150 1.1.1: "
        "'a substantial change in the characteristics of their headache'.",
    ),
    RedFlag(
        "progressive",
        "Headache getting steadily worse, or unlike any before",
        Urgency.soon,
        ("tumour", "medication overuse"),
        "A steadily worsening or unusual headache should be checked by a doctor.",
        ("progressive", "atypical"),
        lambda p, s: yes(p, "progressive", "atypical"),
        f"{SNNOOP}, P",
        "SNNOOP10: '(10) progressive headache and atypical presentations'.",
    ),
    RedFlag(
        "wakes_from_sleep",
        "Headache that wakes you, or is worst on waking",
        Urgency.soon,
        ("raised pressure in the head", "sleep apnoea", "medication overuse"),
        "A headache that wakes you or is worst on waking should be checked by a doctor.",
        ("wakes_from_sleep",),
        lambda p, s: yes(p, "wakes_from_sleep"),
        f"{SNNOOP}, P; {CANCER_2005}",
        "SNNOOP10: '(7) positional headache' (raised pressure is worse lying down). NICE "
        "2005 lists features 'suggestive of raised intracranial pressure' for headaches of "
        "recent onset [paraphrase for waking].",
    ),
    RedFlag(
        "painkiller_overuse",
        "Painkillers on many days, or a new drug when the headache began",
        Urgency.soon,
        ("medication-overuse headache", "side effect of a drug"),
        "Frequent painkillers can themselves cause headache; talk to your doctor.",
        ("painkiller_overuse", "new_drug_at_onset"),
        lambda p, s: yes(p, "painkiller_overuse", "new_drug_at_onset"),
        f"{SNNOOP}, P",
        "SNNOOP10: '(15) painkiller overuse or new drug at onset of headache'.",
    ),
)
