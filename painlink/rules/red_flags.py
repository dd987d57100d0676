"""Red flags for secondary headache, serious spinal pathology and cervical artery dissection.

Every rule carries its level, its wording, the source and the sentence of the source it
rests on (``quote``); ``docs/clinical.md`` lists them from this data (a test keeps the
two equal). Thresholds are named constants in :mod:`painlink.rules.red_flag_checks`, each
with its source; the rules themselves are listed by urgency in ``red_flags_emergency``,
``red_flags_urgent`` and ``red_flags_soon``, and joined here, most urgent first.

Sources
- SNNOOP10: Do TP, Remmers A, Schytz HW, et al. Red and orange flags for secondary
  headaches in clinical practice: SNNOOP10 list. Neurology 2019;92(3):134–144.
- Thunderclap = maximum intensity in under 1 minute: ICHD-3 (2018) 4.4
  (https://ichd-3.org/other-primary-headache-disorders/4-4-primary-thunderclap-headache/).
- NICE CG150, Headaches in over 12s: diagnosis and management (2012, updated 2021),
  recommendations 1.1.1 and 1.1.2.
- ACOG Practice Bulletin No. 222, Gestational hypertension and preeclampsia (2020),
  Box 2 (diagnostic criteria) and Box 3 (severe features); NICE NG133, Hypertension in
  pregnancy (2019, updated 2023).
- NICE NG232, Head injury: assessment and early management (2023) and its quality
  standard QS74 statement 2 (CT within 8 hours on anticoagulants).
- ICHD-3 1.2.1 (typical aura: each symptom 5–60 min, no motor symptoms, TIA excluded),
  7.2 (low CSF pressure) and 10.3 (arterial hypertension ≥180/120 mmHg).
- Age at onset: the published SNNOOP10 abstract says after 65; earlier versions and
  SNOOP4 use 50, the age from which giant cell arteritis occurs. painlink defaults to
  50 (more sensitive); ``ScreeningSettings.older_onset_age`` changes it.
- Spinal red flags (cauda equina, fracture, malignancy, infection): Finucane LM et al.,
  International framework for red flags for potential serious spinal pathologies,
  JOSPT 2020;50(7):350–372.
- Cervical artery dissection after neck manipulation or trauma ("5 Ds and 3 Ns"):
  Rushton A et al., JOSPT 2023;53(1):7–22.
- Urgency levels are painlink's triage proposal (clinical-standards.md §3, marked as
  needing clinical sign-off): each flag states its level and the level is data, not code.

Each rule names the presentation fields it reads; the screen reports a rule whose
fields were not answered as "not asked", never as "absent". Where a missing detail
decides between emergency and a lower level (how long a deficit lasted), the rule
takes the more urgent reading and says so in its wording.
"""

from __future__ import annotations

from painlink.rules.red_flag_checks import RedFlag, Urgency
from painlink.rules.red_flags_emergency import EMERGENCY_FLAGS
from painlink.rules.red_flags_soon import SOON_FLAGS
from painlink.rules.red_flags_urgent import URGENT_FLAGS

NOT_SCREENED = (
    "Not screened: the answers given are too few to check any warning sign. "
    "This is not an all-clear."
)

ADVICE: dict[Urgency, str] = {
    Urgency.emergency: (
        "Call emergency services now (112 in Europe, 911 in North America, 999 in the UK). "
        "Do not wait for this diary to be analysed."
    ),
    Urgency.urgent: "See a doctor today. If you cannot, go to an emergency department.",
    Urgency.soon: (
        "Book an appointment with your doctor within the next few days and show them this."
    ),
    Urgency.none: "No warning sign was reported. This does not rule out every cause: "
    "if something feels different or worse, see a doctor.",
}

#: The intake screen's result as a clinician reads it: the triage level in clinical terms.
#: The levels are painlink's triage proposal (clinical-standards.md §3); each raised flag
#: names its differential and the criterion it rests on (SNNOOP10, NICE CG150, ...).
CLINICIAN_ADVICE: dict[Urgency, str] = {
    Urgency.emergency: "Emergency: red flag(s) for a secondary headache or serious spinal "
    "pathology needing same-day emergency assessment.",
    Urgency.urgent: "Urgent: red flag(s) needing assessment today.",
    Urgency.soon: "Soon: red flag(s) warranting review and work-up within days.",
    Urgency.none: "No red flag among the items answered; items not asked were not assessed.",
}

#: every rule, most urgent first: the screen reports raised and unasked rules in this order
RED_FLAGS: tuple[RedFlag, ...] = (*EMERGENCY_FLAGS, *URGENT_FLAGS, *SOON_FLAGS)

RULES_VERSION = "painlink-redflags-2026.2"


def rules_table() -> str:
    """Every rule as a Markdown table (level, wording, source, quoted basis) for the docs.

    docs/clinical.md carries this table between markers and a test compares them, so the
    documentation cannot drift from the rules.
    """
    rows = [
        "| flag | level | when | what it says | source | rests on |",
        "|---|---|---|---|---|---|",
    ]
    for r in RED_FLAGS:
        cells = (
            f"`{r.code}`",
            r.urgency.name,
            r.name,
            r.message,
            r.source,
            r.quote,
        )
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows)


if __name__ == "__main__":  # python -m painlink.rules.red_flags > table for docs/clinical.md
    print(rules_table())
