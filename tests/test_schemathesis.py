"""schemathesis against /api/openapi.json, as a patient and as their clinician: 0 server errors.

The server is a real uvicorn process on 127.0.0.1 with a memory guard: its address
space is capped (``RLIMIT_AS``), so a request that would grow without end (year 9999
once grew classification past 3 GiB) dies instead of taking the machine down, and a
watcher samples its resident memory so the test fails if it ever passes ``RSS_LIMIT``.
Every operation gets ``MAX_EXAMPLES`` generated requests (schema-valid and not), sent
once with the patient's session and once with the clinician's, with the path's
``patient_id`` set to the real patient so that the requests reach the diary code
rather than stopping at "no such patient".
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from painlink.services import accounts
from painlink.store.store import Store
from tests.conftest import LAST_MONTH
from tests.ports import free_port

PASSWORD = "correct horse battery"
ADDRESS_SPACE_LIMIT = 4 << 30  # bytes of virtual memory the server may map
RSS_LIMIT = 1536 << 20  # bytes of resident memory the server may reach
MAX_EXAMPLES = 20
ROOT = Path(__file__).resolve().parents[1]

SERVER = r"""
import resource, sys
limit = int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
import uvicorn
from painlink.web.app import create_app
from painlink.web.security import AuthSettings
# the clinician signs in with a password only: TOTP is tested in test_auth
app = create_app(sys.argv[1], secure_cookies=False, auth=AuthSettings(require_totp_for_staff=False))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


@dataclass
class Server:
    base: str
    proc: subprocess.Popen
    patient_id: str = ""
    sessions: dict[str, tuple[str, str]] = field(default_factory=dict)  # actor → cookie, csrf
    peak_rss: int = 0

    def watch(self) -> None:
        """Sample the server's resident memory until it exits."""
        status = Path(f"/proc/{self.proc.pid}/status")
        while self.proc.poll() is None:
            try:
                for line in status.read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        self.peak_rss = max(self.peak_rss, int(line.split()[1]) * 1024)
            except OSError:
                return
            time.sleep(0.1)


def _form_token(s: requests.Session, url: str) -> str:
    """The pre-session CSRF token of a login/register form (its cookie stays in ``s``)."""
    page = s.get(url).text
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def _session(base: str, email: str) -> tuple[requests.Session, str, str]:
    s = requests.Session()
    r = s.post(
        f"{base}/login",
        data={"csrf_token": _form_token(s, f"{base}/login"), "email": email, "password": PASSWORD},
        allow_redirects=False,
    )
    assert r.status_code == 303, r.text
    me = s.get(f"{base}/api/me").json()
    return s, me["csrf_token"], me["patient_id"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("schemathesis")
    url = f"sqlite:///{folder / 'st.db'}"
    store = Store(url)
    store.init()
    with store.engine.begin() as conn:
        accounts.create_staff(conn, "doc@clinic.org", "Dr Doc", PASSWORD, "clinician")
    store.engine.dispose()
    port = free_port()
    log = (folder / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, url, str(port), str(ADDRESS_SPACE_LIMIT)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    srv = Server(f"http://127.0.0.1:{port}", proc)
    try:
        for _ in range(300):
            try:
                if requests.get(f"{srv.base}/login", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.2)
        else:
            pytest.fail("the server did not start: " + (folder / "server.log").read_text())
        threading.Thread(target=srv.watch, daemon=True).start()
        reg = requests.Session()
        r = reg.post(
            f"{srv.base}/register",
            data={
                "csrf_token": _form_token(reg, f"{srv.base}/register"),
                "email": "pat@x.org",
                "display_name": "Pat",
                "password": PASSWORD,
                "time_zone": "Europe/Berlin",
                "birth_year": "1985",
            },
            allow_redirects=False,
        )
        assert r.status_code == 303, r.text
        patient, csrf, pid = _session(srv.base, "pat@x.org")
        h = {"X-CSRF-Token": csrf}
        api = f"{srv.base}/api/patients/{pid}"
        assert patient.post(
            f"{api}/grants", json={"clinician_email": "doc@clinic.org"}, headers=h
        ).ok
        for day in range(1, 20, 3):
            patient.post(
                f"{api}/attacks",
                json={"start": f"{LAST_MONTH.replace(day=day)}T08:00:00", "intensity": 2},
                headers=h,
            )
            patient.put(
                f"{api}/days/{LAST_MONTH.replace(day=day)}",
                json={"sleep_hours": 6, "stress": 5},
                headers=h,
            )
        clinician, ccsrf, _ = _session(srv.base, "doc@clinic.org")
        srv.patient_id = pid
        srv.sessions = {
            "patient": (patient.cookies["painlink_session"], csrf),
            "clinician": (clinician.cookies["painlink_session"], ccsrf),
        }
        yield srv
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _operations(server: Server) -> list[schemathesis.APIOperation]:
    schema = schemathesis.openapi.from_url(f"{server.base}/api/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode), ids=lambda m: m.value)
def test_no_server_errors(server: Server, mode: schemathesis.GenerationMode) -> None:
    """Every operation, schema-valid (positive) and schema-breaking (negative) requests.

    (Driven by Hypothesis directly rather than schemathesis' pytest plugin, which does
    not load under pytest 9.)"""
    failures: list[str] = []
    sent: dict[str, int] = {}
    operations = _operations(server)
    assert len(operations) >= 20  # the whole API, not an empty document

    for operation in operations:
        path_parameters = (
            {"patient_id": server.patient_id} if "{patient_id}" in operation.path else None
        )
        strategy = operation.as_strategy(mode, path_parameters=path_parameters)

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def run(case: schemathesis.Case) -> None:
            for actor, (cookie, csrf) in server.sessions.items():
                r = case.call(
                    base_url=server.base,
                    headers={"X-CSRF-Token": csrf},
                    cookies={"painlink_session": cookie},
                    timeout=120,
                )
                key = f"{r.status_code // 100}xx"
                sent[key] = sent.get(key, 0) + 1
                if r.status_code >= 500:
                    failures.append(
                        f"{actor}: {case.method} {case.formatted_path} {case.body!r}"
                        f" → {r.status_code} {r.text[:200]}"
                    )
                assert server.proc.poll() is None, "the server died (memory guard?)"

        try:
            run()
        except Unsatisfiable:  # nothing to break: an operation without parameters or body
            assert mode is schemathesis.GenerationMode.NEGATIVE, operation.label
    print(
        f"\nschemathesis {mode.value}: {len(operations)} operations, {sum(sent.values())} "
        f"requests {dict(sorted(sent.items()))}, server peak RSS {server.peak_rss >> 20} MiB"
    )
    assert server.peak_rss < RSS_LIMIT, f"server RSS reached {server.peak_rss >> 20} MiB"
    assert not failures, f"{len(failures)} server error(s):\n" + "\n".join(failures[:30])
