"""Matplotlib set-up shared by every results object's ``plot``: headless, and saved
the same way, so a figure from the CLI, a test or the web app looks alike."""

from __future__ import annotations

from typing import Any


def figure(rows: int, height_per_row: float = 0.45, width: float = 7.0, panels: int = 1) -> Any:
    """A figure tall enough for ``rows`` labelled rows (the Agg backend: no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(
        panels, 1, figsize=(width, height_per_row * max(rows, 3) + 1.2 * panels), squeeze=False
    )


def finish(fig: Any, path: str | None) -> Any:
    fig.tight_layout()
    if path:
        fig.savefig(path, dpi=120)
    return fig
