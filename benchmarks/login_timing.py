"""Does login time reveal whether an e-mail has an account? (issue 9, defect 8)

Times ``POST /login`` with a wrong password for a registered e-mail and for an unknown
one, alternating, through the whole app in-process (FastAPI's TestClient: routing,
form parsing, database, argon2). Back-off rows are cleared between attempts (outside
the timed part) so that no attempt is answered 429.

``--without-dummy`` replays the behaviour before the fix (no argon2 verification for
an unknown e-mail) to show the difference the dummy hash makes.

    PYTHONPATH=. python benchmarks/login_timing.py --rounds 200
    PYTHONPATH=. python benchmarks/login_timing.py --rounds 200 --without-dummy
    PYTHONPATH=. python benchmarks/login_timing.py --db postgresql://…   # any database
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from painlink.store.account_tables import login_attempts
from painlink.web.app import create_app
from painlink.web.routes import auth as pages  # the login route looks verify_password up here
from painlink.web.security import AuthSettings

PASSWORD = "harbour violet tangerine"


def _token(c: TestClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', c.get(path).text)
    assert found is not None
    return found.group(1)


def run(db: str, rounds: int, without_dummy: bool) -> dict[str, float]:
    app = create_app(db, auth=AuthSettings(require_totp_for_staff=False))
    engine = app.state.store.engine
    c = TestClient(app, base_url="https://testserver")
    c.post(
        "/register",
        data={
            "csrf_token": _token(c, "/register"),
            "email": "known@x.org",
            "display_name": "Known",
            "password": PASSWORD,
        },
    )
    if without_dummy:
        real = pages.verify_password
        pages.verify_password = lambda stored, pw: stored is not None and real(stored, pw)  # type: ignore[assignment]
    client = TestClient(app, base_url="https://testserver")
    token = _token(client, "/login")
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    for i in range(rounds + 10):
        for kind in ("known", "unknown") if i % 2 else ("unknown", "known"):
            with engine.begin() as conn:
                conn.execute(login_attempts.delete())
            data = {"csrf_token": token, "email": f"{kind}@x.org", "password": "not it at all"}
            start = time.perf_counter()
            r = client.post("/login", data=data)
            elapsed = time.perf_counter() - start
            assert r.status_code == 400, r.status_code
            if i >= 10:  # the first rounds warm caches and connections up
                times[kind].append(elapsed * 1000)
    from scipy.stats import mannwhitneyu

    known, unknown = statistics.median(times["known"]), statistics.median(times["unknown"])
    # could the two sets of times come from one distribution? (a small p says no)
    p_value = float(mannwhitneyu(times["known"], times["unknown"]).pvalue)
    return {
        "known_median_ms": known,
        "unknown_median_ms": unknown,
        "difference_ms": unknown - known,
        "mann_whitney_p": p_value,
        "known_p10_p90": tuple(statistics.quantiles(times["known"], n=10)[::8]),  # type: ignore[dict-item]
        "unknown_p10_p90": tuple(statistics.quantiles(times["unknown"], n=10)[::8]),  # type: ignore[dict-item]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--without-dummy", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or f"sqlite:///{Path(tmp) / 'timing.db'}"
        result = run(db, args.rounds, args.without_dummy)
    mode = "before the fix (no dummy hash)" if args.without_dummy else "with the dummy hash"
    print(f"login with a wrong password, {args.rounds} rounds each, {mode}:")
    for key, value in result.items():
        if isinstance(value, tuple):
            print(f"  {key:18} {value[0]:.1f} / {value[1]:.1f} ms")
        elif key.endswith("_p"):
            print(f"  {key:18} {value:.3g}")
        else:
            print(f"  {key:18} {value:.1f} ms")


if __name__ == "__main__":
    main()
