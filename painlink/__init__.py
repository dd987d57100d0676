"""painlink: migraine and neck/back pain diaries, screened, classified and analysed honestly.

The public API is small; everything else is private to its module::

    import painlink
    diary = painlink.read_diary("my-diary/")          # a CSV folder or an app's export
    report = painlink.analyze(diary)                  # every analysis: a Results
    print(report.summary())
    diagnoses = painlink.classify(diary)              # patient id → ICHD-3 classification

See docs/api.md. Names load on first use (PEP 562), so ``import painlink`` does not
pull in the simulator, the database layer or the statistics libraries.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name → (module, attribute): what ``painlink.<name>`` re-exports
_EXPORTS: dict[str, tuple[str, str]] = {
    # reading and writing diaries
    "DiaryFormatError": ("painlink.diary.errors", "DiaryFormatError"),
    "DiaryFrames": ("painlink.diary.frames", "DiaryFrames"),
    "read_diary": ("painlink._api", "read_diary"),
    "read_diary_folder": ("painlink.interop.csv_diary", "read_diary_folder"),
    "write_diary_folder": ("painlink.interop.csv_diary", "write_diary_folder"),
    "Store": ("painlink.store.store", "Store"),
    # the day table every analysis starts from
    "build_day_table": ("painlink.days.day_table", "build_day_table"),
    "day_table": ("painlink.days.day_table", "day_table"),
    # clinical: red flags, ICHD-3, questionnaires
    "screen": ("painlink.clinical.screening", "screen"),
    "classify": ("painlink.clinical.classify", "classify_many"),
    "score": ("painlink.clinical.questionnaires", "score_response"),
    # analyses
    "analyze": ("painlink.analysis.report", "analyze"),
    "Results": ("painlink.analysis.results", "Results"),
    # simulated diaries with a known truth
    "SimulationSpec": ("painlink.simulate.spec", "SimulationSpec"),
    "simulate": ("painlink.simulate.simulator", "simulate"),
}

# a literal list, so linters, mypy and IDEs read it without running this module
__all__ = [
    "DiaryFormatError",
    "DiaryFrames",
    "Results",
    "SimulationSpec",
    "Store",
    "__version__",
    "analyze",
    "build_day_table",
    "classify",
    "day_table",
    "read_diary",
    "read_diary_folder",
    "score",
    "screen",
    "simulate",
    "write_diary_folder",
]

if TYPE_CHECKING:  # what mypy and IDEs see; at run time __getattr__ loads on demand
    from painlink._api import read_diary
    from painlink.analysis.report import analyze
    from painlink.analysis.results import Results
    from painlink.clinical.classify import classify_many as classify
    from painlink.clinical.questionnaires import score_response as score
    from painlink.clinical.screening import screen
    from painlink.days.day_table import build_day_table, day_table
    from painlink.diary.errors import DiaryFormatError
    from painlink.diary.frames import DiaryFrames
    from painlink.interop.csv_diary import read_diary_folder, write_diary_folder
    from painlink.simulate.simulator import simulate
    from painlink.simulate.spec import SimulationSpec
    from painlink.store.store import Store


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use and keep the name (PEP 562)."""
    try:
        module, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'painlink' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


class _Facade(types.ModuleType):
    """``painlink.simulate`` is both a subpackage and the public function. Importing the
    subpackage binds it on this module (the import system does ``setattr``), which would
    hide the function, depending on which was imported first; the public name always
    wins, as it did when it was imported eagerly. ``from painlink.simulate.simulator
    import simulate`` works as before."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _EXPORTS and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Facade
