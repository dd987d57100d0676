"""E-mail through the clinic's own SMTP server (PAINLINK_SMTP_*), for password-reset
and registration links. Sent after the response, so that whether a message goes out
(the address has an account or not) does not change how long the page takes."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage

from painlink.web.security import SmtpSettings

log = logging.getLogger("painlink.mail")


def send_mail(smtp: SmtpSettings, to: str, subject: str, body: str) -> bool:
    """Send one plain-text message; a failure is logged, never shown to the visitor
    (who must not learn from an error whether the address exists)."""
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=15) as server:
            if smtp.starttls:
                # certificate and host name checked: a failed check sends nothing
                server.starttls(context=ssl.create_default_context(cafile=smtp.ca_file))
            if smtp.user:
                server.login(smtp.user, smtp.password or "")
            server.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        log.error("could not send e-mail through %s:%s: %s", smtp.host, smtp.port, exc)
        return False
    return True
