"""The demo's mail sink: a local SMTP server (aiosmtpd) that keeps every message it is
given, so ``commerce-gateway demo`` can show what customers were told."""

from __future__ import annotations

from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class SunkMail:
    sender: str
    to: tuple[str, ...]
    subject: str
    message_id: str
    body: str


@dataclass
class _Keeper:
    received: list[SunkMail] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content, policy=default)
        body = parsed.get_body(preferencelist=("plain",))
        self.received.append(
            SunkMail(
                sender=envelope.mail_from,
                to=tuple(envelope.rcpt_tos),
                subject=str(parsed["Subject"]).strip(),
                message_id=str(parsed["Message-ID"]),
                body=body.get_content().strip() if body is not None else "",
            )
        )
        return "250 Message accepted for delivery"


class MailSink:
    """Start with ``start()``, read ``received``, ``stop()`` at the end."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._keeper = _Keeper()
        self._controller = Controller(self._keeper, hostname=host, port=port or _free_port(host))

    @property
    def host(self) -> str:
        return str(self._controller.hostname)

    @property
    def port(self) -> int:
        return int(self._controller.port)

    @property
    def received(self) -> list[SunkMail]:
        return self._keeper.received

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


def _free_port(host: str) -> int:
    import socket

    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
