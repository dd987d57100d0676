"""The neck-and-back body map through HTTP: several places marked in one post become
one ``spine_pain`` row each, sharing one time, each with its own 0–10 and side; bad
values get plain words and store nothing; the page lists entries by their places."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from painlink.diary.vocabulary import SpineRegion
from painlink.store.tables import spine_pain
from tests.test_web import Web, shown


@pytest.fixture
def web(tmp_path: Path) -> Web:
    return Web(tmp_path)


def _rows(w: Web, pid: str) -> list[tuple[str, str | None, float, object]]:
    with w.engine.connect() as conn:
        return [
            (r.region, r.side, r.nrs, r.start)
            for r in conn.execute(
                sa.select(spine_pain)
                .where(spine_pain.c.patient_id == pid)
                .order_by(spine_pain.c.region)
            )
        ]


def test_the_map_draws_every_region_the_analyses_know_in_plain_words(web: Web) -> None:
    c, _pid, _csrf = web.patient("bo")
    page = shown(c.get("/spine").text)
    assert "<svg" in page
    for region in SpineRegion:
        if region is SpineRegion.cervical:  # level unknown: imports only, not on the map
            continue
        assert f'name="pick_{region.value}"' in page and 'type="checkbox"' in page
        assert f'name="nrs_{region.value}"' in page and f'name="side_{region.value}"' in page
    assert "C0" not in page and "cervical" not in page.replace("upper_cervical", "").replace(
        "lower_cervical", ""
    )


def test_several_regions_in_one_post_become_rows_sharing_a_time(web: Web) -> None:
    c, pid, csrf = web.patient("cy")
    r = c.post(
        "/spine",
        data={
            "csrf_token": csrf,
            "pick_upper_cervical": "1",
            "nrs_upper_cervical": "6",
            "side_upper_cervical": "left",
            "pick_lumbar": "1",
            "nrs_lumbar": "3",
            "side_lumbar": "central",
            "nrs_thoracic": "9",  # a score on a place not marked: not saved
        },
    )
    assert r.status_code == 200 and "Saved" in r.text
    rows = _rows(web, pid)
    assert [row[:3] for row in rows] == [
        ("lumbar", "central", 3.0),
        ("upper_cervical", "left", 6.0),
    ]
    assert rows[0][3] == rows[1][3]  # one entry: one time
    # the page lists the entry with its places, in plain words
    listing = r.text.split('id="entries"')[1]
    assert "Upper neck" in listing and "Low back" in listing
    assert re.search(r"Low back[^<]*</span>\s*<span[^>]*>3", listing) or "3/10" in listing


def test_side_is_optional_and_each_region_keeps_its_own(web: Web) -> None:
    c, pid, csrf = web.patient("di")
    r = c.post(
        "/spine",
        data={
            "csrf_token": csrf,
            "pick_thoracic": "1",
            "nrs_thoracic": "4",
            "pick_sacral_pelvic": "1",
            "nrs_sacral_pelvic": "0",
            "side_sacral_pelvic": "bilateral",
        },
    )
    assert r.status_code == 200
    assert [row[:3] for row in _rows(web, pid)] == [
        ("sacral_pelvic", "bilateral", 0.0),
        ("thoracic", None, 4.0),
    ]


def test_bad_values_get_plain_words_and_store_nothing(web: Web) -> None:
    c, pid, csrf = web.patient("ed")
    r = c.post("/spine", data={"csrf_token": csrf})
    assert r.status_code == 400 and 'id="regions-error"' in r.text
    assert "Tap at least one place" in r.text
    r = c.post(
        "/spine",
        data={
            "csrf_token": csrf,
            "pick_lumbar": "1",
            "nrs_lumbar": "11",
            "pick_thoracic": "1",
            "nrs_thoracic": "5",
            "side_thoracic": "upwards",
            "pick_upper_cervical": "1",  # no score
        },
    )
    assert r.status_code == 400
    assert 'id="nrs_lumbar-error"' in r.text and "0 to 10" in r.text
    assert 'id="side_thoracic-error"' in r.text
    assert 'id="nrs_upper_cervical-error"' in r.text
    assert "Input should" not in r.text and "pattern" not in r.text  # no raw messages
    # what was typed is kept, marks included
    assert re.search(r'name="pick_lumbar"[^>]*checked', r.text)
    assert re.search(r'name="nrs_thoracic" value="5"[^>]*checked', r.text)
    r = c.post(
        "/spine", data={"csrf_token": csrf, "pick_head": "1", "nrs_head": "5"}
    )  # not a place on the map
    assert r.status_code == 400 and 'id="regions-error"' in r.text
    r = c.post("/spine", data={"csrf_token": csrf, "pick_lumbar": "1", "nrs_lumbar": "abc"})
    assert r.status_code == 400 and 'id="nrs_lumbar-error"' in r.text
    assert _rows(web, pid) == []


def test_an_empty_diary_lists_no_entries_in_words(web: Web) -> None:
    c, _pid, _csrf = web.patient("fa")
    page = c.get("/spine")
    assert page.status_code == 200 and "Nothing recorded yet" in page.text


def test_the_service_stores_all_places_or_none(web: Web) -> None:
    """The CLI's way in: the schema's own refusal on one place stores no other."""
    from painlink.services.diary import EntryError
    from painlink.services.spine import add_spine_entry, spine_entries

    _c, pid, _csrf = web.patient("gus")
    marks = [{"region": "lumbar", "nrs": 3}, {"region": "thoracic", "nrs": 12, "side": "up"}]
    with web.engine.begin() as conn:
        try:
            add_spine_entry(conn, pid, marks)
        except EntryError as exc:
            assert exc.fields == {
                "nrs_thoracic": "Choose how strong it is, from 0 to 10",
                "side_thoracic": "Choose left, right, both sides or centre",
            }
        else:
            raise AssertionError("a score of 12 was stored")
    assert _rows(web, pid) == []
    with web.engine.begin() as conn:
        start = add_spine_entry(
            conn, pid, [{"region": "lumbar", "nrs": 3}, marks[0] | {"region": "thoracic"}]
        )
        (entry,) = spine_entries(conn, pid)
    assert entry["start"] == start
    assert sorted(p["region"] for p in entry["places"]) == ["lumbar", "thoracic"]
