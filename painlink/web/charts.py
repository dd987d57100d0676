"""The insights' pictures as a phone shows them: plain words, large enough text, no
overlapping labels.

Why a step of its own: the analyses draw one figure for every use (the command line,
a report, a test), titled with the patient id and labelled with code names
(``chocolate_craving (lag 1)``). On a page the picture is shrunk to the width of a
phone (about 320 CSS px inside a panel at 390 px); a 7-inch figure at 110 dpi was
drawn at ~40% of its size and its 10-pt text came out at ~6 px. Here the figure is
redrawn :data:`WIDTH_IN` wide at :data:`DPI`, every text at least :data:`MIN_FONT_PT`,
so that at :data:`PHONE_IMAGE_PX` its smallest text is at least 12 px
(``MIN_FONT_PT * DPI / 72 * PHONE_IMAGE_PX / (WIDTH_IN * DPI)``); the page shows the
image no wider than it is drawn (``img.plot``), so a desktop never blows it up.
"""

from __future__ import annotations

import io
import textwrap
from typing import Any

from painlink.analysis.plotting import plain_label

#: the picture's width (inches) and resolution: 440 px wide
WIDTH_IN = 4.4
DPI = 100
#: the smallest text on a picture, in points
MIN_FONT_PT = 12.5
#: the width a phone (390 px) gives a picture inside a panel, in CSS px
PHONE_IMAGE_PX = 316
#: tick labels longer than this wrap onto a second line
WRAP_CHARS = 22
#: the x axis of the triggers picture in plain words (the page's table says "odds ratio")
ODDS_LABEL = "how many times as likely an attack is (1 = no difference; line: 95% range)"


def _row_label(text: str) -> str:
    """A row's label on lines of :data:`WRAP_CHARS`: "what: verdict" puts the verdict on
    a line of its own ("chocolate craving (1 day before)" / "no association")."""
    what, sep, verdict = text.partition(": ")
    lines = textwrap.wrap(what, WRAP_CHARS) + (textwrap.wrap(verdict, WRAP_CHARS) if sep else [])
    return "\n".join(lines)


def smallest_font_px_on_phone(fig: Any) -> float:
    """The smallest visible text of ``fig`` in CSS px when shown :data:`PHONE_IMAGE_PX`
    wide: what a person at 390 px actually reads."""
    from matplotlib.text import Text

    sizes = [
        t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()
    ]
    width_px = fig.get_figwidth() * DPI
    return min(sizes) * DPI / 72 * min(1.0, PHONE_IMAGE_PX / width_px)


def for_phone(fig: Any, patient_id: str) -> Any:
    """``fig`` with plain labels, text of at least :data:`MIN_FONT_PT`, at most four
    date ticks (``ConciseDateFormatter``, so dates do not run into each other) and
    :data:`WIDTH_IN` wide, laid out again."""
    import matplotlib.dates as mdates
    import matplotlib.ticker as mticker
    from matplotlib.text import Text

    height = fig.get_size_inches()[1]
    for ax in fig.axes:
        ax.set_title(textwrap.fill(plain_label(ax.get_title(), patient_id), 32))
        for axis in (ax.xaxis, ax.yaxis):
            axis.label.set_text(plain_label(axis.label.get_text(), patient_id))
        labels = [t.get_text() for t in ax.get_yticklabels()]
        if any(labels):
            wrapped = [_row_label(plain_label(t, patient_id)) for t in labels]
            ax.set_yticks(ax.get_yticks()[: len(wrapped)], wrapped)
        if ax.get_xscale() == "log":  # "0.5", "1", "10", not "10⁰" in maths type
            ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_formatter(mticker.NullFormatter())
            if ax.xaxis.label.get_text().startswith("odds ratio of an attack"):
                ax.xaxis.label.set_text(ODDS_LABEL)
        if isinstance(ax.xaxis.get_major_formatter(), mdates.AutoDateFormatter):
            locator = mdates.AutoDateLocator(minticks=2, maxticks=4)
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        legend = ax.get_legend()
        if legend is not None:
            for t in legend.get_texts():
                t.set_text(textwrap.fill(plain_label(t.get_text(), patient_id), 30))
        # long axis labels wrap too, under the plot
        ax.xaxis.label.set_text(textwrap.fill(ax.xaxis.label.get_text(), 26))
        for line in ax.get_lines():  # reference lines drawn black vanish on the dark page
            if line.get_color() in ("black", "#000000", "k"):
                line.set_color("#c8ccd2")
        ax.yaxis.label.set_text(textwrap.fill(ax.yaxis.label.get_text(), 26))
    for t in fig.findobj(Text):
        if t.get_fontsize() < MIN_FONT_PT:
            t.set_fontsize(MIN_FONT_PT)
        if t.get_text() and t.get_wrap():  # a "not enough data yet" note: wrap it ourselves
            t.set_text(textwrap.fill(t.get_text().replace("\n", " "), 30))
    # a title centred over a narrow plot runs off the picture: title the figure instead
    titled = [ax for ax in fig.axes if ax.get_title()]
    if titled:
        fig.suptitle(titled[0].get_title(), fontsize=MIN_FONT_PT + 1)
        for ax in titled:
            ax.set_title("")
    # the labels are larger relative to the figure now: give each row more height
    fig.set_size_inches(WIDTH_IN, max(3.2, height * 1.6))
    fig.tight_layout()
    thin_ticks(fig)
    return fig


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
    none should remain after :func:`for_phone`."""
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


def png(fig: Any, background: str) -> bytes:
    """The figure as a PNG at :data:`DPI` (``bbox_inches`` keeps no label cut off)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor=background)
    plt.close(fig)
    return buffer.getvalue()
