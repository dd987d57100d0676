"""Settings of the neck/back pain ↔ attack analysis (``analysis/spine_link.py``), each
with its source.

- One declared family of tests per person: for each region (neck, back) two tests —
  *before* (odds ratio of an attack starting the day after pain ≥4/10) and *with* (rise
  of pain on attack days over the person's own attack-free baseline) — so 4 per person.
  Benjamini–Hochberg at q = 0.05 over that family, and a verdict also needs the shown
  95% interval to exclude the null (odds ratio 1, rise 0). Why 0.05 and not the trigger
  analysis's 0.10 (statistics.md §7.4): BH over a family bounds the chance of *any* call
  when nothing acts at q, and this family holds only two regions, so at q = 0.10 about
  5% of each region's noise is called — the issue's whole budget of false calls per
  person and variable, reached by design (a trigger family of a dozen variables spreads
  the same q over all of them). Measured at q = 0.10 on a generator painlink did not
  write (benchmarks/generator_four_results.md): neck/back noise was called in 4.2–6.5%
  of people, 6.5% with an unrecorded menstrual cycle and 5.8% with short diaries; at
  0.05, 1.9–4.4%, for fewer causes found (docs/validation.md). Before this, each region
  had two uncorrected tests and back pain that was pure noise was called a cause or a
  symptom in 7% of patients (issue 13). A third figure, *jump* (rise from the
  attack-free day before into the attack), only tells "symptom" from "possible early
  attack sign"; it makes no call, so it is not in the family. (Putting it in, 6 tests,
  measured before the drift terms of the before model, lowered the false calls on noise
  to 0.7–2% (from 1–4%) but called 62 rather than 68 of 114 planted neck causes a cause
  or early sign at 365 days, painlink simulator seed 2.)
- The before model has slow terms of diary time (the trigger model's seasons: one
  cosine per 90 days, at least two — a drift and a dip; before the fifth session a
  linear and a quadratic term): pain and attack rate drifting together made 5–8% of
  noise people a "candidate cause" without them.
- Pain threshold 4/10: "moderate" pain on the 0–10 numeric rating scale (the exposure
  definitions' neck pain, ``rules/triggers.py``).
- Premonitory window 48 h: premonitory symptoms, neck stiffness among the commonest
  (Giffin et al., Neurology 2003: stiff neck in 50% of warned attacks), run up to 48 h
  before the headache (ICHD-3, 1.2 / appendix A1.6.6; Lampl et al., J Headache Pain
  2015: neck pain 2–48 h before in 11% of those with neck pain). The baseline of the
  *with* test therefore ends 3 days before onset, outside that window, and starts 7
  days before (a week, so it is the person's level near the attack, not a year ago).
- At least 5 attacks (ICHD-3 asks for 5 attacks for migraine without aura; with fewer
  the paired t-interval is too wide to mean anything).
- Prior SD 5 on the log odds ratio: one coefficient over many days; the prior only
  keeps an empty 2×2 cell finite.
"""

from __future__ import annotations

from dataclasses import dataclass

#: region → the day table's column (the highest rating of the day for that region)
REGIONS: dict[str, str] = {"neck": "neck_pain_max", "back": "back_pain_max"}
#: region → the name a validation scorer knows the variable by (the check-in's column)
VARIABLES: dict[str, str] = {"neck": "neck_pain", "back": "low_back_pain"}
#: the tests of the family, per region (jump is shown beside them, not in the family)
TESTS: tuple[str, ...] = ("before", "with")

#: every verdict the analysis can give, in the words shown
VERDICTS: tuple[str, ...] = (
    "candidate cause",
    "symptom of the attack",
    "possible early attack sign",
    "no link found",
    "not enough data",
    "not recorded",
)
#: verdicts that claim a link (counted as calls by the validation)
CALLS: frozenset[str] = frozenset(
    {"candidate cause", "symptom of the attack", "possible early attack sign"}
)


@dataclass(frozen=True)
class SpineSettings:
    q: float = 0.05  # Benjamini–Hochberg over the person's family of 4 (see above)
    alpha: float = 0.05  # the shown intervals are 95%
    pain_threshold: float = 4.0  # moderate pain, 0–10 NRS
    min_attacks: int = 5  # ICHD-3's 5 attacks
    min_days_each: int = 5  # exposed and unexposed days at risk for the before test
    min_days_numeric: int = 20  # rated days at risk for the per-SD form of the before test
    prior_sd: float | None = 5.0  # normal prior SD on the log odds ratio
    baseline_from: int = 7  # the with test's baseline: attack-free days 7 ..
    baseline_to: int = 3  # .. 3 days before onset (outside the 48 h premonitory window)
    premonitory_hours: int = 48  # ICHD-3 / Giffin 2003
    #: the before test's attack-history terms, as in the trigger model: onsets in the
    #: previous 28 days, days since the last onset (capped at 60), and "yesterday was
    #: inside an attack" — pain that lingers after an attack, in a burst of attacks,
    #: would otherwise look like pain that comes before them
    recent_window_days: int = 28
    days_since_cap: int = 60
    #: days within which two attacks' paired rises count as partly the same evidence
    #: (the "with" and "jump" tests' distance-weighted variance)
    serial_lags: int = 14
    #: serial dependence allowed for in the before test's standard error: Bartlett's
    #: factor summed over lags up to this share of the diary, as in the trigger model
    #: (painlink.rules.triggers.TriggerSettings.serial_lag_share). 0: none
    serial_lag_share: float = 0.2
    #: slow change over the diary in the before test, as in the trigger model: one
    #: cosine term of diary time per this many days, at least two (a drift and a dip):
    #: pain and attacks that both rise in winter would otherwise look linked
    #: (painlink.rules.triggers.TriggerSettings.trend_days)
    trend_days: int = 90
    trend_max_terms: int = 16
    #: at least a drift and a dip, however short the diary (the before test had a
    #: linear and a quadratic term before it had seasons)
    trend_min_terms: int = 2


SETTINGS = SpineSettings()

#: the possible explanations shown beside every call: an association in a diary is
#: not a cause (Turner et al., Headache 2013; Marmura, Curr Pain Headache Rep 2018)
EXPLANATIONS: dict[str, str] = {
    "premonitory": (
        "Neck pain or stiffness can be an early sign of the attack itself, up to 48 hours "
        "before the headache (ICHD-3; Giffin 2003) — then it comes with the attack, it "
        "does not cause it."
    ),
    "response": (
        "What is done about the pain (heat, rest, a pain medicine) can change the "
        "pattern too: the link may not be cause and effect."
    ),
    # recall and reporting bias (clinical-standards.md §6, confounders)
    "rating": (
        "Pain rated on an attack day, or written up later from memory, is easily rated "
        "higher than it was: the attack can colour the rating."
    ),
}
