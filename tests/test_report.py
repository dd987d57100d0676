"""The report for the doctor: every page rendered to PNG and its text read back from
the PDF, for the numbers the analyses give for the same diary.

Three diaries, as a clinician would meet them: a simulated year; a diary built from
the real exports of other apps (Migraine Buddy, Apple Health, Clue) through
painlink's importers; and a patient with medication overuse and an open red flag.
The PDF's text is read with poppler's ``pdftotext`` and its pages drawn with
``pdftoppm`` (Debian's poppler-utils, installed by scripts/test).
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest

from painlink.diary.frames import DiaryFrames
from painlink.services import report as reports
from painlink.simulate.simulator import simulate
from painlink.simulate.spec import SimulationSpec

TODAY = dt.date(2026, 1, 10)
#: every heading page 1 must hold (the issue's item 2, on one page)
PAGE_ONE_HEADINGS = (
    "Headache diary report",
    "Diary completeness",
    "How days are counted",
    "Red flags",
    "Diagnoses (ICHD-3",
    "Migraine, headache and acute-medication days per 28 days",
    "Acute medication against ICHD-3 8.2 limits",
    "Questionnaires",
    "Treatments and outcome",
    "Triggers and protectors",
    "Neck and back",
    "Topics worth discussing",
    "Self-reported diary data; not a diagnosis",
)

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="poppler-utils (pdftotext, pdftoppm) not installed: scripts/test installs it",
)


def pages_text(pdf: bytes, folder: Path) -> list[str]:
    """Each page's text (pdftotext, reading order), after drawing every page to a PNG
    (pdftoppm) and checking each drawing is a real page."""
    path = folder / "report.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    found = re.search(r"Pages:\s+(\d+)", info.stdout)
    assert found
    count = int(found.group(1))
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(path), str(folder / "page")], check=True)
    pngs = sorted(folder.glob("page-*.png"))
    assert len(pngs) == count
    assert all(p.stat().st_size > 2_000 for p in pngs)  # drawn, not blank
    return [
        subprocess.run(
            ["pdftotext", "-f", str(i), "-l", str(i), str(path), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for i in range(1, count + 1)
    ]


def flat(text: str) -> str:
    """Text with line breaks and runs of spaces as one space (a PDF wraps anywhere)."""
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def year() -> DiaryFrames:
    return DiaryFrames.concat(
        part for part, _ in simulate(SimulationSpec(patients=1, days=365, seed=3))
    )


def _taken_13_days_a_month(
    diary: DiaryFrames, pid: str, first: dt.date, days: int, drug: tuple[str, str, float]
) -> pl.DataFrame:
    """Medication rows for ``drug`` (name, class, mg) at 09:00 on 13 days of every 30:
    overuse of that class by ICHD-3 8.2's day counts."""
    name, drug_class, dose = drug
    return pl.DataFrame(
        {
            "patient_id": pid,
            "taken_at": [
                dt.datetime.combine(first + dt.timedelta(days=i), dt.time(9))
                for i in range(days)
                if i % 30 < 13
            ],
            "drug": name,
            "drug_class": drug_class,
            "dose": dose,
            "dose_unit": "mg",
            "relief_2h": "partial",
            "attack_id": None,
        }
    ).cast(diary.medications.schema)  # type: ignore[arg-type]


def overuse_and_red_flag() -> DiaryFrames:
    """A simulated half year with a triptan on 13 days of every 30 and one attack that
    peaked within a minute (thunderclap: an emergency red flag)."""
    d = DiaryFrames.concat(
        part for part, _ in simulate(SimulationSpec(patients=1, days=200, seed=8, id_prefix="MOH"))
    )
    pid = d.patient_ids()[0]
    first = d.days["date"].min()
    assert isinstance(first, dt.date)
    extra = _taken_13_days_a_month(d, pid, first, 200, ("sumatriptan", "triptan", 50.0))
    last = pl.col("start") == pl.col("start").max()
    attacks = d.attacks.with_columns(
        pl.when(last).then(0.5).otherwise(pl.col("onset_to_peak_min")).alias("onset_to_peak_min")
    )
    return DiaryFrames.from_tables(
        **{
            **dict(d.items()),
            "medications": pl.concat([d.medications, extra]),
            "attacks": attacks,
        }
    )


@needs_poppler
def test_page_one_holds_every_section_and_the_analyses_numbers(
    year: DiaryFrames, tmp_path: Path
) -> None:
    from painlink.analysis.report import analyze
    from painlink.clinical.classify import classify

    pid = year.patient_ids()[0]
    made = reports.build(year, pid, TODAY)
    pages = pages_text(reports.pdf(made), tmp_path)
    one = flat(pages[0])
    for heading in PAGE_ONE_HEADINGS:
        assert heading in one, heading
    # who, the period and completeness
    assert "Ben (simulated)" in one and "Period 2025-01-01 to 2025-12-31 (365 days)" in one
    assert re.search(r"\d+ of 365 days recorded \(\d+%\)", one)
    # every 30-day block of the classification, as migraine days per 28 days: read with
    # the page's layout kept, since a reading-order extraction interleaves the table's
    # rows with the column beside it
    result = classify(reports.limit(year.only([pid]), made.page.start, made.page.end))
    laid_out = subprocess.run(
        ["pdftotext", "-layout", "-f", "1", "-l", "1", str(tmp_path / "report.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for m in result.months:
        rate = m["migraine_days"] * 28 / m["days"]
        assert re.search(rf"{m['month_start']}\s+{rate:.1f}\s", laid_out), m["month_start"]
    # each met ICHD-3 diagnosis by code
    for d in result.diagnoses:
        if d.status == "met":
            assert f"{d.code} {d.name}" in one
    # the treatment's rate ratio and interval, as the outcome analysis gives them
    table = analyze(reports.limit(year, made.page.start, made.page.end)).outcomes.table
    row = table.filter(pl.col("endpoint") == "migraine_days").row(0, named=True)
    assert (
        f"rate ratio {row['rate_ratio']:.2f} (95% CI {row['ci_low']:.2f}–{row['ci_high']:.2f})"
        in one
    )
    # every page: the disclaimer, its number of the total, and whose report it is
    for i, text in enumerate(pages, 1):
        page = flat(text)
        assert "Self-reported diary data; not a diagnosis" in page
        assert f"Page {i} of {len(pages)}" in page
        assert "Ben (simulated)" in page
    # the detail pages follow page 1, each section once
    rest = flat(" ".join(pages[1:]))
    for heading in (
        "Month calendars",
        "Attacks",
        "Medication by class",
        "Triggers and protectors (forest plot)",
        "Neck and back pain around attacks",
        "Questionnaire history",
        "Treatment response",
    ):
        assert heading in rest, heading
    assert f"{year.attacks.height} attacks in the period" in rest or "The newest" in rest


@needs_poppler
def test_red_flags_come_first_and_overuse_is_a_topic(tmp_path: Path) -> None:
    diary = overuse_and_red_flag()
    made = reports.build(diary, diary.patient_ids()[0], TODAY)
    one = flat(pages_text(reports.pdf(made), tmp_path)[0])
    flag = "Sudden (thunderclap) onset"
    assert flag in one
    assert one.index("Red flags") < one.index(flag) < one.index("Diagnoses (ICHD-3")
    topics = one[one.index("Topics worth discussing") :]
    assert topics.index("Open red flag") < topics.index("Acute medication (triptan) on 13 days")
    assert "at or above the ICHD-3 8.2.2 limit of 10 days/month" in topics
    # one class is overused: 8.2.6 (several classes together) is not raised as well
    assert "any acute class together) on" not in topics


@needs_poppler
def test_the_fullest_page_one_still_fits_one_page(year: DiaryFrames, tmp_path: Path) -> None:
    """A year with everything page 1 can hold at once: a red flag, overuse of one class
    and of all together, two treatments, all four questionnaires twice, triggers and a
    neck link — page 1 still ends with its topics and its disclaimer."""
    pid = year.patient_ids()[0]
    first = year.days["date"].min()
    assert isinstance(first, dt.date)
    ibuprofen = _taken_13_days_a_month(
        year, pid, first, 365, ("ibuprofen", "non_opioid_analgesic", 400.0)
    )
    last = pl.col("start") == pl.col("start").max()
    rows = []
    for on, base in ((dt.date(2025, 2, 1), 3), (dt.date(2025, 11, 1), 1)):
        rows += [(pid, on, "midas", f"midas-{i}", float(base * 3), "me") for i in range(1, 6)]
        for key in ("ndi", "odi"):
            rows += [(pid, on, key, f"{key}-{i}", float(base), "me") for i in range(1, 11)]
    items = pl.DataFrame(rows, schema=list(year.questionnaire_items.columns), orient="row")
    second = year.treatments.with_columns(
        pl.lit("Erenumab").alias("name"), pl.lit(dt.date(2025, 9, 1)).alias("start")
    )
    full = DiaryFrames.from_tables(
        **{
            **dict(year.items()),
            "medications": pl.concat([year.medications, ibuprofen]),
            "attacks": year.attacks.with_columns(
                pl.when(last)
                .then(0.5)
                .otherwise(pl.col("onset_to_peak_min"))
                .alias("onset_to_peak_min")
            ),
            "questionnaire_items": pl.concat(
                [year.questionnaire_items, items.cast(year.questionnaire_items.schema)]
            ),
            "treatments": pl.concat([year.treatments, second]),
        }
    )
    made = reports.build(full, pid, TODAY)
    page = made.page
    assert page.red_flags and len(page.treatments) == 2 and len(page.overuse) == 3
    assert all(q["responses"] for q in page.questionnaires) and len(page.topics) >= 6
    pages = pages_text(reports.pdf(made), tmp_path)
    one = flat(pages[0])
    for heading in PAGE_ONE_HEADINGS:
        assert heading in one, heading
    assert (
        flat(pages[1])
        .split("Headache diary report (painlink)")[-1]
        .lstrip()
        .startswith("Month calendars")
    )
    for topic in page.topics:
        assert flat(topic)[:60] in one, topic


@needs_poppler
def test_three_weeks_of_diary_is_counted_not_called_empty(
    year: DiaryFrames, tmp_path: Path
) -> None:
    short = reports.limit(year, dt.date(2025, 12, 10), dt.date(2025, 12, 30))
    made = reports.build(short, short.patient_ids()[0], TODAY)
    pages = pages_text(reports.pdf(made), tmp_path)
    one = flat(pages[0])
    assert "No diary days in this period" not in one
    assert "21 days of diary, counted together" in one
    assert "Only 21 days of diary" in one  # a topic: too short for a monthly rate
    for heading in PAGE_ONE_HEADINGS:
        assert heading in one, heading
    rest = flat(" ".join(pages[1:]))
    # one attack is not drawn as "100% of attacks", nor is an empty forest plot drawn
    assert "at least 5 are needed" in rest and "100%" not in rest
    assert "Not enough data in this period for the trigger analysis" in rest
    assert made.forest_svg == "" and made.spine_svg == ""
    # no treatment: the default report has no letter page, one asked for says why
    assert "Treatment response" not in rest
    asked = reports.build(short, short.patient_ids()[0], TODAY, sections=("letter",))
    assert "no treatment to assess" in reports.html(asked)


@needs_poppler
def test_a_diary_from_other_apps_real_exports(external: Path, tmp_path: Path) -> None:
    """Migraine Buddy's attack, Apple Health's days and Clue's cycle, imported by
    painlink into one patient's diary, reported for the period that holds them."""
    from painlink.services.importing import import_diary
    from painlink.store.store import Store

    store = Store(f"sqlite:///{tmp_path / 'ext.db'}")
    store.init()
    for app, path in (
        ("clue", external / "bitmask-migraine-diary" / "ClueBackup-2020-03-06.cluedata.json"),
        ("apple-health", external / "apple-health" / "export6s3sample.xml"),
        ("migraine-buddy", external / "migraine-buddy" / "migraine_buddy_sample.csv"),
    ):
        import_diary(store, path, app=app, patient_id="EXT", time_zone="UTC")
    diary = store.read(["EXT"])
    # the Clue year: bleeding days marked on the calendars
    made = reports.for_patient(
        store, "EXT", start=dt.date(2019, 3, 1), end=dt.date(2020, 2, 29), today=TODAY
    )
    (tmp_path / "clue").mkdir()
    pages = pages_text(reports.pdf(made), tmp_path / "clue")
    bleeding = diary.days.filter(
        pl.col("date").is_between(dt.date(2019, 3, 1), dt.date(2020, 2, 29))
        & pl.col("menstruation").is_in(["spotting", "light", "medium", "heavy", "unspecified"])
    ).height
    assert bleeding > 0
    calendars = flat(" ".join(pages[1:]))
    assert calendars.count("●") >= bleeding  # every bleeding day marked (+1 in the legend)
    one = flat(pages[0])
    days = made.page.days_recorded
    assert f"{days} of 366 days recorded" in one
    # the Migraine Buddy attack: in the attack table with its start as exported
    made = reports.for_patient(store, "EXT", today=TODAY)
    attack = diary.attacks.row(0, named=True)
    (tmp_path / "mb").mkdir()
    pages = pages_text(reports.pdf(made), tmp_path / "mb")
    assert attack["start"].strftime("%Y-%m-%d %H:%M") in flat(" ".join(pages[1:]))
    assert "1 attack in the period" in flat(" ".join(pages))


def test_first_page_fragment_is_self_contained_and_scoped(year: DiaryFrames) -> None:
    made = reports.build(year, year.patient_ids()[0], TODAY, sections=("summary",))
    fragment = reports.first_page_html(made)
    assert fragment.startswith("<style>") and '<div class="plr-p1">' in fragment
    css = re.sub(
        r"/\*.*?\*/", "", fragment[len("<style>") : fragment.index("</style>")], flags=re.S
    )
    selectors = [s.strip() for s in re.findall(r"(?:^|})\s*([^{}@]+)\{", css)]
    assert selectors and all(
        part.strip().startswith(".plr-p1") for s in selectors for part in s.split(",")
    ), selectors
    assert "<html" not in fragment and "<body" not in fragment
    for heading in PAGE_ONE_HEADINGS[3:]:
        assert heading in fragment, heading


@needs_poppler
def test_the_letter_prints_the_rule_it_checks(year: DiaryFrames, tmp_path: Path) -> None:
    pid = year.patient_ids()[0]
    made = reports.build(year, pid, TODAY, sections=("letter",))
    pages = pages_text(reports.pdf(made), tmp_path)
    assert len(pages) == 1  # one page
    text = flat(pages[0])
    letter = made.letter
    assert letter is not None
    t = letter["treatment"]
    assert f"Treatment response: {t['treatment']}" in text
    assert "Rule checked: ≥50% reduction in monthly migraine days from baseline" in text
    assert "European Headache Federation" in text
    assert f"{t['before_migraine']:.1f}" in text and f"{t['during_migraine']:.1f}" in text
    reduction = (t["before_migraine"] - t["during_migraine"]) / t["before_migraine"]
    assert f"Reduction in monthly migraine days: {reduction:.0%}" in text
    met = "the reduction meets the rule" if reduction >= 0.5 else "does not meet the rule"
    assert met in text
    # the attacks themselves: duration and intensity with their intervals, on the same page
    assert t["attack_changes"] and "Attack duration: typically" in text
    assert "times as long (95% CI" in text and "Attack intensity (0–3): mean" in text


@needs_poppler
def test_the_letters_attack_changes_are_a_list_and_the_fullest_letter_fits_a_page(
    year: DiaryFrames, tmp_path: Path
) -> None:
    """Duration and intensity each on a line of their own (run into one paragraph, two
    "Attack …: …" clauses read as one), and a letter with every optional sentence — a
    chronic diary, short periods, a peak at the start, a long treatment name — still
    fits on its one page."""
    made = reports.build(year, year.patient_ids()[0], TODAY, sections=("letter",))
    assert made.letter is not None
    t = made.letter["treatment"]
    assert len(t["attack_changes"]) == 2
    page = reports.html(made)
    assert "<li>Attack duration: typically" in page and "<li>Attack intensity (0–3)" in page
    t["treatment"] = "Onabotulinumtoxin A 155 units every 12 weeks (PREEMPT protocol)"
    t["rtm_warning"] = True
    made.letter.update(chronic=True, short_baseline=True, short_treatment=True)
    pages = pages_text(reports.pdf(made), tmp_path)
    assert len(pages) == 1, [p[:80] for p in pages]
    assert "regression to the mean" in flat(pages[0])


def test_sections_and_periods_are_checked() -> None:
    assert reports.parse_sections("letter, summary") == ("summary", "letter")
    assert reports.parse_sections(None) == reports.SECTIONS
    with pytest.raises(reports.ReportError, match="unknown section"):
        reports.parse_sections("summary,<script>")
    d = DiaryFrames.empty()
    with pytest.raises(reports.ReportError, match="starts"):
        reports.period(d, TODAY, dt.date(2025, 6, 1), dt.date(2025, 1, 1))
    # an end in the future is today; a start before 1900 is 1900
    start, end = reports.period(d, TODAY, dt.date(1066, 1, 1), dt.date(9999, 12, 31))
    assert (start, end) == (dt.date(1900, 1, 1), TODAY)


def test_a_period_keeps_only_its_entries(year: DiaryFrames) -> None:
    part = reports.limit(year, dt.date(2025, 3, 1), dt.date(2025, 3, 31))
    assert part.attacks.height and part.attacks["start"].dt.month().unique().to_list() == [3]
    assert part.days["date"].min() >= dt.date(2025, 3, 1)  # type: ignore[operator]
    assert set(part.aura_symptoms["attack_id"]) <= set(part.attacks["attack_id"])


def test_a_name_is_text_never_markup(year: DiaryFrames) -> None:
    """A display name full of markup is printed as the characters typed."""
    pid = year.patient_ids()[0]
    name = '<script>alert(1)</script> & "Eve" ' + "x" * 300
    hostile = DiaryFrames.from_tables(
        **{
            **dict(year.items()),
            "patients": year.patients.with_columns(pl.lit(name).alias("display_name")),
        }
    )
    made = reports.build(hostile, pid, TODAY, sections=("summary",))
    html = reports.html(made)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;Eve&#34;" in html
    assert reports.pdf(made).startswith(b"%PDF")  # a long name wraps, nothing breaks


def test_the_letter_checks_chronic_migraine_against_30_percent(year: DiaryFrames) -> None:
    import dataclasses

    from painlink.services.report import details

    made = reports.build(year, year.patient_ids()[0], TODAY, sections=("summary",))
    episodic = details.letter(made.page)
    assert episodic is not None and episodic["rule"].reduction == 0.5
    chronic_page = dataclasses.replace(
        made.page,
        diagnoses=[*made.page.diagnoses, {"code": "1.3", "name": "Chronic migraine"}],
    )
    chronic = details.letter(chronic_page)
    assert chronic is not None and chronic["rule"].reduction == 0.3
    assert chronic["met"] == (chronic["reduction"] >= 0.3)
    assert details.letter(made.page, "no such treatment") is None


def test_page_one_names_only_calls_never_a_factor_not_recorded_or_explained() -> None:
    """Page 1's "data-supported" triggers are the calls alone: a person with one call
    and several unrecorded variables used to get "exercise: not recorded" among them
    (only "no association" and "not enough data" were left out)."""
    from types import SimpleNamespace

    from painlink.services.report.model import _triggers

    verdicts = pl.DataFrame(
        {
            "patient_id": ["P"] * 5,
            "factor": ["more stress", "exercise", "any alcohol", "caffeine", "sleep"],
            "verdict": [
                "likely trigger",
                "not recorded",
                "explained by other records",
                "no association",
                "not enough data",
            ],
            "odds_ratio": [1.8, None, 1.5, 1.1, None],
            "ci_low": [1.2, None, 1.1, 0.8, None],
            "ci_high": [2.7, None, 2.0, 1.5, None],
            "lag": [1, None, 1, 1, None],
        }
    )
    report = SimpleNamespace(triggers=SimpleNamespace(to_frame=lambda pid: verdicts))
    named = _triggers(report, "P")  # type: ignore[arg-type]
    assert [t["verdict"] for t in named] == ["likely trigger"]


def test_page_one_says_neck_pain_was_not_recorded_rather_than_no_link() -> None:
    """A region never recorded is said to be "not recorded"; the page must not fall back
    to "no link found in the diary", which claims an absence the diary cannot show."""
    from types import SimpleNamespace

    from painlink.services.report.model import _spine

    rows = pl.DataFrame({"region": ["neck", "low_back"], "verdict": ["not recorded"] * 2})
    report = SimpleNamespace(spine=SimpleNamespace(to_frame=lambda pid: rows))
    said = _spine(report, "P")  # type: ignore[arg-type]
    assert said == ["Neck pain: not recorded.", "Low back pain: not recorded."]
