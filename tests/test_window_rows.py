"""The calendar's rows, selected by the database, are the rows it used to filter in Python."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import sqlalchemy as sa

from painlink.simulate.simulator import simulate
from painlink.simulate.spec import SimulationSpec
from painlink.store import tables as t
from painlink.store.diary_io import WINDOW_COLUMNS, _specs, read_rows, read_window_rows
from painlink.store.store import Store


def _window_rows(
    rows: dict[str, list[tuple[Any, ...]]], first: dt.date, last: dt.date
) -> dict[str, list[tuple[Any, ...]]]:
    """The stored rows in a month grid's window (what the grid can depend on), filtered
    here from a whole diary's rows: the reference that :func:`read_window_rows` (the same
    rows, selected by the database) is tested against."""
    lo, hi = first.isoformat(), last.isoformat()
    out: dict[str, list[tuple[Any, ...]]] = {}
    kept_attacks: set[Any] = set()
    for name, table_rows in rows.items():
        column = WINDOW_COLUMNS.get(name)
        if column is None:
            out[name] = table_rows
            continue
        i = list(_specs(name)).index(column)
        out[name] = [r for r in table_rows if r[i] is not None and lo <= str(r[i])[:10] <= hi]
        if name == "attacks":
            a = list(_specs(name)).index("attack_id")
            kept_attacks = {r[a] for r in out[name]}
    if "aura_symptoms" in rows:
        a = list(_specs("aura_symptoms")).index("attack_id")
        out["aura_symptoms"] = [r for r in rows["aura_symptoms"] if r[a] in kept_attacks]
    return out


def test_a_months_rows_from_the_database_match_the_whole_diary_filtered(db_url: str) -> None:
    """Every table, including attacks starting at 00:00 on the first day and 23:59 on
    the last (kept) and at 23:59 the day before (dropped), with their aura symptoms."""
    store = Store(db_url)
    store.init()
    diary, _ = next(simulate(SimulationSpec(patients=3, days=120, seed=3)))
    store.write(diary)
    pid = diary.patient_ids()[0]
    first, last = dt.date(2025, 2, 22), dt.date(2025, 3, 31)
    with store.writing() as conn:
        for n, start in enumerate(
            [
                dt.datetime(2025, 2, 21, 23, 59),
                dt.datetime(2025, 2, 22),
                dt.datetime(2025, 3, 31, 23, 59, 59),
            ]
        ):
            conn.execute(
                t.attacks.insert().values(
                    patient_id=pid, attack_id=f"EDGE{n}", start=start, intensity=2
                )
            )
            conn.execute(
                t.aura_symptoms.insert().values(patient_id=pid, attack_id=f"EDGE{n}", type="visual")
            )
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        rows = read_rows(conn, [pid])
        whole = _window_rows(rows, first, last)
        window = read_window_rows(conn, pid, first, last)
        empty = read_window_rows(conn, pid, dt.date(1990, 1, 1), dt.date(1990, 1, 31))
    engine.dispose()
    assert set(window) == set(whole)
    for name in whole:  # same rows, in whatever order the database returned them
        assert Counter(window[name]) == Counter(whole[name]), name
    attack_ids = {r[1] for r in window["attacks"]}
    assert {"EDGE1", "EDGE2"} <= attack_ids and "EDGE0" not in attack_ids
    assert window["days"] and len(window["days"]) < len(rows["days"])  # the month, not the diary
    assert empty["attacks"] == [] and empty["aura_symptoms"] == [] and empty["days"] == []
    assert empty["patients"] == window["patients"]  # undated tables come whole
