"""SMS through an HTTP gateway: POST JSON {to, text, idempotency_key}."""
from __future__ import annotations

from notices.channels.base import DeliveryResult, OutboundMessage
from notices.channels.webhook import WebhookChannel


class SmsChannel(WebhookChannel):
    """The gateway takes the same POST as a webhook, with the mobile number as recipient."""

    name = "sms"

    def body(self, message: OutboundMessage) -> dict:
        return {"to": message.recipient, "text": message.text, "idempotency_key": message.idempotency_key}

    def send(self, message: OutboundMessage) -> DeliveryResult:
        if not message.recipient:
            return DeliveryResult.give_up("no mobile number")
        return super().send(message)
