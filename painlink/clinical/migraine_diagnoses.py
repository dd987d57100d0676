"""ICHD-3 migraine: 1.1 without aura, 1.2 with aura (and its subtypes), 1.3 chronic,
and the probable forms 1.5.1 and 1.5.2, each criterion with its evidence."""

from __future__ import annotations

import polars as pl

from painlink.clinical.criteria import (
    MET,
    NE,
    NOT_MET,
    Criterion,
    Diagnosis,
    a_criterion,
    attack_ids,
    clinician_criterion,
    diagnosis_status,
    letter_criterion,
    months_criterion,
)
from painlink.rules.ichd3 import NAMES, NDPH_NOTE, SPECIALIST_AURA, Ichd3Rules


def migraine_without_aura(
    a: pl.DataFrame, r: Ichd3Rules, tth_definite: bool = False
) -> tuple[Diagnosis, Diagnosis]:
    """1.1 and 1.5.1; ``tth_definite``: a definite TTH is coded, so attacks that are also
    tension-type episodes do not count toward probable migraine (1.5 note)."""
    b = letter_criterion(
        a,
        "m_B",
        "B",
        f"attacks last {r.migraine_min_hours:g}–{r.migraine_max_hours:g} h "
        f"({r.migraine_min_hours_under_18:g}–{r.migraine_max_hours:g} h under {r.adolescent_age}), "
        "untreated or unsuccessfully treated",
        r.migraine_min_attacks,
    )
    c = letter_criterion(
        a,
        "m_C",
        "C",
        f"≥{r.migraine_pain_features_needed} of: unilateral, pulsating, "
        "moderate or severe, aggravated by routine activity",
        r.migraine_min_attacks,
    )
    d = letter_criterion(
        a,
        "m_D",
        "D",
        "nausea and/or vomiting, or photophobia and phonophobia",
        r.migraine_min_attacks,
    )
    could = pl.all_horizontal([pl.col(x) != NOT_MET for x in ("m_B", "m_C", "m_D")])
    a_ = a_criterion(
        a,
        "fulfils_1_1",
        could,
        r.migraine_min_attacks,
        f"≥{r.migraine_min_attacks} attacks fulfilling B–D",
    )
    e = clinician_criterion("E")
    crit = [a_, b, c, d]
    status = diagnosis_status(crit)
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
                attack_ids(a, pl.col("fulfils_1_1") | but_one),
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


def migraine_with_aura(a: pl.DataFrame, r: Ichd3Rules) -> list[Diagnosis]:
    aura = a.filter(pl.col("a_B") == MET)
    b = letter_criterion(
        a,
        "a_B",
        "B",
        "one or more fully reversible aura symptoms (visual, sensory, "
        "speech/language, motor, brainstem, retinal)",
        r.aura_min_attacks,
    )
    c = letter_criterion(
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
    a_ = a_criterion(
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
    status = diagnosis_status(crit)
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
                        attack_ids(with_kind, pl.lit(True)),
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
            attack_ids(fulfilling, pl.col("typical_aura")),
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
                    attack_ids(a, pl.col("fulfils_1_2") | pl.col("but_one_1_2")),
                ),
            ),
        )
    )
    return out


def chronic_migraine(
    a: pl.DataFrame, months: pl.DataFrame, r: Ichd3Rules, span_days: int
) -> Diagnosis:
    a_ = months_criterion(
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
        attack_ids(a, pl.col("fulfils_1_1") | pl.col("fulfils_1_2")),
    )
    c = months_criterion(
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
    status = diagnosis_status(crit)
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
