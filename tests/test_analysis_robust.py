"""Analyses that answer every diary honestly: empty, tiny, odd-shaped or sparse ones.

A patient opens the insights page on the day they register, after one check-in, or
after years away; each of those diaries must give a page, four pictures and the JSON
insights (never a server error), and every analysis must run over a whole simulated
cohort without an exception.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from painlink.analysis.plotting import PICTURES
from painlink.store import tables
from tests.test_web import Web

PNG = b"\x89PNG\r\n\x1a\n"
TODAY = dt.date.today()


def _days_back(n: int) -> list[dt.date]:
    return [TODAY - dt.timedelta(days=i) for i in range(n)]


def _at(day: dt.date, hour: int = 8) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour))


def _checkins(pid: str, dates: list[dt.date]) -> dict[str, list[dict[str, Any]]]:
    return {
        "days": [{"patient_id": pid, "date": d, "stress": 4, "sleep_hours": 7.0} for d in dates]
    }


def _attacks(pid: str, dates: list[dt.date]) -> dict[str, list[dict[str, Any]]]:
    return {
        "attacks": [
            {
                "patient_id": pid,
                "attack_id": f"a{i}",
                "start": _at(d),
                "end": _at(d, 14),
                "intensity": 2,
            }
            for i, d in enumerate(dates)
        ]
    }


def _spine(pid: str, dates: list[dt.date]) -> dict[str, list[dict[str, Any]]]:
    return {
        "spine_pain": [
            {"patient_id": pid, "region": "lower_cervical", "start": _at(d), "nrs": 5}
            for d in dates
        ]
    }


def _treatment(pid: str, start: dt.date) -> dict[str, list[dict[str, Any]]]:
    return {
        "treatments": [
            {"patient_id": pid, "name": "propranolol", "kind": "preventive_drug", "start": start}
        ]
    }


def _zero_after(pid: str) -> dict[str, list[dict[str, Any]]]:
    """90 days with an attack every 4th day, then 60 days of treatment without one:
    the best outcome, which once raised OverflowError."""
    before = [TODAY - dt.timedelta(days=60 + i) for i in range(1, 91)]
    return {
        **_checkins(pid, _days_back(150)),
        **_attacks(pid, before[::4]),
        **_treatment(pid, TODAY - dt.timedelta(days=59)),
    }


#: diary shapes a patient can have, each as rows to store for a registered patient
DIARIES: dict[str, Callable[[str], dict[str, list[dict[str, Any]]]]] = {
    "empty": lambda pid: {},
    "one check-in": lambda pid: _checkins(pid, _days_back(1)),
    "one attack": lambda pid: _attacks(pid, _days_back(1)),
    "only check-ins": lambda pid: _checkins(pid, _days_back(60)),
    "only spine pain": lambda pid: _spine(pid, _days_back(5)),
    "treatment with no days after it": lambda pid: {
        **_checkins(pid, _days_back(40)),
        **_attacks(pid, _days_back(40)[::5]),
        **_treatment(pid, TODAY + dt.timedelta(days=1)),
    },
    "no attacks after a treatment": _zero_after,
    "an attack in 1900 and one today": lambda pid: _attacks(pid, [dt.date(1900, 1, 1), TODAY]),
    "an attack every day": lambda pid: {
        **_checkins(pid, _days_back(40)),
        **_attacks(pid, _days_back(40)),
    },
}


def _store(web: Web, rows: dict[str, list[dict[str, Any]]]) -> None:
    with web.engine.begin() as conn:
        for name in ("days", "attacks", "spine_pain", "treatments"):
            if rows.get(name):
                conn.execute(sa.insert(getattr(tables, name)), rows[name])


@pytest.mark.parametrize("shape", list(DIARIES))
def test_every_insight_answers_any_diary(shape: str, tmp_path: Path) -> None:
    web = Web(tmp_path)
    c, pid, _csrf = web.patient("ana")
    _store(web, DIARIES[shape](pid))
    page = c.get("/insights")
    assert page.status_code == 200, page.text
    for kind in PICTURES:
        r = c.get(f"/insights/{kind}.png")
        assert r.status_code == 200, (kind, r.text)
        assert r.headers["content-type"] == "image/png" and r.content.startswith(PNG)
    r = c.get(f"/api/patients/{pid}/insights")
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= {"triggers", "neck_and_back", "treatment_outcomes", "forecast", "message"}


def test_an_empty_diary_says_so_in_words(tmp_path: Path, db_url: str) -> None:
    web = Web(tmp_path, db_url)
    c, pid, _csrf = web.patient("ana")
    body = c.get(f"/api/patients/{pid}/insights").json()
    assert body["message"].startswith("Nothing recorded yet")
    assert body["triggers"] == body["forecast"] == body["treatment_outcomes"] == []
    assert "Not enough data yet" in c.get("/insights").text


def test_no_attacks_after_a_treatment_is_the_best_outcome_not_an_error(
    tmp_path: Path, db_url: str
) -> None:
    web = Web(tmp_path, db_url)
    c, pid, _csrf = web.patient("ana")
    _store(web, _zero_after(pid))
    rows = c.get(f"/api/patients/{pid}/insights").json()["treatment_outcomes"]
    attacks = next(r for r in rows if r["endpoint"] == "attacks")
    assert attacks["rate_ratio"] == 0 and attacks["ci_low"] == 0
    assert 0 < attacks["ci_high"] < 1 and attacks["verdict"] == "fewer during treatment"
    assert attacks["ci_method"] == "exact conditional"
    page = c.get("/insights").text
    assert "rate ratio 0.00" in page  # shown with its numbers, not as "not enough data"


COHORT_PATIENTS = 2000
COHORT_DAYS = 100  # past the forecast's first origin (90 days), so every analysis runs


@pytest.mark.slow
def test_every_analysis_runs_over_a_simulated_cohort_of_2000() -> None:
    """What ``painlink analyze`` runs, over 2,000 simulated people at once, and the
    ICHD-3 classification of each one: no exception, and a readable text for everyone."""
    import warnings

    import polars as pl

    from painlink.analysis.report import analyze
    from painlink.clinical.classify import classify, classify_many
    from painlink.diary.frames import DiaryFrames
    from painlink.simulate.simulator import simulate
    from painlink.simulate.spec import SimulationSpec

    spec = SimulationSpec(patients=COHORT_PATIENTS, days=COHORT_DAYS, seed=11)
    diary = DiaryFrames.concat(part for part, _truth in simulate(spec))
    ids = diary.patient_ids()
    assert len(ids) == COHORT_PATIENTS
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels' convergence chatter is not a failure
        report = analyze(diary)
        out = report.as_dict()
        assert out["message"] is None
        assert {r["patient_id"] for r in out["forecast"]} == set(ids)
        assert any(r.get("ci_method") == "exact conditional" for r in out["treatment_outcomes"])
        for pid in ids:
            assert report.text(pid).startswith(f"── {pid} ──")
        # everyone at once, as ``painlink classify`` does; and a sample one person at a
        # time, as the web app classifies, with the same answer (every person one at a
        # time took 90 of this test's 216 s)
        every = classify_many(diary)
        assert set(every) == set(ids)
        assert all(r.as_dict()["diagnoses"] is not None for r in every.values())
        parts = {
            name: frame.partition_by("patient_id", as_dict=True) for name, frame in diary.items()
        }
        for pid in ids[:: len(ids) // 100]:
            one = DiaryFrames(
                **{
                    name: parts[name].get((pid,), getattr(diary, name).clear())
                    for name in DiaryFrames.table_names()
                }
            )
            assert classify(one).as_dict() == every[pid].as_dict(), pid
    assert pl.DataFrame(out["triggers"]).height > 0


def test_analysis_work_is_bounded_by_the_window_not_the_calendar(tmp_path: Path) -> None:
    """Entries in 1900 (the earliest plausible date) and today: the analyses build at
    most ``ANALYSIS_WINDOW_DAYS`` days, whatever lies before, and the page says which
    period it looked at."""
    from painlink.clinical.classify import classify
    from painlink.days.day_table import ANALYSIS_WINDOW_DAYS, build_day_table

    web = Web(tmp_path)
    c, pid, _csrf = web.patient("ana")
    old = dt.date(1900, 1, 1)
    _store(
        web,
        {
            **_checkins(pid, [old, *_days_back(30)]),
            **_attacks(pid, [old, TODAY - dt.timedelta(days=3), TODAY]),
            **_spine(pid, [old]),
            **_treatment(pid, old),  # in force since 1900, no end
        },
    )
    diary = web.app.state.store.read([pid])
    table = build_day_table(diary)
    assert table.height == 30 and table["date"].min() == TODAY - dt.timedelta(days=29)
    assert table["treatment"].drop_nulls().len() == 30  # still in force inside the window
    assert build_day_table(diary, windowed=False)["date"].min() == old  # on request only
    days = classify(diary).as_dict()
    assert days is not None
    page = c.get("/insights")
    assert page.status_code == 200
    assert "last 5 years" in page.text and "since 1900-01-01" in page.text
    body = c.get(f"/api/patients/{pid}/insights").json()
    assert body["analysed_periods"][0]["earliest_entry"] == "1900-01-01"
    for kind in PICTURES:
        assert c.get(f"/insights/{kind}.png").status_code == 200
    # a dense diary longer than the window keeps exactly the window
    long = _checkin_diary(pid, [TODAY - dt.timedelta(days=i) for i in range(0, 2400, 1)])
    t = build_day_table(long)
    assert t.height == ANALYSIS_WINDOW_DAYS
    assert t["date"].min() == TODAY - dt.timedelta(days=ANALYSIS_WINDOW_DAYS - 1)


def _checkin_diary(pid: str, dates: list[dt.date]) -> Any:
    """A diary of daily check-ins on ``dates``, in memory."""
    import polars as pl

    from painlink.diary.frames import DiaryFrames

    return DiaryFrames.from_tables(
        patients=pl.DataFrame({"patient_id": [pid]}),
        days=pl.DataFrame(_checkins(pid, dates)["days"]),
    )


def test_an_empty_diary_among_a_cohort_gets_its_own_message() -> None:
    import warnings

    import polars as pl

    from painlink.analysis.report import NOTHING_YET, analyze
    from painlink.diary.frames import DiaryFrames
    from painlink.simulate.simulator import simulate
    from painlink.simulate.spec import SimulationSpec

    cohort = DiaryFrames.concat(part for part, _ in simulate(SimulationSpec(patients=25, days=60)))
    empty = DiaryFrames.from_tables(patients=pl.DataFrame({"patient_id": ["NEW"]}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = analyze(DiaryFrames.concat([cohort, empty]))
    assert report.messages == {"NEW": NOTHING_YET}
    assert report.text("NEW") == f"── NEW ──\n{NOTHING_YET}"
    assert NOTHING_YET not in report.text(cohort.patient_ids()[0])


def test_n_of_1_experiments_answer_empty_and_attack_free_diaries() -> None:
    import math

    import polars as pl

    from painlink.analysis.nof1 import analyze_experiment, design_experiment
    from painlink.days.day_table import build_day_table
    from painlink.diary.frames import DiaryFrames

    def diary(**tables: Any) -> DiaryFrames:
        return DiaryFrames.from_tables(patients=pl.DataFrame({"patient_id": ["p"]}), **tables)

    with pytest.raises(ValueError, match="no diary days yet"):
        design_experiment(build_day_table(diary()), "no coffee", TODAY)
    start = TODAY - dt.timedelta(days=120)
    quiet = build_day_table(
        diary(days=pl.DataFrame(_checkins("p", _days_back(200))["days"]))
    )  # check-ins only: never an attack
    design = design_experiment(quiet, "no coffee", start, seed=1)
    assert 0 <= design.power <= 1 and design.baseline_attacks_per_28d == 0
    result = analyze_experiment(quiet, design)
    assert all(math.isfinite(v) for v in (result.rate_ratio, result.ci_low, result.ci_high))
    assert result.attacks_on == result.attacks_off == 0 and "No clear difference" in result.message


def test_an_unscorable_stored_questionnaire_does_not_stop_the_analysis() -> None:
    """A stored HIT-6 answer outside its choices (4 is not 6/8/10/11/13) is left out of
    the outcomes; the NDI before and during the same treatment is still compared."""
    import polars as pl

    from painlink.analysis.report import analyze
    from painlink.diary.frames import DiaryFrames

    start = TODAY - dt.timedelta(days=60)
    ndi = [
        {"patient_id": "p", "completed_on": on, "instrument": "ndi", "item": f"ndi-{i}", "value": v}
        for on, v in ((start - dt.timedelta(days=5), 3.0), (TODAY, 1.0))
        for i in range(1, 11)
    ]
    odd = [
        {"patient_id": "p", "completed_on": TODAY, "instrument": "hit6", "item": f"hit6-{i}"}
        | {"value": 4.0}
        for i in range(1, 7)
    ]
    diary = DiaryFrames.from_tables(
        patients=pl.DataFrame({"patient_id": ["p"]}),
        questionnaire_items=pl.DataFrame(ndi + odd),
        treatments=pl.DataFrame(_treatment("p", start)["treatments"]),
    )
    rows = analyze(diary).outcomes.table
    assert rows.filter(pl.col("endpoint") == "ndi")["score_change"].to_list() == [-20.0]
    assert rows.filter(pl.col("endpoint") == "hit6").height == 0


def test_each_picture_of_an_empty_diary_says_not_enough_data_on_itself() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import polars as pl

    from painlink.analysis.report import analyze
    from painlink.diary.frames import DiaryFrames

    report = analyze(DiaryFrames.from_tables(patients=pl.DataFrame({"patient_id": ["p"]})))
    for kind in PICTURES:
        fig = getattr(report, kind).plot("p")
        words = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
        plt.close(fig)
        assert words.startswith("Not enough data yet"), (kind, words)


def _random_diary(data: Any) -> Any:
    """A small diary drawn by Hypothesis: any subset of tables, few rows, dates anywhere
    from 1900 to today, open and zero-length attacks, treatments with and without an end."""
    import polars as pl
    from hypothesis import strategies as st

    from painlink.diary.frames import DiaryFrames

    span = data.draw(st.sampled_from([1, 3, 30, 120, 400, (TODAY - dt.date(1900, 1, 1)).days]))
    day = st.integers(0, span - 1).map(lambda k: TODAY - dt.timedelta(days=k))
    moment = st.tuples(day, st.integers(0, 23)).map(lambda t: _at(t[0], t[1]))
    tables: dict[str, pl.DataFrame] = {}
    dates = data.draw(st.sets(day, max_size=40))
    if dates:
        tables["days"] = pl.DataFrame(
            [
                {
                    "patient_id": "p",
                    "date": d,
                    "stress": data.draw(st.sampled_from([None, 0, 5, 10])),
                    "sleep_hours": data.draw(st.sampled_from([None, 0.0, 7.0, 24.0])),
                    "menstruation": data.draw(st.sampled_from([None, "none", "heavy"])),
                    "neck_pain": data.draw(st.sampled_from([None, 0, 8])),
                }
                for d in sorted(dates)
            ],
            infer_schema_length=None,
        )
    starts = data.draw(st.sets(moment, max_size=25))
    if starts:
        hours = st.sampled_from([None, 0, 1, 5, 30, 100])
        rows = []
        for i, s in enumerate(sorted(starts)):
            length = data.draw(hours)
            rows.append(
                {
                    "patient_id": "p",
                    "attack_id": f"a{i}",
                    "start": s,
                    "end": None if length is None else s + dt.timedelta(hours=length),
                    "intensity": data.draw(st.sampled_from([None, 0, 1, 3])),
                    "nausea": data.draw(st.sampled_from([None, True, False])),
                    "aura": data.draw(st.sampled_from([None, True])),
                }
            )
        tables["attacks"] = pl.DataFrame(rows, infer_schema_length=None)
    taken = data.draw(st.sets(moment, max_size=8))
    if taken:
        tables["medications"] = pl.DataFrame(
            [{"patient_id": "p", "taken_at": t, "drug": "x", "class": "triptan"} for t in taken]
        )
    spine = data.draw(st.sets(moment, max_size=8))
    if spine:
        tables["spine_pain"] = pl.DataFrame(
            [{"patient_id": "p", "start": t, "region": "lumbar", "nrs": 6} for t in spine]
        )
    begun = data.draw(st.sets(day, max_size=3))
    if begun:
        tables["treatments"] = pl.DataFrame(
            [
                {
                    "patient_id": "p",
                    "name": f"t{i}",
                    "kind": "other",
                    "start": d,
                    "end": data.draw(st.sampled_from([None, TODAY])),
                }
                for i, d in enumerate(begun)
            ]
        )
    return DiaryFrames.from_tables(patients=pl.DataFrame({"patient_id": ["p"]}), **tables)


@pytest.mark.slow
def test_any_small_diary_gets_every_analysis_and_picture_without_an_exception() -> None:
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from painlink.analysis.report import analyze
    from painlink.clinical.classify import classify
    from painlink.days.day_table import ANALYSIS_WINDOW_DAYS, build_day_table

    @settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.data())
    def check(data: Any) -> None:
        diary = _random_diary(data)
        assert build_day_table(diary).height <= ANALYSIS_WINDOW_DAYS
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            classify(diary).as_dict()
            report = analyze(diary)
            report.as_dict()
            report.text("p")
            for kind in PICTURES:
                plt.close(getattr(report, kind).plot("p"))

    check()


def test_cohort_forecast_priors_refit_only_when_data_was_added() -> None:
    """Two groups recorded 125 years apart: the pooled prior is refitted only at grid
    dates where days were added (about 2 × 8 here), not at each of the ~1,640 four-week
    steps between them — the forecast's work follows the data, not the calendar."""
    from painlink.analysis.forecast import _cohort_priors, _features
    from painlink.analysis.report import _days
    from painlink.diary.frames import DiaryFrames
    from painlink.simulate.simulator import simulate
    from painlink.simulate.spec import SimulationSpec

    def group(start: dt.date, prefix: str) -> DiaryFrames:
        spec = SimulationSpec(patients=12, days=200, seed=5, start=start, id_prefix=prefix)
        return DiaryFrames.concat(part for part, _ in simulate(spec))

    diary = DiaryFrames.concat(
        [group(dt.date(1900, 1, 1), "OLD"), group(dt.date(2025, 1, 1), "NEW")]
    )
    frame, names = _features(_days(diary))
    priors = _cohort_priors(frame, names)
    assert len(priors) > 1500  # every grid date after the first fit has a prior
    assert len({id(coef) for coef in priors.values()}) <= 2 * (200 // 28 + 1)


def test_tension_type_frequency_counts_days_inside_the_analysis_window() -> None:
    """100 tension-type episodes in 2015 and 12 in the last 120 days: the frequency is
    12 days in the 120 analysed, not 112 squeezed into them."""
    import polars as pl

    from painlink.clinical.classify import classify
    from painlink.diary.frames import DiaryFrames

    old = [dt.date(2015, 1, 1) + dt.timedelta(days=i) for i in range(0, 200, 2)]
    recent = [TODAY - dt.timedelta(days=i) for i in range(0, 120, 10)]
    tth = {
        "intensity": 1,
        "side": "bilateral",
        "quality": "pressing",
        "aggravated_by_activity": False,
        "nausea": False,
        "vomiting": False,
        "photophobia": False,
        "phonophobia": False,
    }
    attacks = [
        {"patient_id": "p", "attack_id": f"a{i}", "start": _at(d, 9), "end": _at(d, 13)} | tth
        for i, d in enumerate(old + recent)
    ]
    diary = DiaryFrames.from_tables(
        patients=pl.DataFrame({"patient_id": ["p"]}),
        attacks=pl.DataFrame(attacks),
        days=pl.DataFrame(_checkins("p", _days_back(120))["days"]),
    )
    frequent = next(d for d in classify(diary).diagnoses if d.code == "2.2")
    evidence = frequent.criteria[0].evidence
    assert "12 days with one in the 120 diary days analysed" in evidence
    assert "3.0 days/month" in evidence
