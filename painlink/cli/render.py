"""How results look on a terminal (Rich); the commands decide what to show, this
module how. With ``--json`` none of this runs: the commands print the results' dicts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.markup import escape

from painlink.cli.common import emit, out

if TYPE_CHECKING:
    from painlink.services.importing import ImportResult
    from painlink.store.store import Store


def summary(store: Store, as_json: bool) -> None:
    """Each stored diary in a line: how long, how complete, how often headache came."""
    from rich.table import Table

    from painlink.analysis.summary import diary_summary
    from painlink.days.day_table import build_day_table

    rows = diary_summary(build_day_table(store.read()))
    if as_json:
        emit({"database": store.url, "patients": rows.to_dicts()})
        return
    table = Table(
        title=f"Diaries in {store.url}",
        title_justify="left",
        caption="attacks, headache days and acute-medication days per 30 days of diary",
        caption_justify="left",
    )
    table.add_column("patient", no_wrap=True)
    for name in ("days", "logged", "attacks", "headache d", "acute-med d"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("treatment")
    for row in rows.iter_rows(named=True):
        table.add_row(
            row["patient_id"],
            str(row["days"]),
            f"{row['share_logged']:.0%}",
            f"{row['attacks_per_30d']:.1f}",
            f"{row['headache_days_per_30d']:.1f}",
            f"{row['acute_med_days_per_30d']:.1f}",
            escape(row["treatments"] or "—"),  # as the patient typed it: not markup
        )
    out.print(table)
    out.print(
        "Rates count what was recorded; these are diaries, not diagnoses. "
        f"Look closer: painlink days --db {store.engine.url} --patient {rows['patient_id'][0]}"
        if rows.height
        else "No diaries yet: painlink import FOLDER or painlink simulate.",
        style="dim",
    )


def imported(result: ImportResult, store: Store) -> None:
    """What an import stored: new diaries' rows, or what a merge added."""
    merged = result.merged
    if merged is not None:
        out.print(
            f"Added to {result.patient_ids[0]}'s diary: {merged.attacks_added} attacks, "
            f"{merged.medications_added} medication intakes; {merged.attacks_already_there} "
            "attacks were already there.",
            highlight=False,
        )
        if merged.attacks_overlapping:
            out.print(
                f"{len(merged.attacks_overlapping)} attack(s) overlap one already in the "
                "diary and were left out: "
                + ", ".join(str(s) for s in merged.attacks_overlapping[:10]),
                highlight=False,
            )
        return
    written = result.written or {}
    out.print(
        f"Imported {written['patients']} patient(s), {written['days']} daily records, "
        f"{written['attacks']} attacks, {written['medications']} medication intakes "
        f"into {store.url}.",
        highlight=False,
    )
    if result.not_imported:
        out.print(
            "Records not imported (no counterpart in the diary): "
            + escape(", ".join(f"{kind} {n}" for kind, n in sorted(result.not_imported.items()))),
            highlight=False,
        )


def backup_report(head: str, manifest: dict[str, Any], as_json: bool) -> None:
    tables = manifest["tables"]
    if as_json:
        emit({"manifest": manifest})
        return
    out.print(
        f"{head} {len(tables)} tables, {sum(t['rows'] for t in tables.values())} rows "
        f"({manifest['dialect']}, schema {manifest['revision']}); every table's checksum "
        "matches.",
        highlight=False,
    )


def classification(result: Any, show_all: bool) -> None:
    """One patient's ICHD-3 diagnoses, each criterion with its evidence."""
    span = f", diary {result.window[0]} to {result.window[1]}" if result.window else ""
    out.rule(f"[bold]{result.patient_id}[/]  ICHD-3 (2018){span}")
    if result.screen.flags:
        out.print(result.screen.summary(), style="bold red", highlight=False)
    shown = [d for d in result.diagnoses if show_all or d.status in ("met", "probable") or d.refer]
    if not shown:
        out.print("No ICHD-3 diagnosis is fulfilled by this diary yet.", highlight=False)
    marks = {
        "met": "[green]met[/]",
        "not met": "[dim]not met[/]",
        "not evaluable": "[yellow]not evaluable[/]",
        "probable": "[cyan]probable[/]",
    }
    for d in shown:
        refer = "  [bold yellow]→ refer to a specialist[/]" if d.refer else ""
        out.print(f"[bold]{d.code} {d.name}[/]: {marks.get(d.status, d.status)}{refer}")
        for c in d.criteria:
            out.print(
                f"   {c.letter} {marks.get(c.status, c.status)}  {c.requirement}", highlight=False
            )
            out.print(f"       [dim]{escape(c.evidence)}[/]", highlight=False)
        for note in d.notes:
            out.print(f"   [italic]{escape(note)}[/]", highlight=False)
    out.print(
        f"[dim]Day counts use the {result.day_definition} definition. "
        "ICHD-3 criteria that need a clinician are shown as not evaluable.[/]"
    )


def score(result: Any) -> None:
    """A questionnaire's score, band and the change that matters."""
    if not result.computable:
        out.print(result.message, style="yellow", highlight=False)
        return
    pct = f" ({result.percent:g}%)" if result.percent is not None and result.unit != "%" else ""
    out.print(
        f"{result.name}: {result.score:g} {result.unit}{pct} — {result.band}", highlight=False
    )
    if result.missing:
        out.print(f"Unanswered: {', '.join(result.missing)} (prorated by the instrument's rule)")
    if result.important_change is not None:
        out.print(
            f"A change of {result.important_change:g} is the {result.important_change_kind}.",
            style="dim",
        )


def experiment_design(
    design: Any, patient: str, change: str, pairs: int, block_days: int, rate_ratio: float
) -> None:
    """An N-of-1 schedule, block by block, and its power."""
    out.print(
        f"Experiment for {patient}: {change}, {pairs} pairs of {block_days}-day blocks",
        highlight=False,
        markup=False,  # what changes, as typed
    )
    for b in design.blocks:
        out.print(
            f"  pair {b.pair}: {b.start} to {b.end}  {'ON ' if b.condition == 'on' else 'off'}",
            highlight=False,
        )
    needed = design.pairs_for_80_percent
    out.print(
        f"Power to detect a rate ratio of {rate_ratio:g}: {design.power:.0%} "
        f"(history: {design.baseline_attacks_per_28d:.1f} attacks per 28 days). "
        + (f"{needed} pairs would give 80%." if needed else "Even 24 pairs would not give 80%."),
        highlight=False,
    )
