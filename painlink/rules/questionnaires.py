"""Scoring rules of the questionnaires painlink scores; item texts are NOT shipped.

The instruments are copyrighted (MIDAS: Innovative Medical Research; HIT-6:
QualityMetric; ODI v2.1a: J. Fairbank / Mapi Research Trust; NDI: H. Vernon), so
painlink holds only item identifiers, response values and scoring — the wording is
loaded from a FHIR Questionnaire the deployer is licensed to use
(clinical-standards.md §4.5).

Sources (clinical-standards.md §4):
- MIDAS: Stewart et al., Neurology 2001;56(6 Suppl 1):S20–8. Sum of 5 day counts
  (0–90 each); grades I 0–5, II 6–10, III 11–20, IV ≥21. No proration: a missing item
  leaves the score uncomputable.
- HIT-6: Kosinski et al., Qual Life Res 2003;12:963–74. Six items scored
  6/8/10/11/13 (never … always); total 36–78; ≤49 little or no impact, 50–55 some,
  56–59 substantial, ≥60 severe. A missing item: not scored. Within-person important
  change −6 (conservative; −2.5 liberal) [unverified, statistics.md §7].
- ODI v2.1a: Fairbank & Pynsent, Spine 2000. Ten sections 0–5; % = total /
  (5 × answered) × 100; 0–20 minimal, 21–40 moderate, 41–60 severe, 61–80 crippled,
  81–100 bed-bound or exaggerating; minimal detectable change ≈10 points. The largest
  number of missing sections is not published [unverified]: default 2.
- NDI: Vernon & Mior, JMPT 1991. Ten items 0–5, total 0–50 (×2 = %); a missing item
  is replaced by the mean of the answered ones (total × 10 / answered); 0–4 none,
  5–14 mild, 15–24 moderate, 25–34 severe, ≥35 complete; MCID ≈ 5 points (Vernon);
  SEM ≈ 2, MDC90 4.7 (Stratford 1999). Missing-item limit not published: default 2.

Measurement error of one score (95%, where published): HIT-6 ±5 (Kosinski 2003: "individual
patient score confidence intervals (95%) of approximately ±5"); NDI 1.96 × SEM 2 (Stratford
1999). A before/after verdict from one score on each side needs the change to pass both the
important change and the chance difference of two scores (√2 × that error): on the
independent simulator, HIT-6's important change alone called a 6-point change in 29% of
people whose true HIT-6 moved less than 6 (docs/validation.md).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Band:
    low: float
    high: float
    label: str  # shown to clinicians
    patient_label: str  # neutral wording for patients


@dataclass(frozen=True)
class InstrumentRules:
    key: str
    name: str
    items: tuple[str, ...]  # FHIR linkIds of the scored items, in order
    item_min: float
    item_max: float
    allowed_values: tuple[float, ...] | None  # exact response values, when not a range
    max_missing: int
    unit: str
    bands: tuple[Band, ...]
    important_change: float | None  # minimal important or detectable change, in score units
    important_change_kind: str
    loinc: str | None  # panel code, when the instrument is identified by it
    source: str
    #: the 95% measurement error of ONE score (± points), where published: two single
    #: scores differ by chance by up to √2 times it, so a change smaller than that is
    #: not told from measurement error even when it reaches the important change
    score_error_95: float | None = None

    @property
    def change_error_95(self) -> float | None:
        """The 95% measurement error of the difference of two independent scores."""
        return None if self.score_error_95 is None else self.score_error_95 * 2**0.5

    @property
    def allowed_text(self) -> str:
        """The answers an item may take, as an error message says them."""
        if self.allowed_values:
            return ", ".join(f"{v:g}" for v in self.allowed_values)
        return f"{self.item_min:g}–{self.item_max:g}"


def only_by_chance(change: float, important: float | None, chance: float | None) -> bool:
    """A change that reaches the important change but not the chance difference of two
    single scores (``chance``, :attr:`InstrumentRules.change_error_95`): important if
    real, yet two scores differ this much by measurement error alone."""
    return important is not None and chance is not None and important <= abs(change) < chance


INSTRUMENTS: dict[str, InstrumentRules] = {
    "midas": InstrumentRules(
        "midas",
        "Migraine Disability Assessment (MIDAS)",
        tuple(f"midas-{i}" for i in range(1, 6)),
        0,
        90,
        None,
        0,
        "days",
        (
            Band(0, 5, "Grade I: little or no disability", "little or no disability"),
            Band(6, 10, "Grade II: mild disability", "mild disability"),
            Band(11, 20, "Grade III: moderate disability", "moderate disability"),
            Band(21, 450, "Grade IV: severe disability", "severe disability"),
        ),
        None,
        "none published (a 50% reduction is used clinically)",
        None,
        "Stewart et al., Neurology 2001;56(6 Suppl 1):S20–8",
    ),
    "hit6": InstrumentRules(
        "hit6",
        "Headache Impact Test (HIT-6)",
        tuple(f"hit6-{i}" for i in range(1, 7)),
        6,
        13,
        (6, 8, 10, 11, 13),
        0,
        "points",
        (
            Band(36, 49, "little or no impact", "little or no impact"),
            Band(50, 55, "some impact", "some impact"),
            Band(56, 59, "substantial impact", "substantial impact"),
            Band(60, 78, "severe impact", "severe impact"),
        ),
        6.0,
        "within-person important change (conservative) [unverified]",
        None,
        "Kosinski et al., Qual Life Res 2003;12:963–974",
        # "individual patient score confidence intervals (95%) of approximately ±5"
        # (Kosinski 2003, abstract): a change of two scores within ±7.1 may be chance
        5.0,
    ),
    "odi": InstrumentRules(
        "odi",
        "Oswestry Disability Index (ODI v2.1a)",
        tuple(f"odi-{i}" for i in range(1, 11)),
        0,
        5,
        None,
        2,
        "%",
        (
            Band(0, 20, "minimal disability", "minimal disability"),
            Band(21, 40, "moderate disability", "moderate disability"),
            Band(41, 60, "severe disability", "severe disability"),
            Band(61, 80, "crippled", "very severe disability"),
            Band(81, 100, "bed-bound or exaggerating symptoms", "extreme disability"),
        ),
        10.0,
        "minimal detectable change",
        None,
        "Fairbank & Pynsent, Spine 2000;25:2940–52",
    ),
    "ndi": InstrumentRules(
        "ndi",
        "Neck Disability Index (NDI)",
        tuple(f"ndi-{i}" for i in range(1, 11)),
        0,
        5,
        None,
        2,
        "points (0–50)",
        (
            Band(0, 4, "no disability", "no disability"),
            Band(5, 14, "mild disability", "mild disability"),
            Band(15, 24, "moderate disability", "moderate disability"),
            Band(25, 34, "severe disability", "severe disability"),
            Band(35, 50, "complete disability", "very severe disability"),
        ),
        5.0,
        "minimal clinically important change",
        "82226-2",
        "Vernon & Mior, JMPT 1991;14:409–15; Vernon, JMPT 2008",
        # SEM ≈ 2 points (Stratford 1999): one score's 95% error 1.96 × 2; a change of
        # two scores within ±5.5 may be chance
        3.92,
    ),
}
