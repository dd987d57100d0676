"""ICHD-3 (2018) classification of one patient's diary, criterion by criterion.

Every diagnosis lists every criterion letter as met / not met / not evaluable with
the evidence behind it (which attacks, how many days, which window). Diagnoses are
"met", "probable", "not met" or "not evaluable"; a criterion that only a clinician
can judge (ICHD-3's "not better accounted for by another diagnosis") is reported as
not evaluable and does not block "met" — painlink's "met" means "the diary fulfils
every criterion a diary can show". Red flags are screened first and every primary
diagnosis carries them while they are open.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

import polars as pl

from painlink.clinical.attack_criteria import evaluate_attacks
from painlink.clinical.criteria import (
    MET,
    NE,
    NOT_MET,
    Criterion,
    Diagnosis,
    clinician_criterion,
    tally,
)
from painlink.clinical.day_counts import classify_days, monthly_counts
from painlink.clinical.screening import ScreenResult, screen
from painlink.diary.frames import DiaryFrames
from painlink.rules.day_definitions import DEFAULT_DEFINITION
from painlink.rules.ichd3 import (
    HIERARCHY_NOTES,
    MOH_CODES,
    NAMES,
    NDPH_NOTE,
    SOURCE,
    SPECIALIST_AURA,
    Ichd3Rules,
)
from painlink.rules.medications import DrugClass


@dataclass
class Classification:
    patient_id: str
    screen: ScreenResult
    diagnoses: list[Diagnosis]
    excluded: list[Diagnosis] = field(default_factory=list)  # kept to explain the hierarchy
    months: list[dict[str, Any]] = field(default_factory=list)
    day_definition: str = DEFAULT_DEFINITION
    window: tuple[str, str] | None = None
    source: str = SOURCE

    @property
    def labels(self) -> list[str]:
        return [d.code for d in self.diagnoses if d.status in (MET, "probable")]

    def as_dict(self) -> dict[str, Any]:
        return {
            "patient_id": self.patient_id,
            "red_flags": self.screen.as_dict(),
            "diagnoses": [asdict(d) for d in self.diagnoses],
            "excluded_by_hierarchy": [asdict(d) for d in self.excluded],
            "months": self.months,
            "day_definition": self.day_definition,
            "window": self.window,
            "source": self.source,
        }

    def summary(self) -> str:
        lines = []
        if self.screen.flags:
            lines.append("RED FLAGS FIRST — " + self.screen.summary())
        for d in self.diagnoses:
            lines.append(f"{d.code} {d.name}: {d.status.upper()}")
            for c in d.criteria:
                lines.append(f"   {c.letter} [{c.status}] {c.requirement} — {c.evidence}")
            lines += [f"   note: {n}" for n in d.notes]
        return "\n".join(lines)


def _ids(frame: pl.DataFrame, mask: pl.Expr, limit: int = 50) -> tuple[str, ...]:
    return tuple(frame.filter(mask)["attack_id"].head(limit).to_list())


def _letter(
    attacks: pl.DataFrame, col: str, letter: str, requirement: str, needed: int
) -> Criterion:
    met = attacks.filter(pl.col(col) == MET).height
    unknown = attacks.filter(pl.col(col) == NE).height
    status = tally(met, unknown, needed)
    return Criterion(
        letter,
        requirement,
        status,
        f"{met} of {attacks.height} attacks meet it; {unknown} not evaluable",
        _ids(attacks, pl.col(col) == MET),
    )


def _a_criterion(
    attacks: pl.DataFrame, fulfils: str, could_be: pl.Expr, needed: int, requirement: str
) -> Criterion:
    n = attacks.filter(pl.col(fulfils)).height
    possible = attacks.filter(could_be).height
    status = MET if n >= needed else (NE if possible >= needed else NOT_MET)
    return Criterion(
        "A",
        requirement,
        status,
        f"{n} attacks fulfil all the attack criteria (need {needed})",
        _ids(attacks, pl.col(fulfils)),
    )


def _diagnosis_status(criteria: list[Criterion]) -> str:
    states = [c.status for c in criteria]
    if all(s == MET for s in states):
        return MET
    if NOT_MET in states:
        return NOT_MET
    return NE


def _migraine_without_aura(
    a: pl.DataFrame, r: Ichd3Rules, tth_definite: bool = False
) -> tuple[Diagnosis, Diagnosis]:
    """1.1 and 1.5.1; ``tth_definite``: a definite TTH is coded, so attacks that are also
    tension-type episodes do not count toward probable migraine (1.5 note)."""
    b = _letter(
        a,
        "m_B",
        "B",
        f"attacks last {r.migraine_min_hours:g}–{r.migraine_max_hours:g} h "
        f"({r.migraine_min_hours_under_18:g}–{r.migraine_max_hours:g} h under {r.adolescent_age}), "
        "untreated or unsuccessfully treated",
        r.migraine_min_attacks,
    )
    c = _letter(
        a,
        "m_C",
        "C",
        f"≥{r.migraine_pain_features_needed} of: unilateral, pulsating, "
        "moderate or severe, aggravated by routine activity",
        r.migraine_min_attacks,
    )
    d = _letter(
        a,
        "m_D",
        "D",
        "nausea and/or vomiting, or photophobia and phonophobia",
        r.migraine_min_attacks,
    )
    could = pl.all_horizontal([pl.col(x) != NOT_MET for x in ("m_B", "m_C", "m_D")])
    a_ = _a_criterion(
        a,
        "fulfils_1_1",
        could,
        r.migraine_min_attacks,
        f"≥{r.migraine_min_attacks} attacks fulfilling B–D",
    )
    e = clinician_criterion("E")
    crit = [a_, b, c, d]
    status = _diagnosis_status(crit)
    full = Diagnosis("1.1", NAMES["1.1"], status, (*crit, e))
    # 1.5.1 A: "all but one of criteria A-D for 1.1": fewer than 5 attacks fulfilling
    # B–D, or ≥5 attacks each missing one of B–D. B: "not fulfilling ICHD-3 criteria for
    # any other headache disorder" — with a definite TTH, an attack that is also a
    # tension-type episode is TTH ("a definite diagnosis always trumps a probable").
    but_one = pl.col("but_one_1_1")
    if tth_definite:
        but_one = but_one & ~pl.col("fulfils_tth")
    n_full = a.filter(pl.col("fulfils_1_1")).height
    n_but_one = a.filter(but_one).height
    n_tth = a.filter(pl.col("but_one_1_1") & pl.col("fulfils_tth")).height if tth_definite else 0
    probable = status != MET and (
        0 < n_full < r.migraine_min_attacks or n_full + n_but_one >= r.migraine_min_attacks
    )
    p = Diagnosis(
        "1.5.1",
        NAMES["1.5.1"],
        "probable" if probable else NOT_MET,
        (
            Criterion(
                "A",
                "attacks fulfil all but one of 1.1 A–D",
                MET if probable else NOT_MET,
                f"{n_full} attacks fulfil 1.1 B–D (need {r.migraine_min_attacks} for 1.1); "
                f"{n_but_one} attacks miss exactly one of B–D"
                + (
                    f"; {n_tth} more are tension-type episodes and counted as such" if n_tth else ""
                ),
                _ids(a, pl.col("fulfils_1_1") | but_one),
            ),
            Criterion(
                "B",
                "not fulfilling criteria of another headache disorder",
                MET if probable else NE,
                "attacks with aura, cluster-like attacks"
                + (" and tension-type episodes" if tth_definite else "")
                + " are not counted",
            ),
            clinician_criterion("C"),
        ),
    )
    return full, p


def _migraine_with_aura(a: pl.DataFrame, r: Ichd3Rules) -> list[Diagnosis]:
    aura = a.filter(pl.col("a_B") == MET)
    b = _letter(
        a,
        "a_B",
        "B",
        "one or more fully reversible aura symptoms (visual, sensory, "
        "speech/language, motor, brainstem, retinal)",
        r.aura_min_attacks,
    )
    c = _letter(
        a,
        "a_C",
        "C",
        f"≥{r.aura_characteristics_needed} of 6: spreads over ≥{r.aura_spread_min:g} min; "
        "≥2 symptoms in succession; each lasts "
        f"{r.aura_symptom_min:g}–{r.aura_symptom_max:g} min; ≥1 unilateral; ≥1 positive; "
        f"headache with or within {r.aura_headache_within:g} min",
        r.aura_min_attacks,
    )
    could = (pl.col("a_B") == MET) & (pl.col("a_C") != NOT_MET)
    a_ = _a_criterion(
        a,
        "fulfils_1_2",
        could,
        r.aura_min_attacks,
        f"≥{r.aura_min_attacks} attacks fulfilling B and C",
    )
    d = clinician_criterion(
        "D", "not better accounted for by another diagnosis (transient ischaemic attack excluded)"
    )
    crit = [a_, b, c]
    status = _diagnosis_status(crit)
    out = [Diagnosis("1.2", NAMES["1.2"], status, (*crit, d))]
    fulfilling = a.filter(pl.col("fulfils_1_2"))
    specialist = sorted({t for ts in aura["specialist_aura"].to_list() for t in (ts or [])})
    for kind in specialist:
        code = SPECIALIST_AURA[kind]
        with_kind = aura.filter(pl.col("specialist_aura").list.contains(kind))
        out.append(
            Diagnosis(
                code,
                NAMES[code],
                NE,
                (
                    Criterion(
                        "B",
                        f"{kind} aura symptoms",
                        MET,
                        f"{kind} aura recorded in {with_kind.height} attacks",
                        _ids(with_kind, pl.lit(True)),
                    ),
                ),
                notes=(
                    f"{kind.capitalize()} aura must be assessed by a neurologist; "
                    "painlink does not classify it.",
                ),
                refer=True,
            )
        )
    if status == MET:
        typical = fulfilling.filter(pl.col("typical_aura"))
        t_status = MET if typical.height >= r.aura_min_attacks else NOT_MET
        t = Criterion(
            "B",
            "aura only visual, sensory and/or speech/language; no motor, brainstem or "
            "retinal symptoms",
            t_status,
            f"{typical.height} of {fulfilling.height} fulfilling attacks have only typical aura",
            _ids(fulfilling, pl.col("typical_aura")),
        )
        out.append(
            Diagnosis(
                "1.2.1",
                NAMES["1.2.1"],
                t_status,
                (Criterion("A", "fulfils 1.2", MET, "see 1.2"), t),
            )
        )
        if t_status == MET:
            with_h = typical.filter(pl.col("aura_with_headache") == True).height  # noqa: E712
            without = typical.filter(pl.col("aura_with_headache") == False).height  # noqa: E712
            for code, n in (("1.2.1.1", with_h), ("1.2.1.2", without)):
                out.append(
                    Diagnosis(
                        code,
                        NAMES[code],
                        MET if n >= r.aura_min_attacks else NOT_MET,
                        (
                            Criterion(
                                "B",
                                "headache accompanies or follows the aura within 60 min"
                                if code == "1.2.1.1"
                                else "no headache within 60 min of the aura",
                                MET if n >= r.aura_min_attacks else NOT_MET,
                                f"{n} typical-aura attacks",
                            ),
                        ),
                    )
                )
    n_full = fulfilling.height
    n_c_missing = a.filter(pl.col("but_one_1_2")).height
    probable = status != MET and (n_full == 1 or n_c_missing >= r.aura_min_attacks)
    out.append(
        Diagnosis(
            "1.5.2",
            NAMES["1.5.2"],
            "probable" if probable else NOT_MET,
            (
                Criterion(
                    "A",
                    "attacks fulfil all but one of 1.2 A–C",
                    MET if probable else NOT_MET,
                    f"{n_full} attacks fulfil 1.2 B–C; {n_c_missing} aura attacks miss C",
                    _ids(a, pl.col("fulfils_1_2") | pl.col("but_one_1_2")),
                ),
            ),
        )
    )
    return out


def _months_criterion(
    months: pl.DataFrame,
    column: str,
    threshold: int,
    letter: str,
    requirement: str,
    r: Ichd3Rules,
    span_days: int,
    *,
    average: bool = False,
    possible: str | None = None,
) -> Criterion:
    """A count on ≥``threshold`` days/month "for more than 3 months".

    Each of the last three 30-day months must reach it (``average``: their mean, for
    the TTH criteria that say "on average"), and the diary must span more than three
    months. A month that already misses it makes the criterion not met even in a short
    diary; otherwise a short diary leaves it not evaluable. ``possible`` counts days
    that may qualify (a feature not recorded): reaching the threshold only with them
    leaves the criterion not evaluable rather than not met.
    """
    recent = months.filter(pl.col("month") <= r.chronic_months).sort("month")
    values = recent[column].to_list()
    shown = ", ".join(
        f"{row['month_start']}–{row['month_end']}: {row[column]}"
        + (f" (up to {row[possible]})" if possible and row[possible] != row[column] else "")
        for row in recent.iter_rows(named=True)
    )
    span = f"diary of {span_days} days"

    def reaches(vals: list[int]) -> bool:
        if not vals:
            return False
        return (sum(vals) / len(vals) if average else min(vals)) >= threshold

    maybe = recent[possible].to_list() if possible else values
    enough = len(values) >= r.chronic_months and r.more_than_months(span_days)
    if values and not reaches(maybe) and (average is False or enough):
        return Criterion(letter, requirement, NOT_MET, f"{shown}; {span}")
    if not enough:
        return Criterion(
            letter,
            requirement,
            NE,
            f"{shown or 'no complete month'}; {span}: more than {r.chronic_months} months "
            f"(> {r.chronic_months * r.average_month_days:.0f} days) are needed",
        )
    status = MET if reaches(values) else NE
    return Criterion(letter, requirement, status, f"{shown}; {span}")


def _chronic_migraine(
    a: pl.DataFrame, months: pl.DataFrame, r: Ichd3Rules, span_days: int
) -> Diagnosis:
    a_ = _months_criterion(
        months,
        "ichd_headache_days",
        r.chronic_headache_days,
        "A",
        f"headache (tension-type-like and/or migraine-like) on ≥{r.chronic_headache_days} "
        f"days/month for >{r.chronic_months} months (days with headache; a day with only "
        "a tablet does not count)",
        r,
        span_days,
    )
    n = a.filter(pl.col("fulfils_1_1") | pl.col("fulfils_1_2")).height
    # B: "Occurring in a patient who has had at least five attacks" — a lifetime count:
    # fewer in the diary leaves it to the clinician's history, not "not met".
    b = Criterion(
        "B",
        f"≥{r.migraine_min_attacks} attacks fulfilling 1.1 B–D and/or 1.2 B–C (ever)",
        MET if n >= r.migraine_min_attacks else NE,
        f"{n} such attacks in the diary"
        + ("" if n >= r.migraine_min_attacks else "; earlier ones belong to the history"),
        _ids(a, pl.col("fulfils_1_1") | pl.col("fulfils_1_2")),
    )
    c = _months_criterion(
        months,
        "migraine_feature_days",
        r.chronic_migraine_days,
        "C",
        f"≥{r.chronic_migraine_days} days/month for >{r.chronic_months} months with 1.1 C+D, "
        "1.2 B+C, or relief by a triptan or ergot",
        r,
        span_days,
    )
    d = clinician_criterion("D")
    crit = [a_, b, c]
    status = _diagnosis_status(crit)
    return Diagnosis(
        "1.3",
        NAMES["1.3"],
        status,
        (*crit, d),
        notes=(
            "Medication overuse is the commonest cause of apparent chronic migraine; "
            "see 8.2 below.",
            *((NDPH_NOTE,) if status == MET else ()),
        ),
    )


def _days_of(attacks: pl.DataFrame, since: dt.date | None = None) -> int:
    """Calendar days touched by these attacks (from ``since`` on: the analysed window)."""
    if not attacks.height:
        return 0
    days = attacks.select(
        pl.date_ranges(pl.col("start").dt.date(), pl.coalesce("end", "start").dt.date()).alias("d")
    ).explode("d")
    if since is not None:
        days = days.filter(pl.col("d") >= since)
    return days.unique().height


def _tth(
    a: pl.DataFrame,
    months: pl.DataFrame,
    r: Ichd3Rules,
    span_days: int,
    first_day: dt.date | None = None,
) -> list[Diagnosis]:
    """2.1, 2.2, 2.3 and their probable forms 2.4.1–2.4.3.

    Only tension-type episodes count: attacks with aura, cluster-like attacks and
    attacks with migraine features are left out (ICHD-3 2.x A "fulfilling criteria
    B-D"; 2.4 B "not fulfilling ICHD-3 criteria for any other headache disorder").
    The frequency of a probable form comes from the episodes that fulfil all but one
    criterion, not from the full episodes alone.
    """
    fulfilling = a.filter(pl.col("fulfils_tth"))
    candidates = a.filter(pl.col("fulfils_tth") | pl.col("but_one_tth"))
    episodes, n_cand = fulfilling.height, candidates.height

    def per_month(frame: pl.DataFrame, column: str) -> float:
        """Days per month on average: over the complete 30-day months when there are
        any (the same months 2.3 counts, so 2.2 and 2.3 meet at 15 days), else over
        the whole diary."""
        if months.height and column in months.columns:
            return months[column].sum() / months["days"].sum() * r.month_days
        return _days_of(frame, first_day) / span_days * r.month_days if span_days else 0.0

    full_rate = per_month(fulfilling, "tth_episode_days")
    cand_rate = per_month(candidates, "tth_candidate_days")
    enough_time = r.more_than_months(span_days)
    # B–D are tallied over the attacks that could be tension-type episodes
    tt = a.filter((pl.col("a_B") != MET) & ~pl.col("cluster_like") & ~pl.col("migraine_features"))
    b = _letter(
        tt,
        "t_B",
        "B",
        f"lasting {r.tth_min_minutes:g} min to {r.tth_max_hours / 24:g} days",
        r.tth_min_episodes,
    )
    c = _letter(
        tt,
        "t_C",
        "C",
        f"≥{r.tth_features_needed} of: bilateral, pressing/tightening, "
        "mild or moderate, not aggravated by routine activity",
        r.tth_min_episodes,
    )
    d = _letter(
        tt,
        "t_D",
        "D",
        "no nausea or vomiting; no more than one of photophobia/phonophobia",
        r.tth_min_episodes,
    )
    e = clinician_criterion("E")
    out = []
    freq = (
        f"{episodes} tension-type episodes in all; {_days_of(fulfilling, first_day)} days "
        f"with one in the {span_days} diary days analysed; "
        f"{full_rate:.1f} days/month on average"
    )
    bands = {
        "2.1": lambda rate: rate < r.tth_infrequent_below,
        "2.2": lambda rate: r.tth_infrequent_below <= rate < r.tth_chronic_days,
    }
    for code, in_band in bands.items():
        a_status = MET if episodes >= r.tth_min_episodes and in_band(full_rate) else NOT_MET
        if code == "2.2" and a_status == MET and not enough_time:
            a_status = NE
        requirement = (
            f"≥{r.tth_min_episodes} episodes on <{r.tth_infrequent_below:g} day/month on average"
            if code == "2.1"
            else f"≥{r.tth_min_episodes} episodes on {r.tth_infrequent_below:g}–"
            f"{r.tth_chronic_days - 1} days/month on average for >{r.chronic_months} months"
        )
        a_ = Criterion("A", requirement, a_status, freq, _ids(a, pl.col("fulfils_tth")))
        crit = [a_, b, c, d]
        status = _diagnosis_status(crit)
        out.append(Diagnosis(code, NAMES[code], status, (*crit, e)))
        # 2.4.x A: all but one of A–D — fewer than 10 full episodes (A missed), or ≥10
        # episodes each fulfilling all but one of B–D; in the frequency band of the
        # episodes that do qualify
        probable_code = "2.4.1" if code == "2.1" else "2.4.2"
        probable = (
            status != MET
            and in_band(cand_rate)
            and (0 < episodes < r.tth_min_episodes or n_cand >= r.tth_min_episodes)
            and (code == "2.1" or enough_time)
        )
        out.append(
            Diagnosis(
                probable_code,
                NAMES[probable_code],
                "probable" if probable else NOT_MET,
                (
                    Criterion(
                        "A",
                        f"episodes fulfil all but one of {code} A–D",
                        MET if probable else NOT_MET,
                        f"{episodes} full episodes, {n_cand - episodes} missing one of B–D; "
                        f"together on {cand_rate:.1f} days/month in {span_days} diary days",
                        _ids(candidates, pl.lit(True)),
                    ),
                    Criterion(
                        "B",
                        "not fulfilling criteria of another headache disorder",
                        MET if probable else NE,
                        "attacks with aura, cluster-like attacks and attacks with migraine "
                        "features are not counted",
                    ),
                    clinician_criterion("C"),
                ),
            )
        )
    # 2.3 chronic TTH: A counts days of headache fulfilling 2.3 B–D, on average
    a3 = _months_criterion(
        months,
        "tth_2_3_days",
        r.tth_chronic_days,
        "A",
        f"headache fulfilling B–D on ≥{r.tth_chronic_days} days/month on average for "
        f">{r.chronic_months} months (migraine-like days and tablet-only days do not count)",
        r,
        span_days,
        average=True,
        possible="tth_2_3_possible_days",
    )
    qualifying = a.filter(pl.col("fulfils_2_3"))

    def letter3(col: str, letter: str, requirement: str) -> Criterion:
        counted = a.filter(pl.col("could_be_2_3") | pl.col("but_one_2_3"))
        met = counted.filter(pl.col(col) == MET).height
        status = MET if qualifying.height else (NE if met else NOT_MET)
        return Criterion(
            letter,
            requirement,
            status,
            f"{met} of {counted.height} tension-type-like attacks meet it",
            _ids(counted, pl.col(col) == MET),
        )

    crit3 = [
        a3,
        letter3(
            "t_B_chronic",
            "B",
            f"lasting hours to days, or unremitting (≥{r.tth_chronic_min_hours:g} h)",
        ),
        letter3("t_C", "C", "≥2 of the TTH pain features"),
        letter3(
            "t_D_chronic",
            "D",
            "no more than one of photophobia, phonophobia or mild nausea; "
            "no moderate/severe nausea, no vomiting",
        ),
    ]
    s3 = _diagnosis_status(crit3)
    out.append(
        Diagnosis(
            "2.3",
            NAMES["2.3"],
            s3,
            (*crit3, e),
            notes=(NDPH_NOTE,) if s3 == MET else (),
        )
    )
    # 2.4.3: headache fulfilling all but one of 2.3 A–D — here ≥15 days/month whose
    # headache misses one of B–D (missing A is the episodic forms' ground)
    a43 = _months_criterion(
        months,
        "tth_2_3_but_one_days",
        r.tth_chronic_days,
        "A",
        f"headache fulfilling all but one of 2.3 B–D on ≥{r.tth_chronic_days} days/month "
        "on average",
        r,
        span_days,
        average=True,
    )
    probable3 = s3 != MET and a43.status == MET
    out.append(
        Diagnosis(
            "2.4.3",
            NAMES["2.4.3"],
            "probable" if probable3 else NOT_MET,
            (
                Criterion(
                    "A",
                    "headache fulfilling all but one of 2.3 A–D",
                    MET if probable3 else NOT_MET,
                    a43.evidence,
                ),
                clinician_criterion("C"),
            ),
        )
    )
    return out


def _moh(months: pl.DataFrame, r: Ichd3Rules, primary: bool, span_days: int) -> list[Diagnosis]:
    recent = months.filter(pl.col("month") <= r.moh_months).sort("month")
    # 8.2 B: "regular overuse for >3 months" — the diary must span more than 3 months
    enough = recent.height >= r.moh_months and r.more_than_months(span_days, r.moh_months)
    a_ = _months_criterion(
        months,
        "ichd_headache_days",
        r.moh_headache_days,
        "A",
        f"headache on ≥{r.moh_headache_days} days/month in a person with a "
        "pre-existing headache disorder (days with headache, not tablet-only days)",
        r,
        span_days,
    )
    out: list[Diagnosis] = []
    single_met = False
    for cls, limit in r.moh_days.items():
        col = f"med_{cls}_days"
        values = recent[col].to_list() if col in recent.columns else []
        b_status = (
            NE if not enough else (MET if values and all(v >= limit for v in values) else NOT_MET)
        )
        single_met |= b_status == MET
        code, name = MOH_CODES[cls]
        b = Criterion(
            "B",
            f"{cls.replace('_', ' ')} on ≥{limit} days/month for >{r.moh_months} months",
            b_status,
            f"days per month, newest first: {values}",
        )
        crit = [a_, b]
        out.append(Diagnosis(code, name, _diagnosis_status(crit), (*crit,)))
    multi = [
        DrugClass.ergotamine,
        DrugClass.triptan,
        DrugClass.non_opioid_analgesic,
        DrugClass.opioid,
        DrugClass.combination_analgesic,
    ]
    if r.moh_count_gepants_ditans:
        multi += [DrugClass.gepant, DrugClass.ditan]
    total = months.filter(pl.col("month") <= r.moh_months).sort("month")
    # days with any of the classes (not the sum of class days: one day with two drugs is one day)
    totals = total["acute_any_days"].to_list() if "acute_any_days" in total.columns else []
    other = total["med_other_days"].to_list() if "med_other_days" in total.columns else []
    classes_used = sum(
        1
        for c in multi
        if f"med_{c.value}_days" in total.columns and total[f"med_{c.value}_days"].sum() > 0
    )
    overused_together = (
        bool(totals)
        and all(v >= r.moh_multiple_days for v in totals)
        and not single_met
        and classes_used >= 2  # "multiple drug classes"
    )
    m_status = NE if not enough else (MET if overused_together else NOT_MET)
    multi_b = Criterion(
        "B",
        f"≥{r.moh_multiple_days} days/month with {', '.join(c.value for c in multi)} combined, "
        "no single class overused",
        m_status,
        f"days per month, newest first: {totals}; {classes_used} classes used",
    )
    out.append(
        Diagnosis(
            "8.2.6",
            NAMES["8.2.6"],
            _diagnosis_status([a_, multi_b]),
            (a_, multi_b),
            notes=("a single class is overused, so 8.2.6 does not apply",) if single_met else (),
        )
    )
    unverified = (
        NE
        if not enough
        else (
            MET
            if other
            and any(v > 0 for v in other)
            and not single_met
            and m_status != MET
            and all((t + o) >= r.moh_multiple_days for t, o in zip(totals, other, strict=False))
            else NOT_MET
        )
    )
    unverified_b = Criterion(
        "B",
        f"≥{r.moh_multiple_days} days/month of acute drugs whose class could not be "
        "established (class 'other')",
        unverified,
        f"'other' days per month: {other}",
    )
    out.append(
        Diagnosis(
            "8.2.7", NAMES["8.2.7"], _diagnosis_status([a_, unverified_b]), (a_, unverified_b)
        )
    )
    if not primary:
        out = [
            Diagnosis(
                d.code,
                d.name,
                NE if d.status == MET else d.status,
                d.criteria,
                notes=(
                    *d.notes,
                    "8.2 needs a pre-existing headache disorder; none is established yet",
                ),
            )
            for d in out
        ]
    return out


def _cluster(a: pl.DataFrame, r: Ichd3Rules) -> Diagnosis:
    """3.1 as a pattern to refer, never a diagnosis painlink makes alone.

    A–C: ≥5 severe unilateral orbital/temporal attacks of 15–180 min with autonomic
    signs or restlessness. D: "occurring with a frequency between one every other day
    and eight per day" — read as: at least 5 such attacks in a run where each follows
    the previous within 48 h, and no day with more than 8.
    """
    like = a.filter(pl.col("cluster_like")).sort("start")
    n = like.height
    gaps = like["start"].diff().dt.total_seconds().fill_null(0) / 3600.0
    run, longest = 0, 0
    for g in gaps.to_list():
        run = run + 1 if run and g <= r.cluster_max_gap_hours else 1
        longest = max(longest, run)
    per_day = (like.group_by(pl.col("start").dt.date()).len()["len"].max() if n else 0) or 0
    treated = a.filter(pl.col("cluster_treated_short")).height
    abc = (
        MET
        if n >= r.cluster_min_attacks
        else (NE if n + treated >= r.cluster_min_attacks else NOT_MET)
    )
    d_ok = longest >= r.cluster_min_attacks and per_day <= r.cluster_max_per_day
    d = Criterion(
        "D",
        "frequency from one every other day to eight per day",
        MET if d_ok else (NE if abc == NE else NOT_MET),
        f"longest run with ≤{r.cluster_max_gap_hours:g} h between attacks: {longest}; "
        f"most on one day: {per_day}",
    )
    status = _diagnosis_status([Criterion("A–C", "", abc, ""), d])
    return Diagnosis(
        "3.1",
        NAMES["3.1"],
        status,
        (
            Criterion(
                "A–C",
                f"≥{r.cluster_min_attacks} severe unilateral orbital/temporal attacks of "
                f"{r.cluster_min_minutes:g}–{r.cluster_max_minutes:g} min with autonomic signs "
                "or restlessness",
                abc,
                f"{n} such attacks"
                + (f"; {treated} more stopped by treatment before 15 min" if treated else ""),
                _ids(a, pl.col("cluster_like")),
            ),
            d,
            clinician_criterion("E"),
        ),
        notes=("A trigeminal autonomic cephalalgia pattern: refer to a headache specialist.",)
        if n
        else (),
        refer=status == MET,
    )


def _cervicogenic(findings: pl.DataFrame | None) -> Diagnosis:
    from painlink.clinical.cervical import cervicogenic_criteria

    crit, notes = cervicogenic_criteria(findings)
    # D (another diagnosis accounts better) is the clinician's, as E is for 1.1
    status = _diagnosis_status(list(crit[:3]))
    return Diagnosis("11.2.1", NAMES["11.2.1"], status, crit, notes=notes)


def _apply_hierarchy(found: list[Diagnosis]) -> tuple[list[Diagnosis], list[Diagnosis]]:
    """ICHD-3 coding rules, each citing its note (``HIERARCHY_NOTES``).

    Probable codes were already counted from attacks that fulfil no other disorder
    (1.5 B, 2.4 B); here a probable code yields to a definite one of its own group,
    1.3 excludes every TTH code, 2.3 excludes the episodic TTH forms for the same
    period, and probable migraine goes before probable TTH. Definite 1.1/1.2 and
    definite 2.x from separate attacks are both coded (2.2 note: they often coexist).
    """
    codes = {d.code for d in found if d.status == MET}
    migraine = codes & {"1.1", "1.2", "1.3"}
    tth = codes & {"2.1", "2.2", "2.3"}
    probable_migraine = {
        d.code for d in found if d.status == "probable" and d.code.startswith("1.5")
    }
    keep, drop = [], []
    for d in found:
        reason = None
        if d.code.startswith("2.") and "1.3" in codes:
            reason = HIERARCHY_NOTES["1.3 excludes 2"]
        elif d.code in ("2.1", "2.2", "2.4.1", "2.4.2", "2.4.3") and "2.3" in codes:
            reason = HIERARCHY_NOTES["2.3 excludes 2.1 2.2"]
        elif d.code.startswith("1.5") and migraine:
            reason = HIERARCHY_NOTES["definite migraine"]
        elif d.code.startswith("2.4") and tth:
            reason = HIERARCHY_NOTES["definite TTH"]
        elif d.code.startswith("2.4") and probable_migraine:
            reason = HIERARCHY_NOTES["migraine before TTH"]
        if reason and d.status in (MET, "probable"):
            drop.append(
                Diagnosis(
                    d.code,
                    d.name,
                    d.status,
                    d.criteria,
                    (*d.notes, f"not coded: {reason}"),
                    d.refer,
                )
            )
        else:
            keep.append(d)
    return keep, drop


def presentation_from_diary(diary: DiaryFrames, rules_age: int | None = None) -> dict[str, Any]:
    """What the diary itself tells the red-flag screen (history items, onset speed)."""
    p = diary.patients.row(0, named=True)
    attacks = diary.attacks
    fastest = attacks["onset_to_peak_min"].min() if attacks.height else None
    latest = attacks["start"].max() if attacks.height else None
    age = (
        (latest.year if latest else dt.date.today().year) - p["birth_year"]
        if p["birth_year"]
        else None
    )
    return {
        "age": age if rules_age is None else rules_age,
        "headache_onset_age": p["headache_onset_age"],
        "onset_to_peak_min": fastest,
        "pregnant_or_postpartum": p["pregnant_or_postpartum"],
        "history_cancer": p["history_cancer"],
        "history_immunosuppression": p["history_immunosuppression"],
        "anticoagulants": p["anticoagulants"],
    }


def classify(
    diary: DiaryFrames,
    *,
    rules: Ichd3Rules | None = None,
    day_definition: str = DEFAULT_DEFINITION,
    presentation: dict[str, Any] | None = None,
    findings: pl.DataFrame | None = None,
    as_of: dt.date | None = None,
) -> Classification:
    """Classify one patient's diary (``diary`` must hold exactly one patient)."""
    rules = rules or Ichd3Rules()
    ids = diary.patient_ids()
    if len(ids) != 1:
        raise ValueError(f"classify takes one patient's diary, got {len(ids)}")
    answers = presentation_from_diary(diary)
    answers.update({k: v for k, v in (presentation or {}).items() if v is not None})
    result = screen(answers)
    attacks = evaluate_attacks(diary, rules)
    days = classify_days(diary, day_definition, rules=rules, as_of=as_of)
    acute = [
        f"med_{c.value}"
        for c in (
            DrugClass.ergotamine,
            DrugClass.triptan,
            DrugClass.non_opioid_analgesic,
            DrugClass.opioid,
            DrugClass.combination_analgesic,
        )
    ]
    if rules.moh_count_gepants_ditans:
        acute += ["med_gepant", "med_ditan"]
    days = days.with_columns(
        pl.any_horizontal([pl.col(c) > 0 for c in acute]).alias("med_acute_any")
    )
    months = monthly_counts(days, rules.month_days).rename({"med_acute_any_days": "acute_any_days"})
    span_days = days.height  # first to last diary day, check-ins included
    found: list[Diagnosis] = []
    first_day = days["date"].min() if days.height else None
    tth = _tth(attacks, months, rules, span_days, first_day)  # type: ignore[arg-type]
    tth_definite = any(d.status == MET and d.code in ("2.1", "2.2", "2.3") for d in tth)
    m11, p151 = _migraine_without_aura(attacks.filter(pl.col("a_B") != MET), rules, tth_definite)
    found += [
        m11,
        *_migraine_with_aura(attacks, rules),
        _chronic_migraine(attacks, months, rules, span_days),
        p151,
    ]
    found += tth
    found.append(_cluster(attacks, rules))
    primary = any(d.status in (MET, "probable") for d in found)
    found += _moh(months, rules, primary, span_days)
    found.append(_cervicogenic(findings if findings is not None else diary.clinical_findings))
    keep, drop = _apply_hierarchy(found)
    if result.flags:
        keep = [
            Diagnosis(
                d.code,
                d.name,
                d.status,
                d.criteria,
                (*d.notes, f"red flag open ({result.urgency}): {result.advice}"),
                d.refer,
            )
            if d.status in (MET, "probable") and not d.code.startswith(("8.", "11."))
            else d
            for d in keep
        ]
    order = {MET: 0, "probable": 1, NE: 2, NOT_MET: 3}
    keep.sort(key=lambda d: (order[d.status], d.code))
    window = (str(days["date"].min()), str(days["date"].max())) if days.height else None
    return Classification(
        patient_id=ids[0],
        screen=result,
        diagnoses=keep,
        excluded=drop,
        months=months.to_dicts(),
        day_definition=day_definition,
        window=window,
    )
