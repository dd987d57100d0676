"""The web app, served by uvicorn."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from painlink.cli.common import ENV_VAR, DbOption, emit, fail, open_store, out

#: as painlink.web.app.SECURE_COOKIES_VAR (a test keeps them equal): the server reads
#: its settings from the environment, and the command line does not import the web app
SECURE_COOKIES_VAR = "PAINLINK_SECURE_COOKIES"
TOTP_FOR_STAFF_VAR = "PAINLINK_REQUIRE_TOTP_FOR_STAFF"


def _audit_key_readable(as_json: bool) -> None:
    """An audit key file that cannot be read is a plain message now, not a server that
    fails at its first write."""
    from painlink.store.audit import audit_key

    try:
        audit_key()
    except ValueError as exc:
        fail(str(exc), as_json=as_json)


def exec_server(
    url: str,
    host: str,
    port: int,
    secure_cookies: bool,
    *,
    workers: int = 1,
    require_totp_for_staff: bool | None = None,
    as_json: bool = False,
) -> None:
    """Replace this process with uvicorn serving the app factory.

    The server is started fresh (exec, same process id) rather than inside this one
    because the CLI has already imported polars, whose thread pool is sized once, at
    first use: in the server each request's analysis runs on one polars thread
    (``POLARS_MAX_THREADS=1`` unless set) — with dozens of request threads on a few
    cores, polars' own parallelism only adds hand-offs (a month's calendar took 27 ms
    with two polars threads, 10 ms with one, measured on the 2-core machine). Each
    uvicorn worker builds its own app and connection pool from the environment."""
    import os

    _audit_key_readable(as_json)
    os.environ[ENV_VAR] = url
    os.environ[SECURE_COOKIES_VAR] = "1" if secure_cookies else "0"
    if require_totp_for_staff is not None:  # the workers read settings from the environment
        os.environ[TOTP_FOR_STAFF_VAR] = "1" if require_totp_for_staff else "0"
    os.environ.setdefault("POLARS_MAX_THREADS", "1")
    factory = "painlink.web.app:app_from_environment"
    command = [sys.executable, "-m", "uvicorn", "--factory", factory,
               "--host", host, "--port", str(port), "--log-level", "warning"]  # fmt: skip
    if workers > 1:
        command += ["--workers", str(workers)]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, command)


def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    insecure_cookies: Annotated[
        bool,
        typer.Option(
            help="Also send the session cookie over plain http: behind a TLS proxy, or on a "
            "trusted home network (anyone on it can read the traffic). Off by default."
        ),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Worker processes (one per core; see docs/web.md for SQLite and PostgreSQL).",
        ),
    ] = 1,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print where the app listens as JSON, then serve."),
    ] = False,
) -> None:
    """Run the web app. Put it behind HTTPS when other machines can reach it."""
    store = open_store(db, as_json, create=True)
    _audit_key_readable(as_json)  # before the address is printed as if serving
    address = f"http://{host}:{port}/"
    if as_json:
        emit({"url": address, "database": store.url, "workers": workers})
    else:
        out.print(f"painlink on {address}  (database {store.url})", highlight=False)
    url = store.engine.url.render_as_string(hide_password=False)
    store.close()
    exec_server(url, host, port, not insecure_cookies, workers=workers, as_json=as_json)
