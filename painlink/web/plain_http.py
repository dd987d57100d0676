"""Say so when painlink is opened over plain HTTP and its Secure cookies cannot work.

Why: painlink's sign-in cookies are ``Secure`` (sent and kept over HTTPS only). A
person self-hosting on a home network who opens ``http://192.168.1.5:8000`` has their
browser drop those cookies, so logging in came silently back to the login page (or met
"the form expired"). Browsers keep Secure cookies for ``localhost`` and loopback
addresses, so only a plain-HTTP request to any other host name is a problem. The login
and registration pages then say what is wrong and what to do, and the server log says
it once; ``painlink serve --insecure-cookies`` (a trusted home network, or a TLS proxy
that does not pass ``X-Forwarded-Proto``) turns the Secure flag off and the warning
with it.
"""

from __future__ import annotations

import ipaddress
import logging

from fastapi import Request

log = logging.getLogger("painlink.web")

#: what the pages say (plain words: the person may not know what a cookie is)
MESSAGE = (
    "You opened painlink over plain http://, not https://, so your browser will not keep "
    "you signed in: logging in would bring you back to this page. Open it through "
    "https://. Only on a home network you trust, whoever runs painlink can start it like "
    "this instead (see the README):"
)
#: the switch the message names, shown on a line of its own
COMMAND = "painlink serve --insecure-cookies"


def is_loopback(host: str | None) -> bool:
    """``localhost`` and loopback addresses, where browsers keep Secure cookies over http."""
    if not host:
        return False
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def plain_http_problem(request: Request) -> bool:
    """True when this request came over plain HTTP to a host where the browser will drop
    painlink's Secure cookies. (Behind a TLS proxy on this machine, uvicorn takes the
    scheme from ``X-Forwarded-Proto``, so the request counts as https.)"""
    return (
        bool(request.app.state.secure_cookies)
        and request.url.scheme == "http"
        and not is_loopback(request.url.hostname)
    )


def plain_http_warning(request: Request) -> str:
    """The message for the page, or "" when sign-in works; logs the problem once per app."""
    if not plain_http_problem(request):
        return ""
    if not getattr(request.app.state, "plain_http_logged", False):
        request.app.state.plain_http_logged = True
        log.warning(
            "painlink was opened over plain HTTP at %s://%s: browsers drop its Secure "
            "session cookie there, so nobody can log in. Serve it over HTTPS (a TLS proxy), "
            "or on a trusted home network start it with `%s`.",
            request.url.scheme,
            request.url.netloc,
            COMMAND,
        )
    return MESSAGE
