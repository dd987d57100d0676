"""``painlink demo``: a database of realistic simulated patients with logins, then the
web app. The seeding itself is in :mod:`painlink.cli.demo_seed`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from painlink.cli import render
from painlink.cli.common import JsonOption, fail, open_store, out


def demo(
    db: Annotated[
        str | None,
        typer.Option(
            "--db", help="Demo database URL (default: a fresh demo.db in your data directory)."
        ),
    ] = None,
    patients: Annotated[int, typer.Option(min=1, help="Demo patients.")] = 12,
    serve_app: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the web app afterwards.")
    ] = True,
    port: Annotated[int, typer.Option(help="Port of the web app.")] = 8000,
    as_json: JsonOption = False,
) -> None:
    """Create a fresh demo database with realistic patients, a clinician and an admin,
    then start the web app (the main job).

    Pointed at a database in use with --db, it adds the demo beside what is there and
    replaces only what an earlier demo made."""
    from platformdirs import user_data_dir

    from painlink.cli.demo_seed import DEMO_PASSWORD, DemoError, seed_demo
    from painlink.cli.serve import exec_server
    from painlink.store.diary_io import PatientExistsError

    if db is None:
        path = Path(user_data_dir("painlink")) / "demo.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        db = f"sqlite:///{path}"
    store = open_store(db, as_json, create=True)
    truth_path = Path(user_data_dir("painlink")) / "demo-truth.json"
    try:
        logins = seed_demo(store, patients, truth_path)
    except (PatientExistsError, DemoError) as exc:
        fail(f"{exc} The demo replaces only what an earlier demo made.", as_json=as_json)
    if as_json:
        render.summary(store, as_json)
        return
    out.print(f"Demo database: {store.url}", highlight=False)
    render.summary(store, as_json)
    if serve_app:
        out.print(
            f"\nOpen http://127.0.0.1:{port}/ and log in (password for all: {DEMO_PASSWORD}):",
            highlight=False,
        )
        for email, who in logins[:5]:
            out.print(f"  {email:28} {who}", highlight=False)
        totp_for_staff = _demo_totp_for_staff()
        if not totp_for_staff:
            out.print(
                "Two-step sign-in is optional for the demo's staff accounts "
                "(PAINLINK_REQUIRE_TOTP_FOR_STAFF=1 requires it, as `painlink serve` does).",
                style="dim",
            )
        out.print("Stop with Ctrl+C.", style="dim")
        exec_server(
            store.engine.url.render_as_string(hide_password=False),
            "127.0.0.1",
            port,
            True,
            require_totp_for_staff=totp_for_staff,
        )


def _demo_totp_for_staff() -> bool:
    """As `serve`, except that staff need no second factor unless
    PAINLINK_REQUIRE_TOTP_FOR_STAFF says so (the demo logins are printed for anyone to
    try on their own machine; an authenticator app should not be needed for that). A
    value set is read as the web app reads it (web/security.py ``_env_flag``)."""
    import os

    from painlink.cli.serve import TOTP_FOR_STAFF_VAR

    value = os.environ.get(TOTP_FOR_STAFF_VAR, "").strip()
    return value.lower() in ("1", "true", "yes", "on")
