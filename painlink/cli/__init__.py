"""The ``painlink`` command.

Commands that read or write a database take ``--db URL`` (or ``PAINLINK_DATABASE_URL``;
the default is a SQLite file in the user's data directory); commands that print a
result print JSON with ``--json``. Errors go to stderr with a non-zero exit code.

One module per group of commands (:mod:`.diary`, :mod:`.analysis`, :mod:`.clinical`,
:mod:`.report`, :mod:`.store`, :mod:`.serve`, :mod:`.demo`), what they share in :mod:`.common`, how
results look in :mod:`.render`. They are registered here, in the order ``--help``
lists them. Each command imports the heavy libraries (polars, SQLAlchemy, the
analyses, the web app) when it runs, so ``painlink --help`` answers at once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any

import typer

from painlink.cli import analysis, clinical, corrections, demo, diary, report, serve, store
from painlink.cli.common import fail

app = typer.Typer(
    help="painlink: a migraine and neck/back pain diary with honest statistics.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    """The installed distribution's version (importlib.metadata: the package's own
    ``__init__`` is the public API facade, which nothing inside painlink imports)."""
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            installed = version("painlink")
        except PackageNotFoundError:  # run from a source tree that was never installed
            installed = "(not installed)"
        print(f"painlink {installed}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """painlink: a migraine and neck/back pain diary with honest statistics."""


app.command()(store.init)
app.command("import")(diary.import_)
app.command()(diary.export)
app.command()(diary.simulate)
app.command("days")(diary.days_)
app.command()(diary.summary)
app.command()(serve.serve)
app.command()(demo.demo)
app.command("screen")(clinical.screen_)
app.command("classify")(clinical.classify_)
app.command("score")(clinical.score_)
app.command("analyze")(analysis.analyze_)
app.command("report")(report.report_)
app.add_typer(analysis.experiment_app, name="experiment")
app.command()(store.delete)
app.command()(store.summaries)
app.add_typer(store.audit_app, name="audit")
app.add_typer(corrections.entry_app, name="entry")
app.command("backup")(store.backup_)
app.command("restore")(store.restore_)


def _plain_os_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """``command``, with a file it cannot read or write (a folder given as ``--pdf``, a
    folder that does not exist, a full disk) ending as a plain error on stderr and exit
    code 1, as the commands' own checks end, not an OSError traceback."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            fail(f"{where}{exc.strerror or exc}", as_json=bool(kwargs.get("as_json")))

    return run


def _every_command(typer_app: typer.Typer) -> None:
    for info in typer_app.registered_commands:
        if info.callback is not None:
            info.callback = _plain_os_errors(info.callback)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _every_command(group.typer_instance)


_every_command(app)

__all__ = ["app"]
