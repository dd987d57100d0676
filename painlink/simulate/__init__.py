"""Synthetic diaries with known truth (see :mod:`painlink.simulate.simulator`)."""

from painlink.simulate.simulator import SimulationSpec, simulate

__all__ = ["SimulationSpec", "simulate"]
