"""painlink: migraine and neck/back pain diaries, screened, classified and analysed honestly.

The public API is small; everything else is private to its module::

    from painlink import Store, read_diary_folder, build_day_table
    store = Store("sqlite:///my.db"); store.init()
    store.write(read_diary_folder("my-diary/"))
    days = build_day_table(store.read())
"""

__version__ = "0.1.0"

from painlink.days.day_table import build_day_table, day_table
from painlink.diary.frames import DiaryFrames
from painlink.interop.csv_diary import (
    DiaryFormatError,
    read_diary_folder,
    write_diary_folder,
)
from painlink.simulate.simulator import simulate
from painlink.simulate.spec import SimulationSpec
from painlink.store.store import Store

__all__ = [
    "DiaryFormatError",
    "DiaryFrames",
    "SimulationSpec",
    "Store",
    "__version__",
    "build_day_table",
    "day_table",
    "read_diary_folder",
    "simulate",
    "write_diary_folder",
]
