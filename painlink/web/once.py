"""A form sent twice writes once: a token per rendered form, used up by its first write.

Why: a double tap on "Headache now" once made three ongoing attacks in one minute, and
a resent form (back button, a slow network's retry) wrote its entry again — every
extra row bends the counts behind ICHD-3 and medication overuse.

How: each render of a form carries a fresh random token (``{{ once() }}`` in the form,
from macros.html). The route hands its write to :func:`once`, which claims the token
in the write's own transaction *before* writing: the first submit writes and keeps
what it answered (a redirect's location, or the page it rendered); any later submit
of the same token — even one racing the first on another connection, which waits on
the first's row and then finds it — writes nothing and gets that same answer. A write
that fails (a refused value, status 400) gives its token back, so the corrected form
can be sent. A form without a token (API clients, the CLI) writes as before.

Tokens are kept per person for :data:`FORM_TOKEN_DAYS`, then forgotten.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable

import sqlalchemy as sa
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from painlink.services.accounts import now
from painlink.store.account_tables import form_tokens

#: the hidden field's name
FIELD = "form_token"
#: how long a used token is remembered: longer than any page stays open in a tab
FORM_TOKEN_DAYS = 7
_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_token() -> str:
    """A fresh token for one render of one form (128 random bits)."""
    return secrets.token_urlsafe(16)


def once(
    conn: sa.Connection, user_id: int, data: dict[str, str], act: Callable[[], Response]
) -> Response:
    """Run ``act`` (the form's write, in the request's write transaction) at most once
    per form token in ``data``; a repeat answers what the first submit answered."""
    token = data.pop(FIELD, "")
    if not _SHAPE.fullmatch(token):
        return act()
    ft = form_tokens.c
    mine = (ft.user_id == user_id) & (ft.token == token)
    try:
        with conn.begin_nested():
            conn.execute(form_tokens.insert().values(user_id=user_id, token=token, used_at=now()))
    except sa.exc.IntegrityError:  # sent before (or being sent right now, and now done)
        return _replay(conn, mine)
    response = act()
    if response.status_code >= 400:  # nothing was accepted: the corrected form may be sent
        conn.execute(form_tokens.delete().where(mine))
        return response
    if 300 <= response.status_code < 400:
        keep = {"location": response.headers.get("location", "/home")[:2000]}
    else:
        keep = {"body": bytes(response.body).decode("utf-8", "replace")}
    conn.execute(form_tokens.update().where(mine).values(**keep))
    conn.execute(
        form_tokens.delete().where(
            ft.user_id == user_id, ft.used_at < now() - dt.timedelta(days=FORM_TOKEN_DAYS)
        )
    )
    return response


def _replay(conn: sa.Connection, mine: sa.ColumnElement[bool]) -> Response:
    row = conn.execute(sa.select(form_tokens.c.location, form_tokens.c.body).where(mine)).first()
    if row is not None and row.body is not None:
        return HTMLResponse(row.body)
    return RedirectResponse(row.location if row is not None and row.location else "/home", 303)
