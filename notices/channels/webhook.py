"""Generic JSON webhook and the WeCom group robot (markdown), over HTTP with a pooled client."""
from __future__ import annotations

import httpx

from notices.channels.base import DeliveryResult, OutboundMessage, http_result


class WebhookChannel:
    """POSTs every message as JSON with an Idempotency-Key header; the receiver dedupes."""

    name = "webhook"

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.client = httpx.Client(timeout=timeout)

    def body(self, message: OutboundMessage) -> dict:
        return {"idempotency_key": message.idempotency_key, "kind": message.kind,
                "callup_id": message.callup_id, "volunteer_id": message.volunteer_id,
                "subject": message.subject, "text": message.text, "language": message.language}

    def post(self, payload: dict, headers: dict | None = None) -> httpx.Response | DeliveryResult:
        """POST ``payload``; a transport error becomes a retry result."""
        try:
            return self.client.post(self.url, json=payload, headers=headers)
        except httpx.HTTPError as error:
            return DeliveryResult.retry(f"{type(error).__name__}: {error}")

    def send(self, message: OutboundMessage) -> DeliveryResult:
        response = self.post(self.body(message), {"Idempotency-Key": message.idempotency_key})
        if isinstance(response, DeliveryResult):
            return response
        return http_result(response.status_code, response.text)

    def close(self) -> None:
        self.client.close()


# WeCom robot error codes: 45009 = over the rate limit, -1 = system busy; both pass with time.
WECOM_RETRY_CODES = {45009, -1}


class WeComChannel(WebhookChannel):
    """A WeCom group robot: markdown, mentioning the person by WeCom id (never by phone)."""

    name = "wecom"

    def body(self, message: OutboundMessage) -> dict:
        mention = f"<@{message.recipient}>\n" if message.recipient else ""
        return {"msgtype": "markdown",
                "markdown": {"content": f"**{message.subject}**\n{mention}{message.text}"}}

    def send(self, message: OutboundMessage) -> DeliveryResult:
        response = self.post(self.body(message))
        if isinstance(response, DeliveryResult):
            return response
        result = http_result(response.status_code, response.text)
        if not result.ok:
            return result
        # The robot answers HTTP 200 with {"errcode": …} even when it refuses the message.
        try:
            code = int(response.json().get("errcode", 0))
        except (ValueError, AttributeError):
            code = 0
        if code == 0:
            return DeliveryResult.sent()
        error = f"WeCom errcode {code}: {response.text[:200]}"
        return DeliveryResult.retry(error) if code in WECOM_RETRY_CODES else DeliveryResult.give_up(error)
