"""The in-app inbox: the outbox row itself is the inbox entry, so sending only marks it delivered."""
from __future__ import annotations

from notices.channels.base import DeliveryResult, OutboundMessage


class InAppChannel:
    name = "inapp"

    def send(self, message: OutboundMessage) -> DeliveryResult:
        return DeliveryResult.sent()

    def close(self) -> None:
        return None
