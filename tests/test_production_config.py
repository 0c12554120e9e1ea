"""Does production refuse to start without a real secret key, and start with one?"""
from __future__ import annotations

import secrets

import pytest

from config import DEV_SECRET_KEY, Config, ConfigError, ProductionConfig, config_from_env


@pytest.fixture
def production_env(monkeypatch, tmp_path):
    monkeypatch.setenv("GRIDMUSTER_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'production.db'}")
    monkeypatch.delenv("GRIDMUSTER_SECURE_COOKIES", raising=False)
    return monkeypatch


@pytest.mark.parametrize("secret", [None, "", DEV_SECRET_KEY, "too-short-0123456789", "a" * 64, "changeme" * 8],
                         ids=["missing", "empty", "development-default", "short", "one-character", "placeholder"])
def test_production_refuses_missing_default_short_or_trivial_secret(production_env, secret):
    if secret is None:
        production_env.delenv("SECRET_KEY", raising=False)
    else:
        production_env.setenv("SECRET_KEY", secret)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        config_from_env()


def test_production_refuses_missing_database_url(production_env):
    production_env.setenv("SECRET_KEY", secrets.token_urlsafe(48))
    production_env.delenv("DATABASE_URL")
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        ProductionConfig()


def test_production_starts_with_a_random_secret(production_env, tmp_path):
    """In a real deployment config.py is imported with SECRET_KEY set, so Config.SECRET_KEY is that key too."""
    from app import create_app

    secret = secrets.token_urlsafe(48)
    production_env.setenv("SECRET_KEY", secret)
    production_env.setattr(Config, "SECRET_KEY", secret)
    application = create_app(config_from_env())
    assert application.config["SECRET_KEY"] == secret
    assert application.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'production.db'}"
    # Production is HTTPS-only by default: secure __Host- cookies, and HSTS even behind a TLS proxy.
    assert application.config["SESSION_COOKIE_SECURE"] and application.config["SESSION_COOKIE_NAME"].startswith("__Host-")
    response = application.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
