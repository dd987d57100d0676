"""Classify the 400-row Migraine Classification table and print the agreement tables.

    python benchmarks/classification_table.py PATH/TO/migraine_data.csv

Prints markdown for docs/classification-agreement.md: per-class agreement and the
full confusion table, under the strict mapping and with typical aura assumed.
"""

from __future__ import annotations

import sys
import time

import polars as pl

from painlink.interop.migraine_table import agreement, classify_table, confusion


def markdown(frame: pl.DataFrame) -> str:
    head = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join([head, rule, *rows])


def main(path: str) -> None:
    for assume in (False, True):
        started = time.perf_counter()
        results = classify_table(path, assume_typical_aura=assume)
        seconds = time.perf_counter() - started
        title = "typical aura features assumed" if assume else "strict mapping"
        total = results["agree"].sum()
        print(f"\n### {title}: {total} of {results.height} rows agree ({seconds:.1f} s)\n")
        print(markdown(agreement(results)))
        print()
        print(markdown(confusion(results)))


if __name__ == "__main__":
    main(
        sys.argv[1]
        if len(sys.argv) > 1
        else "../shared/external/migraine-classification/migraine_data.csv"
    )
