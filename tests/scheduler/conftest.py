"""A real SMTP server (aiosmtpd) and a real HTTP receiver on 127.0.0.1, free ports."""
from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Receiver:
    """Records every POST: path, JSON body, Idempotency-Key and arrival time; answers ``status``."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.status = 200
        self.body = b'{"errcode": 0}'
        self.delay = 0.0
        self.fail_first: dict[str, int] = {}
        self.url = ""

    def keys(self) -> list[str]:
        with self.lock:
            return [r["key"] for r in self.requests]

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.keys()) >= count:
                return True
            time.sleep(0.02)
        return False


@pytest.fixture
def http_receiver():
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real gateways do
        disable_nagle_algorithm = True  # headers and body go in two writes; avoid 40 ms delayed-ACK stalls

        def do_POST(self):  # noqa: N802
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {}
            key = self.headers.get("Idempotency-Key") or body.get("idempotency_key") or ""
            if receiver.delay:
                time.sleep(receiver.delay)
            status = receiver.status
            with receiver.lock:
                if receiver.fail_first.get(key, 0) > 0:
                    receiver.fail_first[key] -= 1
                    status = 503
                receiver.requests.append({"path": self.path, "body": body, "key": key, "status": status,
                                          "at": time.time()})
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(receiver.body)))
            self.end_headers()
            self.wfile.write(receiver.body)

        def log_message(self, *args):
            return None

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):
            # A sender killed with kill -9 mid-request resets its connection: expected in the fault tests.
            if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
                super().handle_error(request, client_address)

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_port}"
    yield receiver
    server.shutdown()
    server.server_close()


class Mailbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        from email import message_from_bytes

        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    mailbox.url = f"smtp://127.0.0.1:{port}"
    yield mailbox
    controller.stop()


@pytest.fixture
def channels_config(app, monkeypatch, http_receiver, smtp_server):
    """Every channel pointed at the local receivers for the duration of a test."""
    monkeypatch.setitem(app.config, "SMTP_URL", smtp_server.url)
    monkeypatch.setitem(app.config, "WEBHOOK_URL", http_receiver.url + "/hook")
    monkeypatch.setitem(app.config, "WECOM_WEBHOOK_URL", http_receiver.url + "/wecom")
    monkeypatch.setitem(app.config, "SMS_GATEWAY_URL", http_receiver.url + "/sms")
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://gm.example.cn")
    return app.config
