"""The app on a real loopback port for browser tests, and the simulated demo diaries
they walk: one way to start and stop a server thread, one way to seed the demo."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.ports import free_port


@contextmanager
def serving(app: Any, log_level: str = "warning") -> Iterator[int]:
    """Serve ``app`` with uvicorn in a daemon thread on a free loopback port; yields the
    port once the server is up, and stops it after."""
    import uvicorn

    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level=log_level))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    try:
        yield port
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


def demo_database(folder: Path, name: str) -> str:
    """A SQLite database with 4 simulated demo patients × 200 days and the demo's
    logins (password ``demo_seed.DEMO_PASSWORD``); returns its URL."""
    from painlink.cli.demo_seed import demo_accounts
    from painlink.simulate.output import run_simulation
    from painlink.simulate.spec import SimulationSpec
    from painlink.store.store import Store

    url = f"sqlite:///{folder / name}"
    store = Store(url)
    store.init()
    run_simulation(
        SimulationSpec(patients=4, days=200, seed=2026, id_prefix="DEMO"),
        store=store,
        truth_path=folder / "truth.json",
    )
    demo_accounts(store)
    return url
