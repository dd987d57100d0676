"""The independent simulator, its oracle and the scorer of calls against truth.

The simulator exists so the analyses can be checked on diaries they were not written
for: these tests hold it to the diary format (a CSV round trip through painlink's own
reader), to its truth (every recorded variable has a truth row, a never-recorded one
leaves no value), to its seed, and to its independence (it imports nothing of the
analyses). The oracle must find a planted strong trigger and fit exactly as
statsmodels does; the scorer is checked on frames small enough to count by hand.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import math
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from painlink.cli import app
from painlink.interop.csv_diary import DiaryCsvWriter, read_diary_folder
from painlink.simulate import independent
from painlink.simulate.independent import effects as effect_story
from painlink.simulate.independent import simulate_independent
from painlink.simulate.independent import variables as variable_story

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import oracle_independent  # noqa: E402
import score_calls  # noqa: E402

START = dt.date(2025, 1, 1)


@pytest.fixture(scope="module")
def sample() -> tuple:
    return simulate_independent(patients=60, days=200, seed=5, start=START)


def test_the_same_seed_gives_the_same_diaries_and_truth() -> None:
    a, ta = simulate_independent(20, 90, seed=3)
    b, tb = simulate_independent(20, 90, seed=3)
    c, tc = simulate_independent(20, 90, seed=4)
    for name, frame in a.items():
        assert frame.equals(getattr(b, name)), name
    assert ta.equals(tb)
    assert not a.days.equals(c.days)
    assert not ta.equals(tc)


def test_a_year_of_300_people_is_quick_enough_to_simulate_often() -> None:
    diary, truth = simulate_independent(300, 365, seed=1)
    assert diary.patients.height == 300
    assert truth.height == 300 * len(variable_story.VARIABLES)
    # about 1 to 12 attacks a month: a plausible episodic population
    per_month = truth.unique("patient_id")["attacks"].to_numpy() / 12
    assert 2 < np.median(per_month) < 8


def test_csv_round_trip_through_painlinks_reader(sample: tuple, tmp_path: Path) -> None:
    diary, _ = sample
    writer = DiaryCsvWriter(tmp_path, diary.factors["name"].unique().to_list())
    writer.write(diary)
    writer.close()
    back = read_diary_folder(tmp_path)
    for name in ("patients", "days", "attacks", "medications", "factors", "factor_values"):
        assert back.sorted().__getattribute__(name).equals(diary.sorted().__getattribute__(name)), (
            name
        )
    assert diary.attacks.height > 0 and diary.medications.height > 0


def test_truth_has_a_row_for_every_variable_a_person_records(sample: tuple) -> None:
    diary, truth = sample
    recorded = set()
    for name in (*variable_story.NUMERIC, *variable_story.CYCLE):
        seen = diary.days.filter(pl.col(name).is_not_null())["patient_id"].unique()
        recorded |= {(pid, name) for pid in seen.to_list()}
    for row in diary.factor_values.unique(["patient_id", "name"]).iter_rows(named=True):
        recorded.add((row["patient_id"], row["name"]))
    in_truth = {
        (r["patient_id"], r["variable"]) for r in truth.filter(pl.col("recorded")).to_dicts()
    }
    assert recorded == in_truth
    assert {"trigger", "protector", "premonitory", "none"} <= set(truth["role"].to_list())
    neck = truth.filter(pl.col("variable") == "neck_pain")["role"].unique().to_list()
    assert set(neck) <= {"none", "cause", "symptom", "premonitory"}
    assert set(truth.columns) >= {"patient_id", "sex", "days", "attacks", "variable"}
    assert set(truth.columns) >= {"role", "form", "lag", "true_log_or", "recorded"}
    causes = truth.filter(pl.col("role").is_in(["trigger", "protector", "cause"]))
    assert (causes["true_log_or"].abs() >= math.log(1.5) - 1e-9).all()
    assert (causes["true_log_or"].abs() <= math.log(4) + 1e-9).all()
    nulls = truth.filter(pl.col("role") == "none")
    assert (nulls["true_log_or"] == 0).all()


def test_variables_never_recorded_stay_empty(sample: tuple) -> None:
    diary, truth = sample
    men = diary.patients.filter(pl.col("sex") == "male")["patient_id"].to_list()
    assert men
    assert diary.days.filter(pl.col("patient_id").is_in(men))["menstruation"].null_count() == (
        diary.days.filter(pl.col("patient_id").is_in(men)).height
    )
    never = truth.filter(~pl.col("recorded"))
    for row in never.iter_rows(named=True):
        name, pid = row["variable"], row["patient_id"]
        if name in variable_story.OWN_FACTORS:
            mine = diary.factors.filter((pl.col("patient_id") == pid) & (pl.col("name") == name))
            assert mine.height == 0
        else:
            values = diary.days.filter(pl.col("patient_id") == pid)[name]
            assert values.null_count() == values.len(), (pid, name)
    # not everyone records everything: each listed variable is skipped by someone
    skipped = set(never["variable"].to_list())
    assert {"alcohol_units", "exercise_min", "pressure_hpa", "screen_hours"} <= skipped


def test_diaries_have_missing_days_and_ongoing_attack_days(sample: tuple) -> None:
    diary, truth = sample
    per_person = truth.unique("patient_id")["days"].to_numpy()
    assert (per_person < 200).mean() > 0.9
    lengths = (diary.attacks["end"] - diary.attacks["start"]).dt.total_hours().drop_nulls()
    assert lengths.min() >= 2 and lengths.max() <= 72
    assert (diary.attacks["end"].dt.date() > diary.attacks["start"].dt.date()).any()


def test_attacks_never_overlap(sample: tuple) -> None:
    diary, _ = sample
    ordered = diary.attacks.sort("patient_id", "start").with_columns(
        previous_end=pl.col("end").shift().over("patient_id")
    )
    assert ordered.filter(pl.col("start") <= pl.col("previous_end")).height == 0


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


FORBIDDEN = (
    "painlink.analysis",
    "painlink.days",
    "painlink.rules.triggers",
    "painlink.simulate.simulator",
    "painlink.simulate.attacks",
    "painlink.simulate.records",
    "painlink.simulate.spec",
    "painlink.simulate.output",
)


@pytest.mark.parametrize(
    "path",
    [
        *sorted(Path(independent.__file__).parent.glob("*.py")),
        ROOT / "benchmarks" / "oracle_independent.py",
        ROOT / "benchmarks" / "score_calls.py",
    ],
    ids=lambda p: p.name,
)
def test_the_story_and_its_oracle_import_nothing_of_the_analyses(path: Path) -> None:
    bad = {
        name
        for name in _imports(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    }
    assert not bad, f"{path.name} imports {sorted(bad)}"


#: the treatment story may use only these (its truth must not lean on painlink's
#: outcome analyses or on painlink's own simulator's treatment story)
TREATMENT_ALLOWED = ("numpy", "polars", "painlink.simulate.independent", "__future__")
TREATMENT_MODULES = ("treatments.py", "treated_attacks.py", "questionnaires.py")


@pytest.mark.parametrize("name", TREATMENT_MODULES)
def test_the_treatment_story_imports_only_numpy_polars_and_its_own_story(name: str) -> None:
    path = Path(independent.__file__).parent / name
    found = {n.split(".")[0] if not n.startswith("painlink") else n for n in _imports(path)}
    bad = {
        n
        for n in found
        if not any(n == a or n.startswith(a + ".") for a in TREATMENT_ALLOWED)
        and n not in {"datetime", "dataclasses"}
    }
    assert not bad, f"{name} imports {sorted(bad)}"
    assert {f.name for f in Path(independent.__file__).parent.glob("*.py")} >= set(
        TREATMENT_MODULES
    )  # and so the forbidden-import check above reads them too


def test_the_import_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    planted = tmp_path / "bad.py"
    planted.write_text(
        "def f():\n    from painlink.days.exposures import x\n"
        "    from painlink.analysis import outcomes\n"
    )
    assert "painlink.days.exposures" in _imports(planted)
    assert "painlink.analysis.outcomes" in _imports(planted)


def test_oracle_logistic_fit_equals_statsmodels() -> None:
    import statsmodels.api as sm

    rng = np.random.default_rng(2)
    x = np.column_stack([np.ones(400), rng.normal(size=400), rng.random(400) < 0.3])
    y = (rng.random(400) < 1 / (1 + np.exp(-(-1.5 + 0.7 * x[:, 1] + 0.9 * x[:, 2])))).astype(float)
    fit = oracle_independent.logistic_fit(x, y)
    assert fit is not None
    reference = sm.Logit(y, x).fit(disp=0)
    assert np.allclose(fit[0], reference.params, atol=1e-6)
    assert np.allclose(np.sqrt(np.diag(fit[1:])), reference.bse, atol=1e-6)


def test_oracle_bh_matches_statsmodels() -> None:
    from statsmodels.stats.multitest import multipletests

    p = np.array([0.001, 0.04, 0.03, 0.2, 0.5, 0.012])
    assert np.allclose(
        oracle_independent.bh_adjust(p), multipletests(p, method="fdr_bh")[1], atol=1e-12
    )


def test_oracle_finds_a_planted_strong_trigger(monkeypatch: pytest.MonkeyPatch) -> None:
    """Person 1 gets one cause only: stress above their own 70th percentile on the day
    before, odds ratio 5; they record stress every day they write."""
    draw, record = effect_story.draw_people, independent.recording

    def planted_draw(rng, n, latent, female, on_pill):  # type: ignore[no-untyped-def]
        people, signs = draw(rng, n, latent, female, on_pill)
        people.effects = [e for e in people.effects if e.patient != 0]
        signs.pop(0, None)
        cause = effect_story.Effect(0, "stress", "trigger", "above", "1", math.log(5.0))
        cause.threshold = float(np.quantile(latent["stress"][0], 0.7))
        people.effects.append(cause)
        return people, signs

    def planted_recording(rng, female, on_pill, yawning, days):  # type: ignore[no-untyped-def]
        records, present = record(rng, female, on_pill, yawning, days)
        records["stress"][0] = True
        return records, present

    monkeypatch.setattr(effect_story, "draw_people", planted_draw)
    monkeypatch.setattr(independent, "recording", planted_recording)
    diary, truth = simulate_independent(3, 365, seed=11, start=START)
    row = truth.filter((pl.col("patient_id") == "IND0001") & (pl.col("variable") == "stress"))
    assert row["role"].item() == "trigger" and row["form"].item() == "above"
    calls = oracle_independent.oracle_calls(diary, truth, START, 365)
    mine = calls.filter(pl.col("patient_id") == "IND0001")
    stress = mine.filter(pl.col("variable") == "stress").row(0, named=True)
    assert stress["verdict"] == "likely trigger"
    assert stress["ci_low"] > 1 and stress["ci_low"] < 5 < stress["ci_high"]
    others = mine.filter(pl.col("variable") != "stress")
    assert not others["verdict"].is_in(list(score_calls.POSITIVE)).any()


def test_oracle_on_a_simulated_cohort_calls_few_nulls_and_shows_intervals(sample: tuple) -> None:
    diary, truth = sample
    calls = oracle_independent.oracle_calls(diary, truth, START, 200)
    result = score_calls.score(calls, truth)
    assert result["false calls on null pairs"] < 0.05
    assert result["displayed calls whose interval excludes 1"] == 1.0
    assert result["sensitivity (right direction)"] > 0.1
    assert result["calls on variables not recorded"] == 0


# ------------------------------------------------------------------ the scorer

TRUTH = pl.DataFrame(
    {
        "patient_id": ["a", "a", "a", "a", "b", "b", "b", "b", "b", "b"],
        "variable": [
            "stress",
            "caffeine_mg",
            "exercise_min",
            "sleep_hours",
            "stress",
            "neck_pain",
            "low_back_pain",
            "screen_hours",
            "alcohol_units",
            "yawning",
        ],
        "recorded": [True, True, True, True, True, True, True, True, False, True],
        "role": [
            "trigger",
            "none",
            "protector",
            "none",
            "none",
            "symptom",
            "none",
            "trigger",
            "trigger",
            "premonitory",
        ],
        "form": [
            "above",
            "none",
            "log_per_sd",
            "none",
            "none",
            "rises",
            "none",
            "per_sd",
            "present",
            "rise",
        ],
        "lag": ["1", None, "0", None, None, None, None, "0,1", "0", None],
        "true_log_or": [math.log(2), 0, -math.log(2), 0, 0, 0, 0, math.log(3), math.log(2), 0],
    }
)


def _calls(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema=["patient_id", "variable", "verdict", "odds_ratio", "ci_low", "ci_high"],
        orient="row",
    )


def test_the_scorer_reads_the_direction_of_more_where_calls_carry_it() -> None:
    """A true protector called "less exercise: likely trigger" (direction −1) says the
    right thing: it is no wrong-direction call by the direction of "more", though its
    verdict name is the trigger's; called with "more" (+1) it is one."""
    rows = [
        ("a", "stress", "likely trigger", 2.1, 1.2, 3.5, 1),
        ("a", "exercise_min", "likely trigger", 1.5, 1.1, 2.0, -1),
        ("b", "screen_hours", "no association", 1.0, 0.6, 1.7, 1),
    ]
    schema = ["patient_id", "variable", "verdict", "odds_ratio", "ci_low", "ci_high", "direction"]
    less = score_calls.score(pl.DataFrame(rows, schema=schema, orient="row"), TRUTH)
    assert less["called in the wrong direction"] == pytest.approx(1 / 3)  # verdict names
    assert less["called in the wrong direction of 'more'"] == 0.0
    assert less["sensitivity (right direction of 'more')"] == pytest.approx(2 / 3)
    rows[1] = (*rows[1][:6], 1)
    more = score_calls.score(pl.DataFrame(rows, schema=schema, orient="row"), TRUTH)
    assert more["called in the wrong direction of 'more'"] == pytest.approx(1 / 3)
    assert more["sensitivity (right direction of 'more')"] == pytest.approx(1 / 3)


def test_scorer_counts_a_pair_once_and_any_positive_verdict_as_a_call() -> None:
    calls = _calls(
        [
            ("a", "stress", "likely trigger", 2.1, 1.2, 3.5),  # right
            ("a", "stress", "no association", 1.1, 0.5, 2.0),  # second row, same pair
            ("a", "caffeine_mg", "no association", 1.3, 0.8, 2.0),
            ("a", "caffeine_mg", "possible early attack sign", 1.3, 0.9, 2.0),  # false, CI ∋ 1
            ("a", "exercise_min", "likely trigger", 1.5, 1.1, 2.0),  # wrong direction
            ("b", "stress", "no association", 1.0, 0.7, 1.4),
            ("b", "neck_pain", "symptom of the attack", 2.0, 1.5, 2.6),
            ("b", "low_back_pain", "candidate cause", 1.8, 1.2, 2.7),  # false neck/back
            ("b", "alcohol_units", "likely trigger", 2.0, 1.3, 3.0),  # not recorded
            ("b", "yawning", "likely trigger", 2.0, 1.3, 3.0),  # premonitory, wrong kind
            ("b", "screen_hours", "not enough data", None, None, None),
        ]
    )
    s = score_calls.score(calls, TRUTH)
    assert s["null pairs"] == 4  # a caffeine, a sleep, b stress, b back
    assert s["false calls on null pairs"] == pytest.approx(2 / 4)
    assert s["false calls, neck/back null pairs"] == 1.0
    assert s["true trigger/protector pairs"] == 3  # a stress, a exercise, b screen
    assert s["sensitivity (right direction)"] == pytest.approx(1 / 3)
    assert s["sensitivity, triggers"] == pytest.approx(1 / 2)
    assert s["sensitivity, protectors"] == 0.0
    assert s["called in the wrong direction"] == pytest.approx(1 / 3)
    assert s["premonitory called early sign/symptom"] == 0.0
    assert s["premonitory called trigger/cause (wrong kind)"] == 1.0
    assert s["neck/back symptom called symptom"] == 1.0
    assert s["neck/back symptom called cause (wrong kind)"] == 0.0
    assert math.isnan(s["neck/back cause called cause"])
    assert math.isnan(s["neck/back cause called symptom (wrong kind)"])
    assert s["displayed calls"] == 7
    assert s["displayed calls whose interval excludes 1"] == pytest.approx(6 / 7)
    # null rows with an interval: a caffeine ×2, b stress, b back → 3 of 4 cover 1
    assert s["null pairs: intervals covering OR = 1"] == pytest.approx(3 / 4)
    assert s["calls on variables not recorded"] == 1
    assert s["sensitivity by variable"] == {"exercise_min": 0.0, "screen_hours": 0.0, "stress": 1.0}
    assert s["sensitivity by form"]["above"] == 1.0
    assert s["false calls by variable"]["caffeine_mg"] == 1.0
    assert s["false calls by variable"]["sleep_hours"] == 0.0


def test_scorer_checks_coverage_of_the_true_odds_ratio_in_the_true_form() -> None:
    calls = _calls([("a", "stress", "likely trigger", 2.6, 2.2, 3.0)]).with_columns(
        form=pl.lit("above"), lag=pl.lit("1")
    )
    assert (
        score_calls.score(calls, TRUTH)[
            "true effects in the true form: intervals covering the true OR"
        ]
        == 0.0
    )
    wide = calls.with_columns(ci_low=pl.lit(1.1))
    assert (
        score_calls.score(wide, TRUTH)[
            "true effects in the true form: intervals covering the true OR"
        ]
        == 1.0
    )


def test_scorer_prints_a_markdown_table() -> None:
    s = score_calls.score(_calls([("a", "stress", "likely trigger", 2.0, 1.2, 3.0)]), TRUTH)
    table = score_calls.markdown({"oracle": s, "painlink": s})
    assert table.splitlines()[0] == "| | oracle | painlink |"
    assert "| sensitivity (right direction) | 0.333 | 0.333 |" in table


# ------------------------------------------------------------------ the command line


def test_cli_writes_an_independent_folder_with_truth(tmp_path: Path) -> None:
    out = tmp_path / "ind"
    result = CliRunner().invoke(
        app,
        [
            "simulate",
            "--generator",
            "independent",
            "--patients",
            "5",
            "--days",
            "60",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["truth"] == str(out / "truth.csv")
    truth = pl.read_csv(out / "truth.csv", schema_overrides={"lag": pl.String})
    assert truth["patient_id"].n_unique() == 5
    assert read_diary_folder(out).patients.height == 5
    refused = CliRunner().invoke(app, ["simulate", "--generator", "independent", "--json"])
    assert refused.exit_code != 0 and "--out" in refused.output
    unknown = CliRunner().invoke(app, ["simulate", "--generator", "mine", "--out", str(out)])
    assert unknown.exit_code != 0
