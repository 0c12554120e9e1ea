"""What every channel takes and returns; channels never touch models or the session."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class OutboundMessage:
    """One message as read from an outbox row."""

    idempotency_key: str
    kind: str
    recipient: str | None
    subject: str
    text: str
    callup_id: int | None = None
    volunteer_id: int | None = None
    language: str = "zh"
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeliveryResult:
    """ok, or an error that is worth retrying (transient) or not (permanent)."""

    ok: bool
    error: str | None = None
    permanent: bool = False

    @classmethod
    def sent(cls) -> "DeliveryResult":
        return cls(True)

    @classmethod
    def retry(cls, error: str) -> "DeliveryResult":
        return cls(False, error[:500])

    @classmethod
    def give_up(cls, error: str) -> "DeliveryResult":
        return cls(False, error[:500], permanent=True)


class Channel(Protocol):
    name: str

    def send(self, message: OutboundMessage) -> DeliveryResult: ...

    def close(self) -> None: ...


def http_result(status: int, body: str = "") -> DeliveryResult:
    """Map an HTTP answer: 2xx sent; 408/429/5xx retry; other 4xx will never work."""
    if 200 <= status < 300:
        return DeliveryResult.sent()
    if status in (408, 425, 429) or status >= 500:
        return DeliveryResult.retry(f"HTTP {status}: {body[:200]}")
    return DeliveryResult.give_up(f"HTTP {status}: {body[:200]}")
