"""Synthetic diaries with known truth (see :mod:`painlink.simulate.simulator`)."""

from painlink.simulate.simulator import simulate
from painlink.simulate.spec import SimulationSpec

__all__ = ["SimulationSpec", "simulate"]
