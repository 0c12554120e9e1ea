"""E-mail over SMTP (smtplib); the Message-ID comes from the idempotency key so duplicates can be spotted."""
from __future__ import annotations

import smtplib
import socket
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import unquote, urlsplit

from notices.channels.base import DeliveryResult, OutboundMessage


def message_id(idempotency_key: str, sender: str) -> str:
    """A stable Message-ID: the same message always carries the same id."""
    domain = sender.rpartition("@")[2] or "gridmuster.local"
    local = "".join(ch if ch.isalnum() else "." for ch in idempotency_key)
    return f"<{local}@{domain}>"


class EmailChannel:
    name = "email"

    def __init__(self, url: str, sender: str, timeout: float) -> None:
        parts = urlsplit(url)
        self.ssl = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.ssl else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender
        self.timeout = timeout

    def send(self, message: OutboundMessage) -> DeliveryResult:
        if not message.recipient:
            return DeliveryResult.give_up("no e-mail address")
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.recipient
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = message_id(message.idempotency_key, self.sender)
        mail["X-Idempotency-Key"] = message.idempotency_key
        mail.set_content(message.text)
        client_cls = smtplib.SMTP_SSL if self.ssl else smtplib.SMTP
        try:
            with client_cls(self.host, self.port, timeout=self.timeout) as client:
                if self.user:
                    client.login(self.user, self.password or "")
                client.send_message(mail)
        except smtplib.SMTPRecipientsRefused as error:
            return DeliveryResult.give_up(f"recipient refused: {error.recipients}")
        except smtplib.SMTPResponseException as error:
            text = f"SMTP {error.smtp_code}: {error.smtp_error!r}"
            return DeliveryResult.give_up(text) if 500 <= error.smtp_code < 600 else DeliveryResult.retry(text)
        except (smtplib.SMTPException, OSError, socket.timeout) as error:
            return DeliveryResult.retry(f"SMTP: {error}")
        return DeliveryResult.sent()

    def close(self) -> None:
        return None
