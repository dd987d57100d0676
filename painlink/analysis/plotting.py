"""What every results object shares: ``to_frame`` rows for one person, and the
matplotlib set-up of ``plot`` (headless, saved the same way, so a figure from the
CLI, a test or the web app looks alike)."""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Any, cast

import polars as pl

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: pyplot and its rcParams (a style such as ``dark_background``) are process-wide: a
#: server drawing pictures in several threads holds this while it draws and saves one
DRAWING = threading.RLock()

#: the AnalysisReport parts that draw a picture of one person (each has ``plot``)
PICTURES = ("triggers", "spine", "outcomes", "forecast")


def for_patient(table: pl.DataFrame, patient_id: str | None) -> pl.DataFrame:
    """One person's rows (all rows without a patient; an empty table as it is)."""
    if patient_id is None or "patient_id" not in table.columns:
        return table
    return table.filter(pl.col("patient_id") == patient_id)


def figure(rows: int, height_per_row: float = 0.45, width: float = 7.0, panels: int = 1) -> Any:
    """A figure tall enough for ``rows`` labelled rows (the Agg backend: no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(
        panels, 1, figsize=(width, height_per_row * max(rows, 3) + 1.2 * panels), squeeze=False
    )


def finish(fig: Any, path: str | None) -> Figure:
    """Lay the figure out and save it when ``path`` is given (``fig`` is Any: pyplot's
    ``subplots`` is typed loosely)."""
    fig.tight_layout()
    if path:
        fig.savefig(path, dpi=120)
    return cast("Figure", fig)


def nothing_yet(ax: Any, text: str) -> None:
    """Say on the picture itself why it is empty: a patient sees words, not bare axes."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, wrap=True)
    ax.set_xticks([], minor=True)
    ax.set_xticks([])
    ax.set_yticks([])


# labels in plain words: the web app's phone pictures and the printed report share them
_LAG = re.compile(r"\(lag (\d+)\)")
_INSTRUMENT = re.compile(r"(?<=: )([a-z]+[0-9]*)$")  # "treatment: hit6"


def _short_name(key: str) -> str:
    """A questionnaire's key as its published short name ("hit6" → "HIT-6")."""
    from painlink.rules.questionnaires import INSTRUMENTS

    found = INSTRUMENTS.get(key)
    if found is None:
        return key
    short = re.search(r"\(([^)]+)\)", found.name)
    return short.group(1) if short else found.name


def plain_label(text: str, patient_id: str = "") -> str:
    """A label in plain words: no patient id, no code names, no "lag"."""
    if patient_id and text.startswith(f"{patient_id}: "):
        text = text[len(patient_id) + 2 :]
        text = text[:1].upper() + text[1:]
    text = _INSTRUMENT.sub(lambda m: _short_name(m.group(1)), text)
    text = _LAG.sub(
        lambda m: (
            "(same day)"
            if m.group(1) == "0"
            else (f"({m.group(1)} day{'s' if m.group(1) != '1' else ''} before)")
        ),
        text,
    )
    return text.replace("_", " ")
