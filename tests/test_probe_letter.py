"""The report keeps two courses of one treatment apart.

Found by probing: a preventive stopped and begun again under the same name (topiramate
50 mg from 1 Feb to 1 Mar, again from 1 Apr) has one outcome comparison per course,
but the report merged them by name. Page 1 and the treatment letter then said
"topiramate 50 mg was started on 2025-02-01" over the migraine-day rates of the course
begun on 1 April — one course's date with the other's numbers, in a letter meant for
the doctor. Each course is now its own row, and the letter is about the latest one.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from painlink.analysis.report import analyze
from painlink.services import report as reports
from painlink.simulate.output import run_simulation
from painlink.simulate.spec import SimulationSpec
from painlink.store.store import Store
from painlink.store.tables import treatments

FIRST, AGAIN = dt.date(2025, 2, 1), dt.date(2025, 4, 1)
NAME = "topiramate 50 mg"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    folder = tmp_path_factory.mktemp("twice")
    store = Store(f"sqlite:///{folder / 't.db'}")
    store.init()
    spec = SimulationSpec(patients=1, days=150, seed=3, start=dt.date(2025, 1, 1), id_prefix="T")
    run_simulation(spec, store=store, truth_path=folder / "truth.json")
    with store.writing() as conn:
        conn.execute(treatments.delete())
        for start, end in ((FIRST, dt.date(2025, 3, 1)), (AGAIN, None)):
            conn.execute(
                treatments.insert().values(
                    patient_id="T000001", name=NAME, kind="preventive_drug", start=start, end=end
                )
            )
    return store


def test_each_course_is_its_own_row_and_the_letter_is_about_the_latest(store: Store) -> None:
    outcomes = analyze(store.read(["T000001"])).outcomes.to_frame("T000001")
    rates = outcomes.filter(pl.col("endpoint") == "migraine_days")
    assert sorted(rates["start"].to_list()) == [FIRST, AGAIN]  # the analysis: two courses
    made = reports.for_patient(
        store, "T000001", start=dt.date(2025, 1, 1), letter_for=NAME, today=dt.date(2025, 6, 1)
    )
    rows = [t for t in made.page.treatments if t["treatment"] == NAME]
    assert sorted(t["start"] for t in rows) == [FIRST, AGAIN]
    for t in rows:  # each row's numbers are its own course's
        own = rates.filter(pl.col("start") == t["start"])
        assert t["before_migraine"] == pytest.approx(own["before_per_28d"][0])
        assert t["during_migraine"] == pytest.approx(own["during_per_28d"][0])
    assert made.letter is not None and made.letter["treatment"]["start"] == AGAIN
    page = reports.html(made)
    assert f"{NAME} was started on {AGAIN}" in page
