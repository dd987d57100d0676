"""Page 1's words, read as a newcomer reads them."""

from __future__ import annotations

import datetime as dt
import re

from painlink.services import report as reports
from tests.test_report import overuse_and_red_flag


def test_the_overuse_legend_says_what_a_bracketed_letter_means() -> None:
    """The table row says "8.2.2 not met (A)": the note under it must say that the letter
    names the criterion not met, not state "(A), (B): not met" as if both always were."""
    d = overuse_and_red_flag()
    made = reports.build(d, d.patient_ids()[0], dt.date(2026, 11, 30), sections=("summary",))
    text = re.sub(r"<[^>]+>", "", reports.first_page_html(made, inline_css=False))
    assert "8.2.2 not met (A)" in text
    assert "(A), (B): not met" not in text
    assert "a letter in brackets names the criterion the diary does not meet" in text


def test_a_one_day_period_says_day_not_days() -> None:
    """A patient who registered today gets a report of one day: "(1 day)", not "(1 days)"."""
    d = overuse_and_red_flag()
    first = d.days["date"].min()
    assert isinstance(first, dt.date)
    made = reports.build(
        d, d.patient_ids()[0], dt.date(2026, 11, 30), start=first, end=first, sections=("summary",)
    )
    text = re.sub(r"<[^>]+>", "", reports.first_page_html(made, inline_css=False))
    assert "(1 day)" in text and "of 1 day recorded" in text, text[:400]
    assert "1 days" not in text
