"""The neck-and-back body map: its places in plain words, the drawing, and the form.

Why a figure cut into bands: each place is a real checkbox inside a ``<label>`` that
holds its slice of the drawing, so tapping the picture, tapping the words, Tab and
Space all do the same thing, the screen reader hears "Upper neck, checkbox",
and it works with no script at all (the app's CSP allows none inline, and a person
mid-attack should not wait for one). The slices share one coordinate system and sit
flush, so together they draw one figure, seen from behind. Each band is at least 48
px high (the 44 px target), which is why the neck is drawn a little long.

The places are the analyses' :class:`~painlink.diary.vocabulary.SpineRegion` values;
``cervical`` (neck, level not recorded) comes only from imports and is listed but
not drawn as a choice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from painlink.diary.vocabulary import BodySide, SpineRegion

#: the drawing's width in its own units (1 unit = 1 CSS px on the page)
WIDTH = 120
#: the silhouette seen from behind: neck, shoulders, back, pelvis (head drawn apart)
BODY = (
    "M49 60 V104 Q36 116 17 124 Q6 129 6 146 L18 200 Q25 226 28 250 Q21 276 22 300 "
    "Q22 342 42 354 H78 Q98 342 98 300 Q99 276 92 250 Q95 226 102 200 L114 146 "
    "Q114 129 103 124 Q84 116 71 104 V60 Z"
)
HEAD = (60, 36, 22, 30)  # cx, cy, rx, ry
#: the spine down the middle, one small block a vertebra (a guide, not anatomy)
SPINE = " ".join(f"M57 {y} h6 v7 h-6 Z" for y in range(70, 338, 11))


@dataclass(frozen=True)
class Place:
    """One place on the map: its band of the drawing (``top``..``bottom``) and the
    shape that lights up when it is marked (the silhouette itself where the whole band
    is the place: the band's viewBox cuts it to size)."""

    region: SpineRegion
    name: str  # what the patient reads
    hint: str  # where that is, in words
    top: int
    bottom: int
    zone: str  # an SVG path

    @property
    def key(self) -> str:
        return self.region.value

    @property
    def view_box(self) -> str:
        return f"0 {self.top} {WIDTH} {self.bottom - self.top}"

    @property
    def height(self) -> int:
        return self.bottom - self.top


PLACES: tuple[Place, ...] = (
    Place(
        SpineRegion.upper_cervical,
        "Upper neck",
        "below the skull",
        44,
        92,
        "M49 66 H71 V92 H49 Z",
    ),
    Place(
        SpineRegion.lower_cervical,
        "Lower neck",
        "to the shoulders",
        92,
        140,
        BODY,
    ),
    Place(
        SpineRegion.thoracic,
        "Upper and middle back",
        "between the shoulder blades",
        140,
        240,
        BODY,
    ),
    Place(SpineRegion.lumbar, "Low back", "above the hips", 240, 298, BODY),
    Place(
        SpineRegion.sacral_pelvic,
        "Tailbone and pelvis",
        "",
        298,
        356,
        BODY,
    ),
)
BY_KEY = {p.key: p for p in PLACES}
#: plain names of every region, the undrawn one too, top of the spine first
NAMES = {
    SpineRegion.cervical.value: "Neck",
    **{p.key: p.name for p in PLACES},
}
#: the side choices, in the order shown
SIDES: tuple[tuple[str, str], ...] = (
    (BodySide.left.value, "Left"),
    (BodySide.right.value, "Right"),
    (BodySide.bilateral.value, "Both sides"),
    (BodySide.central.value, "Centre"),
)
SIDE_NAMES = dict(SIDES)
SCORES = tuple(str(n) for n in range(11))
PICK = "pick_"


def marks(data: dict[str, str]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The marked places of a posted map, each with its score and side, and the
    errors the form can say at once in plain words (the service checks the rest).

    Only a ticked place counts: a score left on a place that was unticked again is
    hidden on the page and must not be saved."""
    errors: dict[str, str] = {}
    unknown = [k for k in data if k.startswith(PICK) and k[len(PICK) :] not in BY_KEY]
    if unknown:
        errors["regions"] = "That is not a place on the map: tap one of the drawn places"
    out: list[dict[str, Any]] = []
    for place in PLACES:
        if not data.get(PICK + place.key):
            continue
        nrs = (data.get(f"nrs_{place.key}") or "").strip()
        side = (data.get(f"side_{place.key}") or "").strip()
        if nrs not in SCORES:
            errors[f"nrs_{place.key}"] = "Choose how strong it is, from 0 to 10"
        if side and side not in SIDE_NAMES:
            errors[f"side_{place.key}"] = "Choose left, right, both sides or centre"
        out.append({"region": place.key, "nrs": nrs, "side": side or None})
    if not out and not errors:
        errors["regions"] = "Tap at least one place that hurts"
    return out, errors


def _when(start: dt.datetime, end: dt.datetime | None) -> str:
    """ "Mon 2 Mar 2025, 08:00", and for an episode with an end, until when."""
    text = f"{start:%a} {start.day} {start:%b %Y, %H:%M}"
    if end is None or end == start:
        return text
    if end.date() == start.date():
        return f"{text} to {end:%H:%M}"
    return f"{text} to {end:%a} {end.day} {end:%b}"


def entry_rows(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The spine page's list: when, and each place in words with its side and score;
    ``marked`` names the drawn places to light up in the entry's small picture."""
    rows = []
    for e in entries:
        start: dt.datetime = e["start"]
        places = sorted(e["places"], key=lambda p: list(NAMES).index(p["region"]))
        lit = {p["region"] for p in places}
        if SpineRegion.cervical.value in lit:  # level unknown: light the whole neck
            lit |= {SpineRegion.upper_cervical.value, SpineRegion.lower_cervical.value}
        rows.append(
            {
                "when": _when(start, e["end"]),
                "iso": start.isoformat(),
                "places": [
                    {
                        "name": NAMES.get(p["region"], p["region"]),
                        "side": SIDE_NAMES.get(p["side"] or "", ""),
                        "nrs": f"{p['nrs']:g}",
                    }
                    for p in places
                ],
                "marked": lit,
            }
        )
    return rows
