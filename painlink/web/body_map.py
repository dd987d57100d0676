"""The neck-and-back body map: its places in plain words, the drawing, and the form.

Why a figure cut into bands: each place is a real checkbox inside a ``<label>`` that
holds its slice of the drawing, so tapping the picture, tapping the words, Tab and
Space all do the same thing, the screen reader hears "Top of the neck, checkbox",
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
WIDTH = 160
#: the silhouette seen from behind: neck, shoulders, back, pelvis (head drawn apart)
BODY = (
    "M66 60 V104 Q50 116 26 124 Q12 129 13 146 L28 200 Q36 226 40 250 "
    "Q31 276 33 300 Q33 342 58 354 H102 Q127 342 127 300 Q129 276 120 250 "
    "Q124 226 132 200 L147 146 Q148 129 134 124 Q110 116 94 104 V60 Z"
)
HEAD = (80, 36, 27, 32)  # cx, cy, rx, ry
#: the spine down the middle, one small block a vertebra (a guide, not anatomy)
SPINE = " ".join(f"M77 {y} h6 v7 h-6 Z" for y in range(70, 338, 11))


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
        "Top of the neck",
        "just below the skull",
        44,
        92,
        "M66 68 H94 V92 H66 Z",
    ),
    Place(
        SpineRegion.lower_cervical,
        "Lower neck",
        "down to the shoulders",
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
        "Bottom of the spine and pelvis",
        "tailbone, buttocks",
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
                "when": f"{start:%a} {start.day} {start:%b %Y, %H:%M}",
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
