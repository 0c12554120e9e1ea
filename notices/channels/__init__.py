"""The channel registry, built from settings: a name → Channel map for one dispatcher."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from notices.channels.base import Channel, DeliveryResult, OutboundMessage
from notices.channels.email import EmailChannel
from notices.channels.inapp import InAppChannel
from notices.channels.sms import SmsChannel
from notices.channels.webhook import WebhookChannel, WeComChannel

__all__ = ["Channel", "DeliveryResult", "OutboundMessage", "build_channels", "close_channels"]


def build_channels(config: Mapping[str, Any]) -> dict[str, Channel]:
    """Every configured channel; the in-app inbox is always there."""
    timeout = float(config.get("CHANNEL_TIMEOUT_SECONDS", 10))
    if config.get("OUTBOX_LEASE_SECONDS", 60) <= timeout:
        # A lease shorter than a send would let a second dispatcher resend a message still in flight.
        raise ValueError("GRIDMUSTER_OUTBOX_LEASE_SECONDS must be longer than GRIDMUSTER_CHANNEL_TIMEOUT_SECONDS")
    channels: dict[str, Channel] = {"inapp": InAppChannel()}
    if config.get("SMTP_URL"):
        channels["email"] = EmailChannel(config["SMTP_URL"], config["SMTP_FROM"], timeout)
    if config.get("WEBHOOK_URL"):
        channels["webhook"] = WebhookChannel(config["WEBHOOK_URL"], timeout)
    if config.get("WECOM_WEBHOOK_URL"):
        channels["wecom"] = WeComChannel(config["WECOM_WEBHOOK_URL"], timeout)
    if config.get("SMS_GATEWAY_URL"):
        channels["sms"] = SmsChannel(config["SMS_GATEWAY_URL"], timeout)
    return channels


def close_channels(channels: Mapping[str, Channel]) -> None:
    """Release pooled connections."""
    for channel in channels.values():
        channel.close()
