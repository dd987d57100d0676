"""The insights' pictures as a page shows them: plain words, large enough text, no
overlapping labels, in a layout for a phone and one for a desktop.

Why a step of its own: the analyses draw one figure for every use (the command line,
a report, a test), titled with the patient id and labelled with code names
(``chocolate_craving (lag 1)``). On a page the picture is shrunk to the width of a
phone (about 320 CSS px inside a panel at 390 px); a 7-inch figure at 110 dpi was
drawn at ~40% of its size and its 10-pt text came out at ~6 px. Here the figure is
redrawn in one of :data:`LAYOUTS`, every text at least :data:`MIN_FONT_PT`, :data:`DPI`
CSS px to the inch:

* ``phone`` (the default), :data:`WIDTH_IN` wide: at :data:`PHONE_IMAGE_PX` its
  smallest text is at least 12 px
  (``MIN_FONT_PT * DPI / 72 * PHONE_IMAGE_PX / (WIDTH_IN * DPI)``);
* ``wide``, :data:`WIDE_WIDTH_IN` wide: the width of the insights panel on a desktop
  (:data:`PANEL_PX`), its text the page's own size there (17 px). A phone's picture
  blown up to that width had 36-px text and twice the height, so the page showed it
  no wider than drawn (440 px, under half the panel); the wide one is laid out again
  instead: labels wrap less and rows need less height. The page loads it from
  :data:`WIDE_MEDIA`, where the panel is at least :data:`WIDE_MIN_PX` wide and the
  smallest text still at least 12 px.

Each is served at 1× or 2× the pixels (:data:`DENSITIES`; ``srcset`` in
templates/macros.html), so a phone's screen of 2–3 device px to the CSS px gets a
crisp picture and a desktop at 1× does not download four times the pixels. The page
shows an image no wider than its panel (``img.plot``, ``max-width: 100%``).
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass
from typing import Any

from painlink.analysis.plotting import plain_label

#: CSS px to the inch: a picture ``w`` inches wide is ``w * DPI`` CSS px on the page
DPI = 100
#: the phone picture's width (inches): 440 CSS px
WIDTH_IN = 4.4
#: the smallest text on a picture, in points
MIN_FONT_PT = 12.5
#: the width a phone (390 px) gives a picture inside a panel, in CSS px
PHONE_IMAGE_PX = 316
#: the insights panel's inner width on a desktop, in CSS px (style.css: ``main`` is
#: 56rem of 18 px less 2 × 1rem padding; a panel has 1rem padding and a 1-px border)
PANEL_PX = 56 * 18 - 2 * 18 - 2 * 18 - 2
#: the wide picture's width (inches): 930 CSS px, just inside the panel
WIDE_WIDTH_IN = 9.3
#: the narrowest panel the wide picture is shown in, and the viewport that gives it
#: (main's and the panel's paddings and borders take 74 px): its 12.5-pt text is
#: still 12 px there
WIDE_MIN_PX = 646
WIDE_MEDIA = f"(min-width: {WIDE_MIN_PX + 74}px)"
#: device pixels per CSS px a picture is drawn at (``?density=2``)
DENSITIES = (1, 2)
#: tick labels longer than this wrap onto a second line (on a phone)
WRAP_CHARS = 22
#: the x axis of the triggers picture in plain words (the page's table says "odds ratio")
ODDS_LABEL = "how many times as likely an attack is (1 = no difference; line: 95% range)"


@dataclass(frozen=True)
class Layout:
    """How wide a picture is drawn and how its words wrap there."""

    width_in: float
    #: row labels, axis labels, titles, legends and "not enough data" notes wrap at these
    row_chars: int
    axis_chars: int
    title_chars: int
    legend_chars: int
    note_chars: int
    #: the figure's height against the analysis's own (labels are larger than its 10 pt)
    grow: float
    #: at most this many date ticks
    date_ticks: int
    #: an axis label on lines of even length ("how many times as likely an attack is" /
    #: "(1 = no difference; line: 95% range)"), not a full line and a word
    balance: bool = False


LAYOUTS = {
    "phone": Layout(WIDTH_IN, WRAP_CHARS, 26, 32, 30, 30, grow=1.6, date_ticks=4),
    "wide": Layout(WIDE_WIDTH_IN, 44, 70, 80, 60, 70, grow=1.25, date_ticks=8, balance=True),
}


def _row_label(text: str, chars: int = WRAP_CHARS) -> str:
    """A row's label on lines of ``chars``: "what: verdict" puts the verdict on a line
    of its own ("chocolate craving (1 day before)" / "no association")."""
    what, sep, verdict = text.partition(": ")
    lines = textwrap.wrap(what, chars) + (textwrap.wrap(verdict, chars) if sep else [])
    return "\n".join(lines)


def _wrap(text: str, chars: int, balance: bool = False) -> str:
    """``text`` on lines of at most ``chars`` (:func:`textwrap.fill`); with ``balance``,
    on as few lines, each about as long as the others."""
    lines = textwrap.wrap(text, chars)
    if balance and len(lines) > 1:
        width = -(-len(text) // len(lines))
        while len(textwrap.wrap(text, width)) > len(lines):
            width += 1
        lines = textwrap.wrap(text, width)
    return "\n".join(lines)


def smallest_font_px(fig: Any, shown_px: float) -> float:
    """The smallest visible text of ``fig`` in CSS px when the page shows it
    ``shown_px`` wide (never wider than drawn)."""
    from matplotlib.text import Text

    sizes = [
        t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()
    ]
    width_px = fig.get_figwidth() * DPI
    return min(sizes) * DPI / 72 * min(1.0, shown_px / width_px)


def smallest_font_px_on_phone(fig: Any) -> float:
    """The smallest visible text of ``fig`` in CSS px when shown :data:`PHONE_IMAGE_PX`
    wide: what a person at 390 px actually reads."""
    return smallest_font_px(fig, PHONE_IMAGE_PX)


def for_page(fig: Any, patient_id: str, layout: str = "phone") -> Any:
    """``fig`` with plain labels, text of at least :data:`MIN_FONT_PT`, few enough date
    ticks (``ConciseDateFormatter``, so dates do not run into each other) and as wide
    as ``layout`` (one of :data:`LAYOUTS`), laid out again."""
    import matplotlib.dates as mdates
    import matplotlib.ticker as mticker
    from matplotlib.text import Text

    lay = LAYOUTS[layout]
    height = fig.get_size_inches()[1]
    for ax in fig.axes:
        ax.set_title(textwrap.fill(plain_label(ax.get_title(), patient_id), lay.title_chars))
        for axis in (ax.xaxis, ax.yaxis):
            axis.label.set_text(plain_label(axis.label.get_text(), patient_id))
        labels = [t.get_text() for t in ax.get_yticklabels()]
        if any(labels):
            wrapped = [_row_label(plain_label(t, patient_id), lay.row_chars) for t in labels]
            ax.set_yticks(ax.get_yticks()[: len(wrapped)], wrapped)
        if ax.get_xscale() == "log":  # "0.5", "1", "10", not "10⁰" in maths type
            ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_formatter(mticker.NullFormatter())
            if ax.xaxis.label.get_text().startswith("odds ratio of an attack"):
                ax.xaxis.label.set_text(ODDS_LABEL)
        if isinstance(ax.xaxis.get_major_formatter(), mdates.AutoDateFormatter):
            locator = mdates.AutoDateLocator(minticks=2, maxticks=lay.date_ticks)
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        legend = ax.get_legend()
        if legend is not None:
            for t in legend.get_texts():
                t.set_text(textwrap.fill(plain_label(t.get_text(), patient_id), lay.legend_chars))
        # long axis labels wrap too, under the plot
        ax.xaxis.label.set_text(_wrap(ax.xaxis.label.get_text(), lay.axis_chars, lay.balance))
        for line in ax.get_lines():  # reference lines drawn black vanish on the dark page
            if line.get_color() in ("black", "#000000", "k"):
                line.set_color("#c8ccd2")
        ax.yaxis.label.set_text(textwrap.fill(ax.yaxis.label.get_text(), 26))
    for t in fig.findobj(Text):
        if t.get_fontsize() < MIN_FONT_PT:
            t.set_fontsize(MIN_FONT_PT)
        if t.get_text() and t.get_wrap():  # a "not enough data yet" note: wrap it ourselves
            t.set_text(textwrap.fill(t.get_text().replace("\n", " "), lay.note_chars))
    # a title centred over a narrow plot runs off the picture: title the figure instead
    titled = [ax for ax in fig.axes if ax.get_title()]
    if titled:
        fig.suptitle(titled[0].get_title(), fontsize=MIN_FONT_PT + 1)
        for ax in titled:
            ax.set_title("")
    # the labels are larger relative to the figure now: give each row more height
    fig.set_size_inches(lay.width_in, max(3.2, height * lay.grow))
    fig.tight_layout()
    thin_ticks(fig)
    return fig


def for_phone(fig: Any, patient_id: str) -> Any:
    """:func:`for_page` in the phone's layout, :data:`WIDTH_IN` wide."""
    return for_page(fig, patient_id, "phone")


def thin_ticks(fig: Any) -> None:
    """Hide each tick label that would touch the one before it (``0.125`` and ``0.25``
    side by side on a log axis): every label left on the picture can be read."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        for labels in (ax.get_xticklabels(), ax.get_yticklabels()):
            shown = None
            for label in labels:
                if not (label.get_visible() and label.get_text()):
                    continue
                box = label.get_window_extent(renderer).expanded(1.05, 1.0)
                if shown is not None and box.overlaps(shown):
                    label.set_visible(False)
                else:
                    shown = box


def overlapping_labels(fig: Any) -> list[tuple[str, str]]:
    """Pairs of visible tick labels (or title and axis labels) on one axis that overlap:
    none should remain after :func:`for_page`."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    pairs = []
    for ax in fig.axes:
        for labels in (ax.get_xticklabels(), ax.get_yticklabels()):
            visible = [t for t in labels if t.get_visible() and t.get_text()]
            boxes = [t.get_window_extent(renderer) for t in visible]
            for i in range(len(visible)):
                for j in range(i + 1, len(visible)):
                    if boxes[i].overlaps(boxes[j]):
                        pairs.append((visible[i].get_text(), visible[j].get_text()))
    return pairs


def png(fig: Any, background: str, density: int = 1) -> bytes:
    """The figure as a PNG at :data:`DPI` times ``density`` pixels to the inch (the page
    shows it :data:`DPI` CSS px to the inch, ``srcset`` saying which density it is)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI * density, facecolor=background)
    plt.close(fig)
    return buffer.getvalue()
