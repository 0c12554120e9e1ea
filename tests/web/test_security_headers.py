"""Does every answer carry the security headers, do error pages hide failures, and do logs hide link tokens?"""
from __future__ import annotations

import importlib.util
import logging
import os
import urllib.error
import urllib.request
from datetime import timedelta
from types import SimpleNamespace

import pytest

from tests.conftest import TestConfig

POLICY = "default-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def assert_secure_headers(response, referrer: str = "strict-origin-when-cross-origin") -> None:
    headers = response.headers
    policy = headers["Content-Security-Policy"]
    assert policy.startswith(POLICY), policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "script-src" not in policy
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == referrer
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "charset=utf-8" in headers["Content-Type"], headers["Content-Type"]


def test_page_carries_security_headers_and_no_hsts_over_http(client):
    response = client.get("/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert_secure_headers(response)
    assert "Strict-Transport-Security" not in response.headers


def test_api_json_answer_carries_security_headers(api, tree):
    response = api.get("/grids")
    assert response.status_code == 200 and len(response.get_json()) == 7
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert_secure_headers(response)


def test_api_401_keeps_json_shape_and_headers(client):
    response = client.get("/api/v1/campaigns")
    assert response.status_code == 401
    assert response.get_json()["code"] == 401 and response.get_json()["status"] == "Unauthorized"
    assert_secure_headers(response)


def test_unknown_page_is_html_404_with_headers(client):
    response = client.get("/no-such-page")
    body = response.get_data(as_text=True)
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert 'id="error-code">404<' in body and "页面不存在" in body and "This page does not exist" not in body
    assert_secure_headers(response)


def test_unknown_page_speaks_the_browsers_language(page_client):
    english = page_client.get("/no-such-page", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="en">' in english and "This page does not exist." in english and "页面不存在" not in english


def test_unknown_api_path_keeps_json_404(api):
    response = api.get("/no-such-thing")
    assert response.status_code == 404 and response.get_json()["status"] == "Not Found"
    assert_secure_headers(response)


def test_wrong_method_on_page_is_html_405_with_allow(client):
    response = client.delete("/")
    assert response.status_code == 405 and response.mimetype == "text/html"
    assert "GET" in response.headers["Allow"]
    assert 'id="error-code">405<' in response.get_data(as_text=True)
    assert_secure_headers(response)


def test_answer_link_page_keeps_no_referrer(client):
    response = client.get("/r/not-a-real-token")
    assert response.status_code == 404
    assert_secure_headers(response, referrer="no-referrer")


def test_static_files_carry_headers_and_charset(client):
    response = client.get("/static/swagger-init.js")
    assert response.status_code == 200 and "SwaggerUIBundle" in response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert_secure_headers(response)
    response.close()


def test_hsts_only_over_https(client):
    secure = client.get("/healthz", base_url="https://localhost")
    hsts = secure.headers["Strict-Transport-Security"]
    max_age = int(hsts.split(";")[0].removeprefix("max-age="))
    assert max_age >= 31536000 and "includeSubDomains" in hsts
    assert "Strict-Transport-Security" not in client.get("/healthz").headers


def test_hsts_when_deployment_is_https_only(app, client, monkeypatch):
    """Behind a TLS proxy the request may look like plain HTTP; SECURE_COOKIES says the site is HTTPS only."""
    monkeypatch.setitem(app.config, "SECURE_COOKIES", True)
    assert client.get("/healthz").headers["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.fixture
def failing_app():
    """A fresh app with a page and an API route that raise, added before its first request."""
    from app import create_app

    application = create_app(TestConfig)

    def explode():
        raise RuntimeError("secret-detail: connection string postgresql://user:pw@db")

    application.add_url_rule("/boom", "boom_page", explode)
    application.add_url_rule("/api/v1/boom", "boom_api", explode)
    return application


def test_unexpected_error_on_page_is_bare_html_500(failing_app, caplog):
    response = failing_app.test_client().get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500 and response.mimetype == "text/html"
    assert 'id="error-code">500<' in body and "服务器出错" in body
    for leak in ("Traceback", "RuntimeError", "secret-detail", "postgresql://"):
        assert leak not in body
    assert_secure_headers(response)
    assert "secret-detail" in caplog.text  # the log keeps what the page hides


def test_unexpected_error_on_api_is_json_500(failing_app, admin_token):
    response = failing_app.test_client().get("/api/v1/boom", headers={"Authorization": f"Bearer {admin_token}"})
    body = response.get_json()
    assert response.status_code == 500
    assert body["code"] == 500 and body["status"] == "Internal Server Error"
    for leak in ("Traceback", "RuntimeError", "secret-detail"):
        assert leak not in response.get_data(as_text=True)
    assert_secure_headers(response)


def test_dev_server_log_hides_answer_link_token(live_server, caplog):
    caplog.set_level(logging.INFO, logger="werkzeug")
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(live_server + "/r/tok3n-that-must-not-be-logged?lang=en", timeout=10)
    assert answer.value.code == 404
    lines = [record.getMessage() for record in caplog.records if record.name == "werkzeug"]
    # The dev server colours the request line on a terminal; look for the pieces, not the whole line.
    assert any("GET /r/…?lang=en HTTP/1.1" in line and line.endswith(" 404 -") for line in lines), lines
    assert "tok3n" not in caplog.text


def _gunicorn_settings():
    spec = importlib.util.spec_from_file_location("gunicorn_settings", os.path.join(ROOT, "gunicorn.conf.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gunicorn_access_line_hides_answer_link_token(capsys):
    from gunicorn.config import Config as GunicornConfig

    settings = _gunicorn_settings()
    cfg = GunicornConfig()
    for name in ("bind", "workers", "accesslog", "errorlog", "logger_class"):
        cfg.set(name, getattr(settings, name))
    assert cfg.workers == 2 and cfg.logger_class is settings.RedactingLogger
    logger = cfg.logger_class(cfg)
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/r/abcDEF123-_xyz?lang=en", "PATH_INFO": "/r/abcDEF123-_xyz",
               "QUERY_STRING": "lang=en", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "10.0.0.7",
               "HTTP_REFERER": "https://gm.example.cn/r/abcDEF123-_xyz"}
    response = SimpleNamespace(status="200 OK", headers=[("Content-Type", "text/html")], sent=512)
    request = SimpleNamespace(headers=[("HOST", "gm.example.cn")])
    logger.access(response, request, environ, timedelta(milliseconds=12))
    line = capsys.readouterr().out
    assert '"GET /r/…?lang=en HTTP/1.1" 200 512 "https://gm.example.cn/r/…"' in line, line
    assert "abcDEF123" not in line
