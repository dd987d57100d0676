"""Settings of the per-person trigger analysis, with the reasons for each default.

- Risk set: attack onsets against days not already inside an attack (PAMINA, Holsteen
  2020; statistics.md §7.1).
- Lags 0, 1 and 2 days: alcohol acts at lag 2 (Vives-Mestres 2022), sleep efficiency at
  lag 1 (Bertisch 2020), stress let-down within a day (Lipton 2014).
- Every recorded variable is a candidate, in a small family of forms declared here
  (:data:`FORMS_BY_KIND`): present or absent; above or below the person's own usual
  level (their upper or lower quarter); per unit of the person's own spread (per SD);
  change from the person's recent baseline (the mean of the previous 7 recorded
  days). Which form acts differs between people and populations — a fixed cut-off
  such as "2 units of alcohol" is one population's answer, not another's.
- An attack can change what is recorded on its days, and makes a new onset the next
  day less likely: the model adjusts for "the day before was inside an attack" (more
  days back by choice: ``attack_history_days``), and
  the recent baseline of the change form leaves attack days out.
- Multiplicity, one declared procedure: within a variable, its forms × lags are
  one max-T test (Westfall & Young 1993; Hothorn, Bretz & Westfall 2008): the
  strongest |z| against the maximum of jointly normal statistics with the
  correlation of their score tests, so the search is charged for what it is
  (correlated forms cost less than independent ones); across the person's
  variables, Benjamini–Hochberg at q = 0.10 (statistics.md §7.4). With a cohort,
  the max-T test is weighted by the share of the other half of the cohort each form
  × lag acts in, and the Benjamini–Hochberg step by the share of the other half each
  variable acts in (Genovese, Roeder & Wasserman 2006), both estimated by adaptive
  shrinkage and cross-fitted so a person's own diary never sets their own weights.
  Or, by choice (``cohort_model``), the single-effect model decides (below).
- The shown form and lag is the strongest, with its simultaneous 95% interval (the
  max-T critical value), so it covers the truth although it was chosen after
  looking; a call needs that interval to exclude 1.
- Prior: a normal prior with SD 2 on log odds ratios (odds ratios beyond ~50 need
  strong evidence) keeps estimates finite with sparse 2×2 tables.
- Cohort model: the population distribution of each variable-form-lag effect is a
  mixture of a null point mass and zero-centred normals over a fixed grid of widths,
  its weights fitted by maximum likelihood (adaptive shrinkage, Stephens 2017,
  Biostatistics 18:275). Unimodal at zero, it cannot collapse onto a spike away from
  zero ("everyone has OR 1.2"), so a person's call still needs their own evidence.
- Single-effect cohort model (``cohort_model = "single_effect"``; 20+ people tested
  in a variable): a person's variable acts in at most
  one of its forms × lags (single-effect regression, Wang et al. 2020, JRSS-B
  82:1273); the cohort's distribution over "no form acts" and each form × lag × side
  × width of a half-normal grid is fitted by penalised maximum likelihood as in
  adaptive shrinkage (Stephens 2017, Biostatistics 18:275). Unimodal at zero, it
  cannot collapse onto a spike away from zero ("everyone has OR 1.2"). A call needs
  the s-value of the person's local false sign rate (the mean lfsr of every cohort
  call at least as strong) at most ``cohort_s``, the shown form's posterior interval given
  it acts, and the person's own 95% interval of that form, both to exclude 1 on the
  called side; the shown interval spans the two (painlink.analysis.single_effect;
  measured in docs/validation.md).
- Power: about 24 events are needed to detect moderate associations per person
  (Holsteen dissertation, statistics.md §1); the power statement uses the normal
  approximation var(log OR) ≈ 1 / (events · p · (1 − p)).
- Premonitory symptoms that mimic triggers: neck pain or stiffness, fatigue, yawning,
  food craving, light/sound sensitivity, mood change (Giffin 2003; Karsan 2021;
  clinical-standards.md §6). A factor whose name marks it as one of these is shown as
  a "possible early attack sign", never as a trigger.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class TriggerSettings:
    lags: tuple[int, ...] = (0, 1, 2)
    q: float = 0.10  # false-discovery rate over a person's variables
    #: with a cohort: "weighted" (the person's Benjamini–Hochberg step weighted by the
    #: share of the cohort each variable acts in) or "single_effect" (the cohort's
    #: single-effect model, painlink.analysis.single_effect). Weighted by default: the
    #: single-effect model finds more true effects on both simulators, but on the two
    #: generators written to break painlink it also calls more proxies of a cause (the
    #: third generator's stories a-f 7.5% of null pairs against 5.2%; docs/validation.md)
    cohort_model: str = "weighted"
    #: ... "single_effect": the largest s-value called, the expected share of wrong
    #: signs among the cohort's calls at least as strong
    cohort_s: float = 0.10
    prior_sd: float = 2.0  # normal prior SD on each log odds ratio
    min_attacks: int = 8  # fewer onsets at risk: "not enough data" for every factor
    min_days_each: int = 5  # a yes/no form needs this many exposed and unexposed days at risk
    min_days_numeric: int = 20  # a numeric form needs this many recorded days at risk
    detect_odds_ratio: float = 2.0  # the effect the power statement is about
    power: float = 0.8
    shrink_min_patients: int = 20  # a cohort model needs at least this many patients
    alpha: float = 0.05  # for intervals: a call's interval must exclude 1
    baseline_days: int = 7  # "recent baseline": the mean of the previous 7 days
    baseline_min_days: int = 3  # ... of which at least 3 recorded
    usual_low: float = 0.25  # "below your usual": the person's lower quarter
    usual_high: float = 0.75  # "above your usual": the person's upper quarter
    #: a form and lag the cohort model keeps for a variable besides its best: its
    #: evidence (log likelihood ratio of "acts in some people" over "in nobody") is at
    #: least 3, a likelihood ratio of 20 (Kass & Raftery 1995: strong evidence)
    form_evidence: float = 3.0
    #: added to the cohort's share of people a form × lag (or a variable) acts in, to
    #: weigh it in a person's weighted max-T test (or Benjamini–Hochberg step): one the
    #: cohort never saw act keeps some weight and can still be called on strong evidence
    weight_floor: float = 0.05
    trend_window_days: int = 28  # the drifting baseline: onsets in the previous 4 weeks
    #: the person's recent attacks in every model, one yes/no column per day back:
    #: "inside an attack the day before" (1), and with more days also 2, 3, … days
    #: before. An attack changes what is recorded on its day and in its aftermath (rest,
    #: skipped meals, screen time, a stiff neck: the postdrome, over within 24 h in 93%
    #: of people, Giffin 2016, Neurology 87:309), while attacks come in bursts; so a value
    #: recorded on the day of an exposure's lag or the day before it may be the last
    #: attack's doing and predict the next through the burst alone. 3 (the longest lag
    #: + 1) closes that path, and was measured (docs/validation.md, "Attack history"):
    #: on the third generator's stories together false calls fell from 5.5% to 4.8%
    #: (own data) and 5.2% to 4.4% (cohort); on the independent simulator and the
    #: fourth generator they moved by less than the seeds' scatter; but where attacks
    #: follow a slow susceptibility of their own and exposures persist for weeks
    #: (tests/test_serial_dependence.py) they rose, 5.65% → 6.03% of null pairs over
    #: ten seeds. There the extra columns take up the short bursts that widened every
    #: standard error for serial dependence (mean factor 1.020 → 1.009, seed 12) while
    #: the estimates' |z| stay as they were (6.6% beyond 1.96 with either): the slow
    #: drift behind the false calls is left. Kept at 1 until that is solved
    attack_history_days: int = 1
    #: slow change over the diary (seasons, a drift) in every person's model: one
    #: cosine term of diary time per this many days (a year gets 4, the shortest wave
    #: half a year, so a season of any phase is caught; painlink.analysis.seasons). A
    #: time-stratified case-crossover compares within a calendar month (Janes, Sheppard
    #: & Lumley 2005); the case time series design adds smooth terms of time per
    #: subject (Gasparrini 2021); seasonal patterns left in a daily series make
    #: spurious effects (Erbas & Hyndman, Monash working paper 2000). The 90 days are
    #: painlink's choice, measured (docs/validation.md): without the terms, variables
    #: that merely shared a season with the attacks were called. 0: none
    trend_days: int = 90
    #: ... at most this many terms (four years of seasons): a diary of many years would
    #: otherwise carry dozens
    trend_max_terms: int = 16
    #: ... and no more than one per this many days with an entry: two entries years
    #: apart earn no terms
    trend_logged_per_term: int = 30
    #: serial dependence allowed for in every standard error, and so in the max-T
    #: test's z (Bartlett's 1935 factor; painlink.analysis.family_test.serial_inflation):
    #: attacks come in bursts and drift, exposures persist (a stressful fortnight, a
    #: hard month), so days of one diary are not independent. The autocorrelations are
    #: summed over lags up to this share of the person's diary: a fifth, the limit to
    #: which sample autocorrelations are trusted (Pyper & Peterman 1998). Until
    #: 2026-12-02 a fixed 14 days with Bartlett weights, which left a drift of weeks
    #: uncounted (docs/analysis.md, "Days that depend on each other"). Only dependence
    #: that widens an interval is counted (never narrows one). 0: none
    serial_lag_share: float = 0.2
    #: lag 0 is tried for a person's variable only if it does not move on the days an
    #: attack reaches after its onset (p ≥ 0.10 for "inside an attack" given the day
    #: before, and for "inside an attack" and "the day after one" jointly, onset days
    #: left out; a lenient cut, since a missed effect of the attack becomes a false call)
    reverse_alpha: float = 0.10
    #: a variable whose "more of it" goes with attacks is shown as a "possible early
    #: attack sign", not a trigger, when it also rises on days inside attacks (t > 1.96
    #: for "inside an attack" given the day before): premonitory symptoms rise before
    #: and during attacks (Giffin 2003; Karsan 2021), a cause need not
    early_sign_t: float = 1.96
    #: each call is checked against the person's other records: fitted again with
    #: their other variables of that day (its companions) as covariates, each in its
    #: own column — mutual adjustment, as an oracle that knows the causes adjusts for
    #: them — and withdrawn, as "explained by other records", when the adjusted
    #: estimate falls below ``companion_shrink`` of its own (log scale), its 95%
    #: interval is no longer wholly in the call's direction, and a record that moves
    #: with it (|r| ≥ 0.3) keeps its own call beside the others
    #: (painlink.analysis.companions; docs/validation.md). Without it, sleep quality
    #: written from the night's sleep and the day's stress was called a trigger
    #: wherever those acted
    companions: bool = True
    #: ... a real cause keeps its size beside its companions (only its interval
    #: widens); a companion's falls towards 0. Half: painlink's choice, measured
    companion_shrink: float = 0.5

    def __post_init__(self) -> None:
        # refused where the settings are made, not only when a cohort is fitted: a
        # misspelt model would otherwise pass unnoticed for one person
        if self.cohort_model not in ("weighted", "single_effect"):
            raise ValueError(
                f"cohort_model: 'weighted' or 'single_effect', not {self.cohort_model!r}"
            )


#: the forms tried for each kind of variable
FORMS_BY_KIND: dict[str, tuple[str, ...]] = {
    "yesno": ("present",),
    "amount": ("present", "high", "per_sd", "change"),
    "level": ("high", "low", "per_sd", "change"),
    "menstruation": ("window",),
    "contraceptive": ("pill_free",),
}

#: built-in day columns that are candidates: column → (kind, words, unit)
VARIABLES: dict[str, tuple[str, str, str]] = {
    "sleep_hours": ("level", "sleep", "h"),
    "sleep_quality": ("level", "sleep quality", "/10"),
    "stress": ("level", "stress", "/10"),
    "skipped_meals": ("amount", "skipped meals", "meals"),
    "alcohol_units": ("amount", "alcohol", "units"),
    "caffeine_mg": ("amount", "caffeine", "mg"),
    "exercise_min": ("amount", "exercise", "min"),
    "screen_hours": ("level", "screen time", "h"),
    "allergy_symptoms": ("yesno", "allergy symptoms", ""),
    "pressure_hpa": ("level", "air pressure", "hPa"),
    "temperature_c": ("level", "temperature", "°C"),
    "menstruation": ("menstruation", "menstrual window", ""),
    "contraceptive_phase": ("contraceptive", "pill-free week", ""),
}
#: variables whose value on a day is settled before that day's attack could change it
#: (the weather, the cycle): always tried at lag 0. Any other variable is tried at lag 0
#: for a person only when their diary shows attacks do not change it (the value on
#: days inside an attack and on the day after one is what the day before predicts;
#: ``reverse_alpha``). Even
#: last night's sleep: an attack that starts at night shortens or lengthens it. Any
#: other value recorded on the day an attack starts may be the attack's effect (rest,
#: a caffeine-containing painkiller, less screen time) or its first sign, so "the same
#: day" cannot tell a trigger from a consequence (Lipton 2014 asks about the hours
#: before onset for this reason; a day-level diary cannot).
SAME_DAY = ("pressure_hpa", "temperature_c", "menstruation", "contraceptive_phase")
#: day columns that are not candidates, and why: the neck/back analysis owns the spine
#: ratings (:mod:`painlink.analysis.spine_link`); the stoplight rates the migraine itself
NOT_CANDIDATES = ("neck_pain", "low_back_pain", "stoplight")

#: the verdicts that are a finding (the rest: no association, not enough data, not
#: recorded)
CALLS = ("likely trigger", "likely protector", "possible early attack sign")
#: a call withdrawn because the person's other records explain it (TriggerSettings.
#: companions): it goes with attacks, but no more than the records it moves with do
EXPLAINED = "explained by other records"

#: shown beside any call: what else a factor that goes with attacks can be. A diary
#: sees that two things happen together, not why. Premonitory symptoms precede the
#: pain by 2–48 h (ICHD-3) and match perceived triggers — food cravings and skipped
#: meals, mood change and stress (Karsan 2021; clinical-standards.md §"premonitory
#: symptoms mistaken for triggers", which asks that exposures in the 0–48 h before
#: onset be treated as possibly reverse-causal); what a person does when an attack is
#: coming is the same reverse direction; the third is confounding
EXPLANATIONS: dict[str, str] = {
    "early sign": (
        "It may be an early sign of the attack itself: yawning, cravings, tiredness, a "
        "change of mood or a stiff neck can begin up to 48 hours before the headache, "
        "and then they come with the attack, they do not cause it."
    ),
    "response": (
        "It may be something done because an attack is felt coming (rest, a coffee, a "
        "pain medicine, less time at a screen)."
    ),
    "companion": (
        "It may change together with the real cause (less sleep when stressed, a drink "
        "on a late night): avoiding it alone may not help."
    ),
    # recall and reporting bias (clinical-standards.md §6, confounders):
    # a day rated after its attack began, or written up later, may be rated worse; a
    # fifth generator written blind showed the diary alone cannot tell (validation.md)
    "rating": (
        "It may be how the day was rated: a day written up after an attack began, or "
        "filled in later from memory, is easily rated worse (more stress, worse sleep, "
        "more pain) than it felt at the time."
    ),
}

PREMONITORY = re.compile(
    r"neck|stiff|yawn|fatigue|tired|crav|photophob|phonophob|light_sens|sound_sens|mood|irritab"
)
