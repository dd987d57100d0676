"""The demo's data: simulated patients, a clinician, an admin and a login per patient,
all marked as the demo's own so that seeding again replaces them and nothing else.

``painlink demo --db URL`` may be pointed at a database already in use. What the demo
made is recognised by its marks, and only that is ever deleted:

- demo patients: an id of :data:`DEMO_PREFIX` and six digits, and the simulator's
  display name ending in :data:`SIMULATED_MARK` (a patient merely named like a demo
  patient is kept, and the seeding stops rather than replace them);
- demo staff: the two e-mail addresses of :data:`STAFF`, under the demo's own domain
  (:data:`DEMO_DOMAIN`), with the role the demo gave them;
- demo patient logins: ``patientN@demo.painlink`` of a demo patient, deleted with
  their patient.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlalchemy as sa

    from painlink.store.store import Store

# A passphrase the strength check accepts (the old "painlink-demo" contains the
# service's name and is refused); it is printed, so demo data only.
DEMO_PASSWORD = "copper kettle meadow"
DEMO_PREFIX = "DEMO"
DEMO_DOMAIN = "demo.painlink"
SIMULATED_MARK = "(simulated)"
CLINICIAN = f"clinician@{DEMO_DOMAIN}"
ADMIN = f"admin@{DEMO_DOMAIN}"
#: e-mail → (display name, role) of the demo's staff accounts
STAFF = {CLINICIAN: ("Dr. Demo", "clinician"), ADMIN: ("Admin", "admin")}
_DEMO_ID = re.compile(rf"{DEMO_PREFIX}\d{{6}}")


class DemoError(RuntimeError):
    """The demo cannot be seeded without touching data it did not create."""


def _demo_patients(conn: sa.Connection) -> list[tuple[str, str]]:
    """(patient id, display name) of every patient the demo made, by id."""
    import sqlalchemy as sa

    from painlink.store.tables import patients

    c = patients.c
    rows = conn.execute(
        sa.select(c.patient_id, c.display_name)
        .where(c.patient_id.startswith(DEMO_PREFIX, autoescape=True))
        .order_by(c.patient_id)
    ).all()
    return [
        (pid, name)
        for pid, name in rows
        if _DEMO_ID.fullmatch(pid) and (name or "").endswith(SIMULATED_MARK)
    ]


def _demo_staff(conn: sa.Connection) -> list[int]:
    """Account ids of the demo's clinician and admin (address and role as it made them)."""
    import sqlalchemy as sa

    from painlink.store.account_tables import users

    rows = conn.execute(
        sa.select(users.c.id, users.c.email, users.c.role, users.c.patient_id).where(
            users.c.email.in_(list(STAFF))
        )
    ).all()
    return [r.id for r in rows if r.patient_id is None and STAFF[r.email][1] == r.role]


def _addresses(patients: int) -> list[str]:
    return [*STAFF, *(f"patient{i}@{DEMO_DOMAIN}" for i in range(1, patients + 1))]


def _refuse_taken_addresses(conn: sa.Connection, emails: list[str]) -> None:
    """:class:`DemoError` if an account the demo did not make holds one of ``emails``."""
    import sqlalchemy as sa

    from painlink.store.account_tables import users

    demo_patients = {pid for pid, _ in _demo_patients(conn)}
    demo_staff = set(_demo_staff(conn))
    rows = conn.execute(
        sa.select(users.c.id, users.c.email, users.c.patient_id).where(users.c.email.in_(emails))
    ).all()
    clash = sorted(
        r.email for r in rows if r.id not in demo_staff and r.patient_id not in demo_patients
    )
    if clash:
        raise DemoError(
            f"{', '.join(clash)}: account(s) the demo did not make hold the demo's "
            "address(es); nothing was changed"
        )


def remove_demo(store: Store) -> int:
    """Delete the demo's patients (with their diaries and logins) and its staff
    accounts; returns how many patients. Nothing without the demo's marks is touched."""
    from painlink.store.diary_io import erase_accounts

    with store.engine.connect() as conn:
        ids = [pid for pid, _ in _demo_patients(conn)]
    deleted = store.delete(ids) if ids else 0
    with store.writing() as conn:
        erase_accounts(conn, _demo_staff(conn))
    return deleted


def demo_accounts(store: Store) -> list[tuple[str, str]]:
    """A demo clinician who sees most demo patients, an admin, and a login per demo
    patient; returns (e-mail, who) of each. Raises :class:`DemoError` if an address the
    demo would use belongs to an account it did not make."""
    from painlink.services import accounts
    from painlink.services.passwords import hash_password
    from painlink.store.account_tables import users

    logins = [(CLINICIAN, "clinician"), (ADMIN, "admin")]
    with store.writing() as conn:
        rows = _demo_patients(conn)
        _refuse_taken_addresses(conn, _addresses(len(rows)))
        for email, (name, role) in STAFF.items():
            accounts.create_staff(conn, email, name, DEMO_PASSWORD, role)
        hashed = hash_password(DEMO_PASSWORD)
        for i, (pid, name) in enumerate(rows, start=1):
            email = f"patient{i}@{DEMO_DOMAIN}"
            conn.execute(
                users.insert().values(
                    email=email,
                    display_name=name,
                    role="patient",
                    password_hash=hashed,
                    patient_id=pid,
                )
            )
            if i <= max(1, len(rows) - 2):  # the last two keep their diary to themselves
                accounts.grant(conn, pid, CLINICIAN)
            logins.append((email, f"patient {pid}"))
    return logins


def demo_end_date() -> dt.date:
    """The last day of the demo's diaries: today where it is earliest among the zones
    the simulator gives its patients. Why: a diary that stops on a fixed date makes the
    calendar open on an empty month and the forecast refuse ("your diary stops on …");
    ending today shows what a person keeping a diary sees. The earliest zone's today is
    today or yesterday for every demo patient, and never a day they have not reached."""
    from painlink.rules.plausibility import today
    from painlink.simulate.spec import ZONES

    return min(today(zone) for zone in ZONES)


def seed_demo(store: Store, patients: int, truth_path: Path) -> list[tuple[str, str]]:
    """Replace the demo's data in ``store`` with ``patients`` simulated a year each,
    ending today (:func:`demo_end_date`), and their accounts; returns the logins. The
    simulation is seeded (the same patients each time; their days follow the calendar).
    Raises :class:`~painlink.store.diary_io.PatientExistsError` when a patient the demo
    did not make has a demo patient's id, and :class:`DemoError` when an account it did
    not make has a demo address."""
    from painlink.simulate.output import run_simulation
    from painlink.simulate.spec import SimulationSpec
    from painlink.store.diary_io import PatientExistsError, existing_patients

    with store.engine.connect() as conn:  # refuse before anything is deleted
        planned = [f"{DEMO_PREFIX}{i:06d}" for i in range(1, patients + 1)]
        demo = {pid for pid, _ in _demo_patients(conn)}
        if clash := [p for p in existing_patients(conn, planned) if p not in demo]:
            raise PatientExistsError(clash)
        _refuse_taken_addresses(conn, _addresses(patients))
    remove_demo(store)
    days = 365
    start = demo_end_date() - dt.timedelta(days=days - 1)
    spec = SimulationSpec(
        patients=patients,
        days=days,
        seed=2026,
        id_prefix=DEMO_PREFIX,
        start=start,
        last_day_kept=True,
    )
    run_simulation(spec, store=store, truth_path=truth_path)
    return demo_accounts(store)
