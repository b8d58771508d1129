"""Telling customers what happened to their order: the messages (``messages``, pure) and the
port they are sent through (``gateway.ports.MailPort``; SMTP in production, a local mail
sink in the demo). Sends go through the outbox, so none is lost and none is sent twice."""
