"""Webhooks sent by the simulators: one sender (queue, retries, fault knobs, record) shared by
all four, each product's signing rule, and the sandbox control endpoint."""

from sandbox.webhooks.control import control_routes
from sandbox.webhooks.delivery import Delivery, Message, Retry, Sent
from sandbox.webhooks.faults import DeliveryFaults
from sandbox.webhooks.sender import FlushAfterRequest, WebhookSender
from sandbox.webhooks.signing import Signer, hmac_base64

__all__ = [
    "Delivery",
    "DeliveryFaults",
    "FlushAfterRequest",
    "Message",
    "Retry",
    "Sent",
    "Signer",
    "WebhookSender",
    "control_routes",
    "hmac_base64",
]
