"""One row per patient-day: the table every clinical count and analysis reads.

This layer sits between the diary (entries as recorded) and everything that interprets
them (``clinical``, ``analysis``); it may import ``rules`` and ``diary`` only.
"""
