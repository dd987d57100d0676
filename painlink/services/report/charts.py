"""The report's pictures, drawn for paper: light background, vector (SVG), text kept
as text so a PDF reader can search it.

The forest plot, the neck/back timing and the outcomes picture are the analyses' own
``plot`` methods — the same drawing the web app shows on its dark page — with the
labels in plain words (:func:`painlink.analysis.plotting.plain_label`). Only the
monthly chart is drawn here: the app shows those numbers as a table.
"""

from __future__ import annotations

import base64
import io
import textwrap
from typing import TYPE_CHECKING, Any

from painlink.analysis.plotting import plain_label

if TYPE_CHECKING:
    from painlink.analysis.report import AnalysisReport
    from painlink.services.report.model import FirstPage

#: print colours: dark ink on white, one hue per measure, readable in greyscale too
INK = "#1d2430"
COLOURS = {"migraine": "#7b2d8b", "headache": "#d08a2c", "acute": "#2f6fa8"}
#: text as text in the SVG (searchable, sharp at any zoom), in a font every machine has
RC: dict[str, Any] = {
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.edgecolor": INK,
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "text.color": INK,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
}


def svg_uri(fig: Any) -> str:
    """The figure as an SVG data URI for an ``<img>`` (closed afterwards)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", facecolor="white", bbox_inches="tight")
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def monthly_chart(page: FirstPage) -> str:
    """Migraine, headache and acute-medication days per 28 days, each 30-day block of
    the period against the baseline (dashed): page 1's chart."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if len(page.months) < 2:  # one block is a row of numbers, not a chart
        return ""
    with plt.rc_context(RC):  # type: ignore[arg-type]
        fig, ax = plt.subplots(figsize=(4.6, 1.9))
        xs = list(range(len(page.months)))
        width = 0.27
        for i, key in enumerate(("migraine", "headache", "acute")):
            values = [getattr(m, key) for m in page.months]
            ax.bar(
                [x + (i - 1) * width for x in xs],
                values,
                width,
                color=COLOURS[key],
                label={"migraine": "migraine", "headache": "headache", "acute": "acute med."}[key],
            )
        if page.baseline and page.baseline.get("migraine") is not None:
            ax.axhline(
                page.baseline["migraine"],
                color=COLOURS["migraine"],
                linestyle="--",
                linewidth=1,
                label="migraine baseline",
            )
        # a block's month as three letters ("Jan"), its year only where it changes:
        # thirteen labels side by side never touch
        labels = [
            m.start.strftime("%b\n%Y" if i == 0 or m.start.month == 1 else "%b")
            for i, m in enumerate(page.months)
        ]
        step = max(1, -(-len(labels) // 13))
        ax.set_xticks(xs[::step], labels[::step], rotation=0, fontsize=6.5)
        ax.set_ylabel("days per 28")
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(fontsize=7, frameon=False, ncols=4, loc="lower left", bbox_to_anchor=(0, 1.0))
        fig.tight_layout()
        return svg_uri(fig)


def _relabel(fig: Any, patient_id: str) -> Any:
    """Plain words on an analysis picture, titled by the report instead of the figure."""
    for ax in fig.axes:
        ax.set_title("")
        for axis in (ax.xaxis, ax.yaxis):
            axis.label.set_text(textwrap.fill(plain_label(axis.label.get_text(), patient_id), 60))
        labels = [t.get_text() for t in ax.get_yticklabels()]
        if any(labels):
            ax.set_yticks(
                ax.get_yticks()[: len(labels)],
                [textwrap.shorten(plain_label(t, patient_id), 64) for t in labels],
            )
        if ax.get_xscale() == "log":  # "0.5", "1", "10", not "10⁰" in maths type
            import matplotlib.ticker as mticker

            ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_formatter(mticker.NullFormatter())
        if "share" in ax.yaxis.label.get_text():  # 0.65 → "65%"
            import matplotlib.ticker as mticker

            ax.yaxis.set_major_formatter(mticker.PercentFormatter(1.0, decimals=0))
        legend = ax.get_legend()
        if legend is not None:
            for t in legend.get_texts():
                t.set_text(plain_label(t.get_text(), patient_id))
    fig.tight_layout()
    return fig


def analysis_chart(report: AnalysisReport, patient_id: str, part: str) -> str:
    """One of the analyses' own pictures (``triggers``, ``spine``, ``outcomes``) for
    print: light style, plain labels, SVG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with plt.rc_context(RC):  # type: ignore[arg-type]
        fig = getattr(report, part).plot(patient_id)
        width, height = fig.get_size_inches()
        fig.set_size_inches(min(width, 7.0), min(height, 7.5))
        return svg_uri(_relabel(fig, patient_id))
