"""ICHD-3 criteria evaluated for every attack at once.

Each criterion of each attack is "met", "not met" or "not evaluable" — the last when
the diary does not hold what the criterion asks (an unrated intensity, an attack
still open, a 1-hour attack that a triptan stopped). Patient-level diagnoses
(:mod:`painlink.clinical.classify`) count attacks by these columns.
"""

from __future__ import annotations

import polars as pl

from painlink.clinical.criteria import MET, NE, NOT_MET
from painlink.diary.frames import DiaryFrames
from painlink.rules.ichd3 import SPECIALIST_AURA, TYPICAL_AURA, Ichd3Rules


def status(met: pl.Expr, not_met: pl.Expr) -> pl.Expr:
    """'met' where ``met``; 'not met' where ``not_met``; otherwise 'not evaluable'."""
    return (
        pl.when(met.fill_null(False))
        .then(pl.lit(MET))
        .when(not_met.fill_null(False))
        .then(pl.lit(NOT_MET))
        .otherwise(pl.lit(NE))
    )


def count_status(items: list[pl.Expr], needed: int) -> pl.Expr:
    """At least ``needed`` of boolean items: met, impossible (not met) or undecided."""
    yes = pl.sum_horizontal([i.fill_null(False).cast(pl.Int32) for i in items])
    unknown = pl.sum_horizontal([i.is_null().cast(pl.Int32) for i in items])
    return status(yes >= needed, yes + unknown < needed)


def _all_met(cols: list[str]) -> pl.Expr:
    return pl.all_horizontal([pl.col(c) == MET for c in cols])


def _but_one(cols: list[str]) -> pl.Expr:
    met = pl.sum_horizontal([(pl.col(c) == MET).cast(pl.Int32) for c in cols])
    return met == len(cols) - 1


def _aura_summary(diary: DiaryFrames, rules: Ichd3Rules) -> pl.DataFrame:
    s = diary.aura_symptoms.with_columns(
        (pl.col("start") + pl.duration(minutes=pl.col("duration_min"))).alias("sym_end"),
        pl.when(pl.col("type") == "motor")
        .then(pl.col("duration_min") <= rules.aura_motor_max)
        .otherwise(pl.col("duration_min") <= rules.aura_symptom_max)
        .alias("short_enough"),
    )
    return s.group_by("patient_id", "attack_id").agg(
        pl.len().alias("aura_symptoms"),
        pl.col("type").unique().sort().alias("aura_types"),
        pl.col("gradual_spread").any().alias("any_spread"),
        (pl.col("gradual_spread") == False).all().alias("no_spread"),  # noqa: E712
        pl.col("gradual_spread").is_null().any().alias("spread_unknown"),
        pl.col("start").n_unique().alias("distinct_starts"),
        pl.col("start").is_null().any().alias("start_unknown"),
        ((pl.col("duration_min") >= rules.aura_symptom_min) & pl.col("short_enough"))
        .all()
        .alias("durations_ok"),
        ((pl.col("duration_min") < rules.aura_symptom_min) | ~pl.col("short_enough"))
        .any()
        .alias("duration_out"),
        pl.col("duration_min").is_null().any().alias("duration_unknown"),
        pl.col("unilateral").any().alias("any_unilateral"),
        (pl.col("unilateral") == False).all().alias("none_unilateral"),  # noqa: E712
        pl.col("positive").any().alias("any_positive"),
        (pl.col("positive") == False).all().alias("none_positive"),  # noqa: E712
        pl.col("sym_end").max().alias("aura_end"),
    )


def _treatment(diary: DiaryFrames) -> pl.DataFrame:
    """Per attack: any acute intake linked to it, and whether one worked completely."""
    m = diary.medications.filter(pl.col("attack_id").is_not_null())
    return m.group_by("patient_id", "attack_id").agg(
        pl.lit(True).alias("treated"),
        (pl.col("relief_2h") == "complete").any().alias("treated_successfully"),
        pl.col("drug_class").is_in(["triptan", "ergotamine"]).any().alias("specific_drug"),
        (
            pl.col("drug_class").is_in(["triptan", "ergotamine"])
            & pl.col("relief_2h").is_in(["partial", "complete"])
        )
        .any()
        .alias("relieved_by_specific_drug"),
    )


def evaluate_attacks(diary: DiaryFrames, rules: Ichd3Rules | None = None) -> pl.DataFrame:
    """One row per attack with a status column for each criterion the classifier uses."""
    rules = rules or Ichd3Rules()
    birth = diary.patients.select("patient_id", "birth_year")
    a = (
        diary.attacks.join(birth, on="patient_id", how="left")
        .join(_aura_summary(diary, rules), on=["patient_id", "attack_id"], how="left")
        .join(_treatment(diary), on=["patient_id", "attack_id"], how="left")
        .with_columns(
            ((pl.col("end") - pl.col("start")).dt.total_seconds() / 3600.0).alias("hours"),
            (pl.col("start").dt.year() - pl.col("birth_year")).alias("age"),
            pl.col("treated").fill_null(False),
            pl.col("treated_successfully").fill_null(False),
            pl.col("relieved_by_specific_drug").fill_null(False),
            pl.col("aura_symptoms").fill_null(0),
        )
    )
    minimum = (
        pl.when(pl.col("age") < rules.adolescent_age)
        .then(rules.migraine_min_hours_under_18)
        .otherwise(rules.migraine_min_hours)
    )
    hours = pl.col("hours")
    unilateral = (
        pl.when(pl.col("side").is_null())
        .then(None)
        .otherwise(pl.col("side").is_in(["left", "right", "side_shifting"]))
    )
    pulsating = (
        pl.when(pl.col("quality").is_null()).then(None).otherwise(pl.col("quality") == "pulsating")
    )
    strong = pl.col("intensity") >= 2
    photo_phono = pl.col("photophobia") & pl.col("phonophobia")
    a = a.with_columns(
        # 1.1 B: 4–72 h; a shorter attack stopped by treatment cannot show its natural length
        status(
            (hours >= minimum) & (hours <= rules.migraine_max_hours),
            (hours > rules.migraine_max_hours)
            | ((hours < rules.migraine_min_hours_under_18) & ~pl.col("treated_successfully"))
            | ((hours < minimum) & pl.col("age").is_not_null() & ~pl.col("treated_successfully")),
        ).alias("m_B"),
        count_status(
            [unilateral, pulsating, strong, pl.col("aggravated_by_activity")],
            rules.migraine_pain_features_needed,
        ).alias("m_C"),
        status(
            pl.col("nausea") | pl.col("vomiting") | photo_phono,
            (pl.col("nausea") == False)  # noqa: E712
            & (pl.col("vomiting") == False)  # noqa: E712
            & ((pl.col("photophobia") == False) | (pl.col("phonophobia") == False)),  # noqa: E712
        ).alias("m_D"),
    )
    # 1.2 Migraine with aura
    has_aura = (pl.col("aura_symptoms") > 0) | (pl.col("aura") == True)  # noqa: E712
    headache = pl.col("intensity") > 0
    within = (pl.col("start") - pl.col("aura_end")).dt.total_minutes() <= rules.aura_headache_within
    succession = (
        pl.when(pl.col("aura_succession").is_not_null())
        .then(pl.col("aura_succession"))
        .when(pl.col("aura_symptoms") == 1)
        .then(False)
        .when((pl.col("aura_symptoms") >= 2) & ~pl.col("start_unknown").fill_null(True))
        .then(pl.col("distinct_starts") >= 2)
        .otherwise(None)
    )
    spread = (
        pl.when(pl.col("any_spread").fill_null(False))
        .then(True)
        .when(pl.col("no_spread").fill_null(False) & ~pl.col("spread_unknown").fill_null(True))
        .then(False)
        .otherwise(None)
    )

    def tri(any_col: str, none_col: str) -> pl.Expr:
        return (
            pl.when(pl.col(any_col).fill_null(False))
            .then(True)
            .when(pl.col(none_col).fill_null(False) & (pl.col("aura_symptoms") > 0))
            .then(False)
            .otherwise(None)
        )

    durations = (
        pl.when(pl.col("duration_out").fill_null(False))
        .then(False)
        .when((pl.col("aura_symptoms") > 0) & ~pl.col("duration_unknown").fill_null(True))
        .then(pl.col("durations_ok"))
        .otherwise(None)
    )
    follows = (
        pl.when(pl.col("intensity") == 0)
        .then(False)
        .when(headache & pl.col("aura_end").is_not_null())
        .then(within)
        .otherwise(None)
    )
    types = pl.col("aura_types").fill_null(pl.lit([], dtype=pl.List(pl.String)))
    a = a.with_columns(
        status(has_aura, ~has_aura).alias("a_B"),
        count_status(
            [
                spread,
                succession,
                durations,
                tri("any_unilateral", "none_unilateral"),
                tri("any_positive", "none_positive"),
                follows,
            ],
            rules.aura_characteristics_needed,
        ).alias("a_C"),
        (has_aura & types.list.eval(pl.element().is_in(list(TYPICAL_AURA))).list.all()).alias(
            "typical_aura"
        ),
        types.list.eval(pl.element().filter(pl.element().is_in(list(SPECIALIST_AURA)))).alias(
            "specialist_aura"
        ),
        follows.alias("aura_with_headache"),
        durations.alias("aura_durations_ok"),
    )
    # 2 Tension-type headache
    bilateral = (
        pl.when(pl.col("side").is_null()).then(None).otherwise(pl.col("side") == "bilateral")
    )
    pressing = (
        pl.when(pl.col("quality").is_null()).then(None).otherwise(pl.col("quality") == "pressing")
    )
    mild_moderate = pl.col("intensity").is_in([1, 2])
    not_aggravated = ~pl.col("aggravated_by_activity")
    both_sensitive = photo_phono
    cluster_core = (
        (pl.col("intensity") == 3)
        & pl.col("side").is_in(["left", "right"])
        & pl.col("location").str.contains("orbital|periorbital|temporal").fill_null(False)
        & (pl.col("cranial_autonomic") | pl.col("restlessness")).fill_null(False)
    )
    a = a.with_columns(
        status(
            (hours >= rules.tth_min_minutes / 60) & (hours <= rules.tth_max_hours),
            (hours < rules.tth_min_minutes / 60) & ~pl.col("treated_successfully")
            | (hours > rules.tth_max_hours),
        ).alias("t_B"),
        count_status(
            [bilateral, pressing, mild_moderate, not_aggravated], rules.tth_features_needed
        ).alias("t_C"),
        status(
            (pl.col("nausea") == False) & (pl.col("vomiting") == False) & (both_sensitive == False),  # noqa: E712
            pl.col("nausea") | pl.col("vomiting") | both_sensitive,
        ).alias("t_D"),
        # 2.3 B: "lasting hours to days, or unremitting" (no upper bound)
        status(
            hours >= rules.tth_chronic_min_hours,
            (hours < rules.tth_chronic_min_hours) & ~pl.col("treated_successfully"),
        ).alias("t_B_chronic"),
        # 2.3 D: "no more than one of photophobia, phonophobia or mild nausea" and "neither
        # moderate or severe nausea nor vomiting". The diary records nausea without its
        # severity, so recorded nausea alone leaves D undecided (it may be mild or not).
        status(
            (pl.col("vomiting") == False)  # noqa: E712
            & (pl.col("nausea") == False)  # noqa: E712
            & (
                pl.sum_horizontal(
                    [
                        pl.col(c).fill_null(True).cast(pl.Int32)
                        for c in ("photophobia", "phonophobia")
                    ]
                )
                <= 1
            ),
            pl.col("vomiting")
            | (
                pl.sum_horizontal(
                    [
                        pl.col(c).fill_null(False).cast(pl.Int32)
                        for c in ("photophobia", "phonophobia", "nausea")
                    ]
                )
                >= 2
            ),
        ).alias("t_D_chronic"),
        # 3.1 cluster pattern (B: 15–180 min "when untreated")
        (
            cluster_core
            & (hours * 60 >= rules.cluster_min_minutes)
            & (hours * 60 <= rules.cluster_max_minutes)
        )
        .fill_null(False)
        .alias("cluster_like"),
        # shorter, but stopped by treatment: its natural length is unknown
        (cluster_core & (hours * 60 < rules.cluster_min_minutes) & pl.col("treated_successfully"))
        .fill_null(False)
        .alias("cluster_treated_short"),
    )
    m_cols, a_cols, t_cols = ["m_B", "m_C", "m_D"], ["a_B", "a_C"], ["t_B", "t_C", "t_D"]
    t3_cols = ["t_B_chronic", "t_C", "t_D_chronic"]
    # An attack that fulfils another disorder's attack criteria is not counted for a
    # tension-type or probable diagnosis: attacks with aura belong to 1.2, cluster-like
    # attacks to 3.1, attacks with 1.1 C and D to migraine (ICHD-3 1.3 C1; 2.4 note:
    # "the general rule of hierarchy applies, putting 1. Migraine ... before 2.").
    aura_attack = pl.col("a_B") == MET
    cluster = pl.col("cluster_like") | pl.col("cluster_treated_short")
    migraine_like = _all_met(["m_C", "m_D"])
    # an entry rated "none" (IHS 0) is not a headache: 1.1 and 2.x count headache attacks
    no_pain = (pl.col("intensity") == 0).fill_null(False)
    not_tth = aura_attack | cluster | no_pain
    return a.with_columns(
        # 1.1 counts attacks without aura; attacks with aura belong to 1.2
        (_all_met(m_cols) & ~aura_attack & ~cluster & ~no_pain).alias("fulfils_1_1"),
        (_but_one(m_cols) & ~aura_attack & ~cluster & ~no_pain).alias("but_one_1_1"),
        _all_met(m_cols).alias("migraine_features"),
        _all_met(a_cols).alias("fulfils_1_2"),
        (aura_attack & (pl.col("a_C") != MET)).alias("but_one_1_2"),
        (_all_met(t_cols) & ~not_tth & ~_all_met(m_cols)).alias("fulfils_tth"),
        (_but_one(t_cols) & ~not_tth & ~_all_met(m_cols)).alias("but_one_tth"),
        (_all_met(t3_cols) & ~not_tth & ~migraine_like).alias("fulfils_2_3"),
        (
            pl.all_horizontal([pl.col(c) != NOT_MET for c in t3_cols]) & ~not_tth & ~migraine_like
        ).alias("could_be_2_3"),
        (_but_one(t3_cols) & ~not_tth & ~migraine_like).alias("but_one_2_3"),
        (_all_met(["t_C", "t_D_chronic"])).alias("fulfils_tth_chronic_features"),
        (pl.all_horizontal([pl.col(c) != NOT_MET for c in m_cols])).alias("could_be_1_1"),
    )
