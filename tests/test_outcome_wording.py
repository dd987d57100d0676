"""The attack-duration and -intensity outcome rows as people read them: a patient's
plain words (a shorter attack reads as shorter, a change that rounds to nothing has no
sign, the verdict a sentence of its own) and a clinician's effect written as the rate
ratios beside it are."""

from __future__ import annotations

from typing import Any

import polars as pl

from painlink.web.presenters import outcome_rows
from painlink.web.responses import templates


def _row(endpoint: str, change: float, low: float, high: float, **more: Any) -> dict[str, Any]:
    duration = endpoint == "attack_duration"
    frame = pl.DataFrame(
        {
            "treatment": ["Atlas adjustment"],
            "endpoint": [endpoint],
            "verdict": [more.get("verdict", "no clear change")],
            "change": [change],
            "change_low": [low],
            "change_high": [high],
            "change_scale": [
                "ratio of geometric mean duration"
                if duration
                else "difference in mean intensity (0–3)"
            ],
            "before_value": [more.get("before", 20.0 if duration else 2.3)],
            "during_value": [more.get("during", 12.4 if duration else 2.3)],
            "attacks_before": [14],
            "attacks_during": [9],
            "rate_ratio": [None],  # every outcome row carries every column
            "score_change": [None],
        }
    )
    return outcome_rows(frame)[0]


def test_a_shorter_attack_reads_as_shorter_not_as_a_fraction_of_as_long() -> None:
    r = _row("attack_duration", 0.62, 0.45, 0.85, verdict="shorter during treatment")
    assert r["plain"] == (
        "Attacks lasted typically 20.0 hours before and 12.4 hours during: 38% shorter "
        "(somewhere between 55% shorter and 15% shorter)"
    )
    longer = _row("attack_duration", 1.81, 0.996, 3.30, before=11.0, during=20.0)
    assert longer["plain"].endswith(
        "81% longer (somewhere between about the same and 3.3 times as long)"
    )


def test_a_change_that_rounds_to_nothing_has_no_sign() -> None:
    r = _row("attack_intensity", -0.004, -0.71, 0.70)
    assert r["plain"] == (
        "Attack strength on the 0–3 scale averaged 2.3 before and 2.3 during: about the "
        "same (somewhere between 0.7 lower and 0.7 higher)"
    )
    assert r["effect"] == "difference in mean intensity (0–3) 0.00 (95% CI -0.71 to +0.70)"
    for text in (r["plain"], r["effect"]):
        assert "-0.0" not in text and "+0.0 " not in text


def test_the_duration_interval_is_written_like_the_rate_ratios_beside_it() -> None:
    r = _row("attack_duration", 1.81, 0.996, 3.30)
    assert r["effect"] == "ratio of geometric mean duration 1.81 (95% CI 1.00–3.30)"
    page = templates.get_template("clinic_tab_outcomes.html").render(view={"outcomes": [r]})
    assert "ratio of geometric mean duration 1.81 (95% CI 1.00–3.30)" in page
    milder = _row("attack_intensity", -0.45, -0.82, -0.08, verdict="milder during treatment")
    page = templates.get_template("clinic_tab_outcomes.html").render(view={"outcomes": [milder]})
    assert "difference in mean intensity (0–3) -0.45 (95% CI -0.82 to -0.08)" in page


def test_the_patients_row_ends_with_its_verdict_as_a_sentence() -> None:
    rows = [
        _row("attack_duration", 1.14, 0.51, 2.58),
        _row("attack_intensity", 0.45, 0.08, 0.82, verdict="more severe during treatment"),
    ]
    macro = templates.env.from_string('{% import "macros.html" as m %}{{ m.outcome_table(rows) }}')
    page = macro.render(rows=rows)
    assert "(somewhere between 49% shorter and 2.6 times as long). No clear change." in page
    assert "(somewhere between 0.1 higher and 0.8 higher). More severe during treatment." in page
    assert "): no clear change" not in page  # not a second colon run on after the first
    assert "95% CI 0.51–2.58), a Welch interval counting each attack as independent" in page


def test_the_letters_words_print_no_negative_zero() -> None:
    from painlink.analysis.outcome_results import attack_change_words

    r = _row("attack_intensity", -0.004, -0.71, 0.001)
    words = attack_change_words(r)
    assert "change 0.00 (95% CI -0.71 to 0.00;" in words, words
    assert "-0.00" not in words and "+0.00" not in words


def test_a_rate_row_reads_like_the_attack_rows_and_ends_with_its_verdict() -> None:
    """The interval 0.18–0.98 beside "fewer during treatment" was printed "between 0.2
    and 1.0", as if it reached no change; and the rate rows alone had no verdict."""
    frame = pl.DataFrame(
        {
            "treatment": ["Atlas adjustment", "Atlas adjustment"],
            "endpoint": ["attacks", "acute_medication_days"],
            "verdict": ["fewer during treatment", "no clear change"],
            "before_per_28d": [5.0, 1.8],
            "during_per_28d": [2.1, 2.1],
            "rate_ratio": [0.42, 1.19],
            "ci_low": [0.18, 0.32],
            "ci_high": [0.98, 4.36],
        }
    )
    fewer, more = outcome_rows(frame)
    assert fewer["plain"] == (
        "5.0 → 2.1 per 28 days: 58% fewer (somewhere between 82% fewer and 2% fewer)"
    )
    assert more["plain"] == (
        "1.8 → 2.1 per 28 days: 19% more (somewhere between 68% fewer and 4.4 times as many)"
    )
    macro = templates.env.from_string('{% import "macros.html" as m %}{{ m.outcome_table(rows) }}')
    page = macro.render(rows=[fewer, more])
    assert "and 2% fewer). Fewer during treatment." in page
    assert "4.4 times as many). No clear change." in page
    assert "rate ratio 0.42 (95% CI 0.18–0.98)" in page  # the clinicians' numbers stay
