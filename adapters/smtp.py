"""MailPort over SMTP (aiosmtplib): one connection per message, STARTTLS or implicit TLS
and login when configured. The message's Message-ID is derived from its outbox reference,
so a receiving system can tell a repeated delivery (a worker that died between sending and
recording) from a second message."""

from __future__ import annotations

from email.message import EmailMessage
from hashlib import sha256

import aiosmtplib

from gateway.domain.mail import CustomerMail
from gateway.errors import BackendRejected, BackendUnavailable

BACKEND = "smtp"


class SmtpMailer:
    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        username: str | None = None,
        password: str | None = None,
        start_tls: bool = False,
        use_tls: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._username = username
        self._password = password
        self._start_tls = start_tls
        self._use_tls = use_tls
        self._timeout = timeout

    async def send(self, mail: CustomerMail) -> str:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        domain = self._sender.rpartition("@")[2] or "commerce-gateway"
        message_id = f"<{sha256(mail.reference.encode()).hexdigest()[:32]}@{domain}>"
        message["Message-ID"] = message_id
        message.set_content(mail.body)
        try:
            await aiosmtplib.send(
                message,
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                start_tls=self._start_tls,
                use_tls=self._use_tls,
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as refused:
            raise BackendRejected(f"recipient refused: {refused}", backend=BACKEND) from None
        except (aiosmtplib.SMTPException, OSError) as error:
            raise BackendUnavailable(f"{type(error).__name__}: {error}", backend=BACKEND) from None
        return message_id
