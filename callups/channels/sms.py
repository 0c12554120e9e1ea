"""SMS through an HTTP gateway: POST JSON {to, text, idempotency_key}."""
from __future__ import annotations

import httpx

from callups.channels.base import DeliveryResult, OutboundMessage, http_result


class SmsChannel:
    name = "sms"

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.client = httpx.Client(timeout=timeout)

    def send(self, message: OutboundMessage) -> DeliveryResult:
        if not message.recipient:
            return DeliveryResult.give_up("no mobile number")
        try:
            response = self.client.post(self.url, json={"to": message.recipient, "text": message.text,
                                                        "idempotency_key": message.idempotency_key},
                                        headers={"Idempotency-Key": message.idempotency_key})
        except httpx.HTTPError as error:
            return DeliveryResult.retry(f"{type(error).__name__}: {error}")
        return http_result(response.status_code, response.text)

    def close(self) -> None:
        self.client.close()
