"""The customer's mail: one message per event, recorded on the order's timeline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from gateway.domain import SourceSystem
from gateway.domain.mail import CustomerMail
from gateway.domain.outbox import MailSent, MailWrite
from gateway.ports import MailPort, UnitOfWork
from gateway.services.outbox.handler import Delivered, EarlierResults, Record, note_on_order

MAIL = SourceSystem.MAIL


class MailWrites:
    target: ClassVar[SourceSystem] = MAIL

    def __init__(self, mailer: MailPort) -> None:
        self._mailer = mailer

    async def deliver(self, message: MailWrite, earlier: EarlierResults) -> Delivered:
        mail = CustomerMail(message.reference, message.to, message.subject, message.body)
        sent = MailSent(message_id=await self._mailer.send(mail))
        return Delivered(sent, _sent(message))


def _sent(message: MailWrite) -> Record:
    async def record(uow: UnitOfWork, now: datetime) -> Sequence[str]:
        await note_on_order(
            uow,
            message.ordering_key,
            now,
            MAIL,
            "CUSTOMER_NOTIFIED",
            f"mailed {message.to}: {message.subject}",
        )
        return []

    return record
