"""The thresholds the report for the doctor applies, each with its source.

The report's first page ends with "topics worth discussing": each is a rule over
numbers the analyses already give (acute-medication days against ICHD-3 8.2, open red
flags, a treatment's response, a diary too sparse to count on). The rules live here,
beside the other clinical tables, so that a clinician can check every threshold the
report prints against the source named next to it (docs/clinical.md, "Report").
"""

from __future__ import annotations

from dataclasses import dataclass

#: diary completeness (days with an entry / days in the period) below which monthly
#: rates are shown with a warning: clinical-standards.md §2.4 ("do not compute a monthly
#: rate if completeness < a configured threshold, e.g. 80 %") [unverified threshold]
LOW_COMPLETENESS = 0.8
COMPLETENESS_SOURCE = (
    "clinical-standards.md §2.4: report completeness; 80 % is the suggested threshold, "
    "not a published cut-off"
)

#: days in the "month" every rate on the report is normalised to (IHS preventive-trial
#: guidelines: a month is a 28-day period, clinical-standards.md §2.3)
RATE_DAYS = 28
RATE_SOURCE = "IHS guidelines for controlled trials of preventive treatment (28-day month)"

#: acute-medication exposure this close to a class's ICHD-3 8.2 limit (as a share of the
#: limit) is worth discussing before it becomes overuse: a report's own choice, stated
#: as such, not a published threshold
NEAR_LIMIT_SHARE = 0.8

#: headache days per month from which ICHD-3 1.3 (chronic migraine) and 8.2 A apply
CHRONIC_HEADACHE_DAYS = 15
ICHD3_SOURCE = "ICHD-3 (2018), Cephalalgia 38(1): 1.3 and 8.2"


@dataclass(frozen=True)
class ResponseRule:
    """A treatment-response threshold: the reduction in monthly migraine days from the
    baseline months to the treatment months that counts as a response."""

    name: str
    reduction: float  # 0.5 = at least 50 % fewer monthly migraine days
    applies_to: str
    source: str


#: the rules a continuation letter checks (clinical-standards.md §2.3; the European
#: Headache Federation's guideline on CGRP monoclonal antibodies asks for a ≥50 %
#: reduction in episodic and ≥30 % in chronic migraine to continue after 3 months)
RESPONSE_RULES: dict[str, ResponseRule] = {
    "episodic": ResponseRule(
        "≥50% reduction",
        0.5,
        "episodic migraine",
        "Sacco S et al., European Headache Federation guideline on the use of monoclonal "
        "antibodies targeting the CGRP pathway, J Headache Pain 2019;20:6 (update 2022); "
        "IHS guidelines for controlled trials of preventive treatment (≥50% responder)",
    ),
    "chronic": ResponseRule(
        "≥30% reduction",
        0.3,
        "chronic migraine (ICHD-3 1.3)",
        "Sacco S et al., European Headache Federation guideline on the use of monoclonal "
        "antibodies targeting the CGRP pathway, J Headache Pain 2019;20:6 (update 2022); "
        "IHS guidelines for controlled trials in chronic migraine (≥30% clinically "
        "meaningful)",
    ),
}

#: the baseline a response is measured against: at least 28 days before the treatment
#: (IHS preventive-trial guidelines: a prospective baseline of at least 4 weeks)
MIN_BASELINE_DAYS = 28
#: the months of treatment the EHF guideline checks a response after
MIN_TREATMENT_DAYS = 84

#: share of placebo patients who are ≥50 % responders in preventive trials (van der Kuy
#: & Lohman, Cephalalgia 2002; clinical-standards.md "Placebo response"): printed beside
#: every responder status, since a single person's before/after cannot separate them
PLACEBO_RESPONDERS = 0.235
PLACEBO_SOURCE = "van der Kuy & Lohman, Cephalalgia 2002 (23.5% placebo ≥50% responders)"


def response_rule(chronic: bool) -> ResponseRule:
    """The rule a patient's response is checked against: ≥30 % in chronic migraine,
    ≥50 % otherwise."""
    return RESPONSE_RULES["chronic" if chronic else "episodic"]


#: each migraine-day definition (:mod:`painlink.rules.day_definitions`) in plain words,
#: for the report's first line: a reader must know what was counted
DAY_DEFINITION_WORDS: dict[str, str] = {
    "vdarend_2023": (
        "a migraine day is a day with at least 30 minutes of headache with migraine "
        "features, or an aura of 5–60 minutes, or a triptan or ergot taken; a headache day "
        "is a day with at least 1 hour of headache or any acute medication"
    ),
    "ichd_strict_4h": (
        "a migraine day is a day inside an attack that fulfils ICHD-3 1.1 B–D or 1.2 B–C; "
        "a headache day is a day with at least 30 minutes of headache"
    ),
    "ihs_effective_triptan_only": (
        "as the Leiden definition, but a triptan or ergot day counts only when the drug "
        "worked (relief at 2 hours)"
    ),
}
