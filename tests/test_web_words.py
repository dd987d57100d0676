"""Pages a person understands (issue 12, points 9 and 10), over HTTP.

A crawler signs in as a patient with a rich diary (the simulator's, plus own factors
with any Unicode name) and as the clinician, visits every page the router serves, and
fails on internal names (code names, source keys, "lag 1", "[unverified]", patient ids
in chart titles) and on the validator's English ("String should match pattern…").
Forms posted with bad values must answer in plain words. The insights' pictures are
checked as drawn: no code names, text of at least 12 px at 390 px wide, no overlapping
labels, missing days drawn as gaps; the spine chart needs enough attacks, and the
forecast needs a current diary.
"""

from __future__ import annotations

import datetime as dt
import html as html_lib
import itertools
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from painlink.analysis.plotting import PICTURES
from painlink.cli.demo_seed import DEMO_PASSWORD

PATIENT = "patient1@demo.painlink"
CLINICIAN = "clinician@demo.painlink"
PID = "DEMO000001"  # patient1's diary, shared with the clinician

#: names only the code knows; none may reach the words of a page
INTERNAL = [
    re.compile(r"vdarend|ichd_strict|ihs_effective"),  # day-definition keys
    re.compile(r"C0\s*[–-]\s*C2"),  # vertebra levels
    re.compile(r"\blag \d"),
    re.compile(r"\[unverified\]"),
    re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b"),  # snake_case code names (sleep_hours…)
    re.compile(r"\bDEMO\d{6}\b"),  # patient ids
]
#: fragments of pydantic's messages, meant for programmers
PYDANTIC = [
    "should match pattern",
    "String should",
    "Input should",
    "Field required",
    "Value error",
    "validation error",
    "unable to parse",
    "pydantic",
]
#: own factors in any script, and one with markup in its name (escaped, not refused)
OWN_FACTORS = ["Käse", "partner's cooking", "日本酒", "x<b>bold"]


def visible_text(page: str) -> str:
    """The words a person reads: no tags, scripts, styles or attribute values."""
    page = re.sub(r"(?s)<(script|style)\b[^>]*>.*?</\1>", " ", page)
    page = re.sub(r"(?s)<!--.*?-->", " ", page)
    page = re.sub(r"(?s)<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html_lib.unescape(page))


def problems_in(text: str) -> list[str]:
    found = [m.group(0) for p in INTERNAL for m in p.finditer(text)]
    found += [f for f in PYDANTIC if f.lower() in text.lower()]
    return found


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no form token on the page"
    return match.group(1)


@dataclass
class World:
    app: Any
    patient: TestClient
    clinician: TestClient
    attack_id: str
    db: Path


def _login(app: Any, email: str) -> TestClient:
    c = TestClient(app, base_url="https://testserver")
    token = _csrf(c.get("/login").text)
    r = c.post("/login", data={"csrf_token": token, "email": email, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return c


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from painlink.web.app import create_app
    from painlink.web.security import AuthSettings
    from tests.live_server import demo_database

    folder = tmp_path_factory.mktemp("words")
    url = demo_database(folder, "words.db")
    app = create_app(url, auth=AuthSettings(require_totp_for_staff=False))
    patient = _login(app, PATIENT)
    token = _csrf(patient.get("/checkin").text)
    # tracked and answered today (test_own_factors_take_any_name… checks they were kept)
    for name in OWN_FACTORS:
        patient.post(
            "/checkin/factors", data={"csrf_token": token, "name": name, "kind": "boolean"}
        )
    answers = {f"factor__{name}": "1" for name in OWN_FACTORS}
    patient.post("/checkin", data={"csrf_token": token, "sleep_hours": "7", **answers})
    home = patient.get("/home").text
    attack_id = re.search(r'href="/attacks/([^"?#]+)"', home).group(1)  # type: ignore[union-attr]
    yield World(app, patient, _login(app, CLINICIAN), attack_id, folder / "words.db")


def _pages(app: Any, role: str, attack_id: str) -> list[str]:
    """Every HTML page of the router a ``role`` may open, with its path filled in."""
    from tests.test_access_matrix import app_routes

    urls = []
    for _method, path in sorted(app_routes(app, {"GET"})):
        if path.startswith("/api") or path.startswith("/account/export") or path == "/":
            continue  # JSON and downloads, not pages; "/" redirects
        if "{kind}" in path:
            continue  # pictures: test_pictures_* below read their words
        path = path.replace("{attack_id}", attack_id).replace("{patient_id}", PID)
        path = path.replace("{token}", "not-a-token")
        if role == "clinician" and path in ("/calendar", "/insights"):
            path += f"?patient={PID}"
        urls.append(path)
    return urls


@pytest.mark.parametrize("role", ["patient", "clinician"])
def test_no_page_shows_internal_names_or_validator_messages(world: World, role: str) -> None:
    """Every page, as the patient and as the clinician: plain words only."""
    client = world.patient if role == "patient" else world.clinician
    seen, found = 0, {}
    for url in _pages(world.app, role, world.attack_id):
        r = client.get(url)
        if r.status_code != 200 or "text/html" not in r.headers.get("content-type", ""):
            continue
        seen += 1
        if bad := problems_in(visible_text(r.text)):
            found[url] = sorted(set(bad))
    assert seen >= (8 if role == "patient" else 3), f"only {seen} pages answered"
    assert not found, found


def test_own_factors_take_any_name_and_are_escaped_on_the_page(world: World) -> None:
    page = world.patient.get("/checkin").text
    text = visible_text(page)
    for name in OWN_FACTORS:
        assert name in text, name
    assert "x<b>bold" not in page  # markup in a name is shown, never obeyed
    assert "x&lt;b&gt;bold" in page


def _post_errors(client: TestClient, path: str, data: dict[str, str], token_from: str) -> str:
    data = {"csrf_token": _csrf(client.get(token_from).text), **data}
    r = client.post(path, data=data)
    assert r.status_code == 400, (path, r.status_code)
    return " ".join(re.findall(r'class="error"[^>]*>([^<]*)<', r.text))


@pytest.mark.parametrize(
    ("path", "data", "token_from", "want"),
    [
        ("/checkin", {"stress": "11"}, "/checkin", "from 0 to 10"),
        ("/checkin", {"sleep_hours": "-3"}, "/checkin", "Between 0 and 24 hours"),
        ("/checkin/factors", {"name": "=cmd()", "kind": "boolean"}, "/checkin", "letter or a"),
        ("/checkin/factors", {"name": "", "kind": "boolean"}, "/checkin", "fill this in"),
        ("/checkin/factors", {"name": "tea", "kind": "colour"}, "/checkin", "choose one of"),
        ("/spine", {"pick_lumbar": "1", "nrs_lumbar": "12"}, "/spine", "from 0 to 10"),
        ("/spine", {"pick_lumbar": "1", "nrs_lumbar": "3", "side_lumbar": "up"}, "/spine", "left"),
        ("/spine", {"pick_elbow": "1"}, "/spine", "not a place on the map"),
    ],
)
def test_a_refused_value_is_explained_in_plain_words(
    world: World, path: str, data: dict[str, str], token_from: str, want: str
) -> None:
    errors = _post_errors(world.patient, path, data, token_from)
    assert errors, "no error shown"
    assert not [f for f in PYDANTIC if f.lower() in errors.lower()], errors
    assert want in errors, errors


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("intensity", {"intensity": "9"}),
        ("details", {"start": "not a time", "notes": "x"}),
        ("medication", {"drug": "ibuprofen", "dose": "-5", "dose_unit": "furlong"}),
    ],
)
def test_attack_form_errors_are_plain_words(
    world: World, action: str, data: dict[str, str]
) -> None:
    """Whatever the attack page says about a refused value, it says in plain words."""
    url = f"/attacks/{world.attack_id}"
    data = {"csrf_token": _csrf(world.patient.get(url).text), **data}
    r = world.patient.post(f"{url}/{action}", data=data)
    text = visible_text(r.text)
    assert not [f for f in PYDANTIC if f.lower() in text.lower()], text[:600]


# ------------------------------------------------------------------ pictures


def _figure(world: World, kind: str, today: dt.date | None = None, layout: str = "phone") -> Any:
    from painlink.store.store import Store
    from painlink.web import presenters

    store = Store(f"sqlite:///{world.db}")
    with store.engine.connect() as conn:
        return presenters.plot_figure(conn, PID, kind, today, layout)


@pytest.mark.parametrize("layout", ["phone", "wide"])
@pytest.mark.parametrize("kind", PICTURES)
def test_pictures_speak_plainly_are_readable_where_shown_and_do_not_overlap(
    world: World, kind: str, layout: str
) -> None:
    """The phone's picture at 390 px, the desktop's in the narrowest panel it is
    loaded in (charts.WIDE_MIN_PX) and as drawn, just inside the desktop's panel."""
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    from painlink.web import charts

    fig = _figure(world, kind, layout=layout)
    try:
        words = " ".join(t.get_text() for t in fig.findobj(Text) if t.get_visible())
        assert not problems_in(words), problems_in(words)
        if layout == "phone":
            assert charts.smallest_font_px_on_phone(fig) >= 12
        else:
            assert charts.smallest_font_px(fig, charts.WIDE_MIN_PX) >= 12
            assert 0.8 * charts.PANEL_PX <= fig.get_figwidth() * charts.DPI <= charts.PANEL_PX
        assert not charts.overlapping_labels(fig)
    finally:
        plt.close(fig)


def test_the_picture_as_served_is_the_phone_sized_one(world: World) -> None:
    """The PNG the page loads is drawn at the width the text size was worked out for."""
    from painlink.web import charts

    r = world.patient.get("/insights/forecast.png")
    assert r.status_code == 200 and r.content[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(r.content[16:20], "big")
    assert width <= charts.WIDTH_IN * charts.DPI + 1, width


def test_the_desktops_picture_and_the_2x_pixels_are_served_on_request(world: World) -> None:
    """``layout=wide`` is the panel's width, ``density=2`` twice the pixels (the page's
    ``srcset``); anything else is no picture."""
    from painlink.web import charts

    def width(query: str) -> int:
        r = world.patient.get(f"/insights/triggers.png{query}")
        assert r.status_code == 200 and r.content[:8] == b"\x89PNG\r\n\x1a\n", query
        return int.from_bytes(r.content[16:20], "big")

    wide = round(charts.WIDE_WIDTH_IN * charts.DPI)
    assert width("?layout=wide") == wide
    assert width("?layout=wide&density=2") == 2 * wide
    assert width("?density=2") == 2 * round(charts.WIDTH_IN * charts.DPI)
    for query in ("?layout=huge", "?density=3", "?density=x", "?layout="):
        assert world.patient.get(f"/insights/triggers.png{query}").status_code == 404, query


def test_missing_days_are_gaps_in_the_forecast_line_never_zero() -> None:
    from painlink.analysis.forecast import gapped

    days = [dt.date(2026, 1, 1), dt.date(2026, 1, 2), dt.date(2026, 1, 6)]
    xs, ys = gapped(days, [0.1, None, 0.3])
    assert xs == [days[0], days[1], dt.date(2026, 1, 3), days[2]]
    assert ys[0] == 0.1 and math.isnan(ys[1]) and math.isnan(ys[2]) and ys[3] == 0.3
    assert 0.0 not in ys


def test_forecast_line_breaks_where_the_diary_has_no_days(world: World) -> None:
    import matplotlib.pyplot as plt

    fig = _figure(world, "forecast")
    try:
        line = fig.axes[0].get_lines()[0]
        ys = [float(y) for y in line.get_ydata()]
        xs = list(line.get_xdata())
        if len(xs) > 1:
            steps = [(b - a) for a, b in itertools.pairwise(xs)]
            # consecutive points are a day apart; a longer step must end in a NaN
            for i, step in enumerate(steps):
                if getattr(step, "days", 1) > 1:
                    assert math.isnan(ys[i]) or math.isnan(ys[i + 1])
    finally:
        plt.close(fig)


def _new_patient(world: World, name: str) -> tuple[TestClient, str]:
    c = TestClient(world.app, base_url="https://testserver")
    token = _csrf(c.get("/register").text)
    r = c.post(
        "/register",
        data={
            "csrf_token": token,
            "email": f"{name}@example.org",
            "display_name": name,
            "password": "marble fjord cinnamon",
            "time_zone": "Europe/Berlin",
        },
    )
    assert r.status_code == 200, visible_text(r.text)[:300]
    return c, c.get("/api/me").json()["csrf_token"]


def test_no_spine_chart_from_one_attack(world: World) -> None:
    c, token = _new_patient(world, "uma")
    r = c.post("/attacks/start", data={"csrf_token": _csrf(c.get("/home").text)})
    attack = str(r.url).split("/attacks/")[1].split("?")[0]
    c.post(f"/attacks/{attack}/intensity", data={"csrf_token": token, "intensity": "2"})
    c.post("/checkin", data={"csrf_token": token, "neck_pain": "7", "low_back_pain": "6"})
    page = c.get("/insights").text
    assert "/insights/spine.png" not in page
    assert "Not enough" in visible_text(page)


def test_forecast_on_a_stale_diary_says_where_it_stops(world: World) -> None:
    from painlink.store.store import Store
    from painlink.web import presenters

    store = Store(f"sqlite:///{world.db}")
    with store.engine.connect() as conn:
        data = presenters.insights(conn, PID, dt.date.today())
        later = presenters.insights(conn, PID, data["last_day"] + dt.timedelta(days=40))
    assert data["last_day"] is not None
    assert not later["diary_current"]
    # the page: a diary that stopped long ago gets no "chance of an attack tomorrow"
    page = world.patient.get("/insights").text
    text = visible_text(page)
    if not data["diary_current"]:
        assert "Chance of an attack" not in text
        assert f"Your diary stops on {data['last_day']:%-d %b %Y}" in text
        assert "fill it in to get a forecast" in text


def test_forecast_text_follows_the_diary_end(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rendered with a diary that ends 40 days before today: the page says so."""
    from painlink.web import presenters

    real = presenters.insights

    def stale(store: Any, patient_id: str, today: dt.date | None = None) -> dict[str, Any]:
        first = real(store, patient_id)
        return real(store, patient_id, first["last_day"] + dt.timedelta(days=40))

    monkeypatch.setattr(presenters, "insights", stale)
    text = visible_text(world.patient.get("/insights").text)
    assert "Chance of an attack" not in text
    assert "fill it in to get a forecast" in text
    assert "Your diary stops on" in text


def test_the_triggers_picture_counts_in_plain_numbers(world: World) -> None:
    """The log axis of the triggers picture reads "1" and "10", not "10⁰" in maths type,
    and says what the numbers are in plain words."""
    import matplotlib.pyplot as plt

    fig = _figure(world, "triggers")
    try:
        fig.canvas.draw()
        ax = fig.axes[0]
        ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_visible() and t.get_text()]
        assert ticks and not any("$" in t or "^" in t for t in ticks), ticks
        assert "1" in ticks, ticks
        assert "odds ratio" not in ax.xaxis.label.get_text()
    finally:
        plt.close(fig)


@pytest.mark.parametrize("path", ["/calendar", "/insights"])
def test_a_clinician_sees_whose_calendar_and_insights_these_are(world: World, path: str) -> None:
    """The walk of issue 12: the clinician's calendar said only "November 2026"."""
    page = world.clinician.get(f"{path}?patient={PID}").text
    name = re.search(r"<h1>([^<]+)</h1>", world.clinician.get(f"/clinic/patients/{PID}").text)
    assert name is not None
    assert f"· {name.group(1)}</span></h1>" in page
    assert f'href="/clinic/patients/{PID}"' in page
    assert "/clinic/patients/" not in world.patient.get(path).text  # not on the patient's own


def test_pages_name_an_icon_the_app_serves(world: World) -> None:
    """Without one the browser asks for /favicon.ico on every page and logs a 404 (the
    walk of issue 12 saw it in the console of every page)."""
    for path in ("/home", "/login"):
        assert 'rel="icon" href="/static/favicon.svg"' in world.patient.get(path).text
    r = world.patient.get("/static/favicon.svg")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")


def test_a_young_diary_is_told_the_forecast_needs_more_diary(tmp_path: Path) -> None:
    """A diary of one day has no usual attack rate to beat: the walk of issue 12 saw it
    told "it does not yet predict better than your usual attack rate"."""
    from tests.test_web import Web

    c, pid, csrf = Web(tmp_path).patient("nova")
    today = dt.date.today().isoformat()
    r = c.post(
        f"/api/patients/{pid}/attacks",
        json={"start": f"{today}T00:05"},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 201, r.text
    text = visible_text(c.get("/insights").text)
    assert "needs more weeks of diary" in text, text
    assert "better than your usual attack rate" not in text


def test_neck_and_back_lines_say_higher_or_lower_never_rises_by_nothing(world: World) -> None:
    """The walk of issue 12 read "no link found (pain rises +0.0 points with attacks)"."""
    text = visible_text(world.patient.get("/insights").text)
    assert "rises" not in text and "+0.0" not in text and "-0.0" not in text
    lines = re.findall(r"(?:Neck|Back|Low back)[^:]*: [^.]*?\((with attacks[^)]*)\)", text)
    assert all(re.search(r"\d\.\d points (higher|lower)", line) for line in lines), lines


def test_each_neck_and_back_verdict_shows_the_estimate_and_interval_behind_it(
    world: World,
) -> None:
    """Issue 13: the verdict showed a rise in points, not the estimate and interval
    behind it; a call is worded as an association, with its possible explanations."""
    for client, path in (
        (world.patient, "/insights"),
        (world.clinician, "/insights?patient=DEMO000002"),
    ):
        text = visible_text(client.get(path).text)
        lines = re.findall(
            r"(?:Neck|Back) pain ?: [^\n]*?(?=(?:Neck|Back) pain ?:|Possible|$)", text
        )
        lines = [ln for ln in lines if "not recorded" not in ln]
        assert lines, text[:400]
        for line in lines:
            assert re.search(
                r"(odds ratio \d+\.\d\d|\d\.\d points (higher|lower)).*95% CI", line
            ), line
    text = visible_text(world.clinician.get("/insights?patient=DEMO000002").text)
    assert "Neck pain : symptom of the attack" in text or "Neck pain: symptom of the attack" in text
    assert "an association, not proof of cause" in text
    assert "early sign of the attack" in text and "heat, rest" in text
