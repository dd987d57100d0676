"""Clinical rules and reference tables, each with its source.

Thresholds that decide anything clinical live only here, so that a reviewer can
check every number against its citation in one place.
"""
