"""The report for the doctor as a PDF: the patient's own (``/reports/me.pdf``) and a
clinician's download of a consenting patient's (``/clinic/patients/{id}/report.pdf``).

Both are GETs that change nothing; both are audited like the pages they sit on (the
patient's own read, the clinician's read checked against the patient's consent by
:func:`~painlink.web.deps.patient_access`, which writes the audit row either way).
Making a PDF is heavy (the analyses, then the layout), so both paths are in
``ANALYSIS_GETS`` (:mod:`painlink.web.limits`): a few at a time per process.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from painlink.services import report as reports
from painlink.web.deps import get_conn, patient_access, require_user

router = APIRouter(include_in_schema=False)

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def _pdf(patient_id: str, conn: sa.Connection) -> Response:
    made = reports.for_patient(conn, patient_id)
    name = _UNSAFE.sub("_", patient_id)[:64]
    return Response(
        reports.pdf(made),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="painlink-report-{name}.pdf"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/reports/me.pdf")
def own_report(request: Request, conn: sa.Connection = Depends(get_conn)) -> Response:
    """The signed-in patient's own report (no id in the address: only their own)."""
    user = require_user(request, conn, "patient")
    pid = user.patient_id or ""
    patient_access(request, conn, user, pid, "read", "report (PDF)")
    return _pdf(pid, conn)


@router.get("/clinic/patients/{patient_id}/report.pdf")
def clinic_report(
    patient_id: str, request: Request, conn: sa.Connection = Depends(get_conn)
) -> Response:
    """A consenting patient's report, for a clinician they share their diary with."""
    user = require_user(request, conn, "clinician")
    patient_access(request, conn, user, patient_id, "read", "report (PDF)")
    return _pdf(patient_id, conn)
