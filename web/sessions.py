"""Web sign-in sessions (Flask-Login): who the browser is, checked on every request, with idle and absolute timeouts."""
from __future__ import annotations

from flask import Flask, current_app, g, session
from flask_login import UserMixin, login_user, logout_user

from accounts.models import User
from core.clock import utcnow
from core.i18n import _l
from extensions import db, login_manager

# Keys this module keeps in the (signed) session cookie: when the session began and when it was last used.
STARTED_KEY = "started_at"
SEEN_KEY = "seen_at"
# Writing the cookie on every request is wasted work; a minute's resolution is enough for a 30-minute timeout.
SEEN_RESOLUTION_SECONDS = 60


class SessionUser(UserMixin):
    """The signed-in account as Flask-Login sees it; the id carries the session version."""

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        # Bumping users.session_version (logout, password change, deactivation)
        # makes every older session id stale, so those sessions end server-side.
        return f"{self.user.id}:{self.user.session_version}"


@login_manager.user_loader
def load_user(session_id: str) -> SessionUser | None:
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return SessionUser(user)


def start_session(user: User) -> None:
    """A fresh session for ``user``: nothing of the anonymous session (or an attacker's planted one) survives."""
    session.clear()
    login_user(SessionUser(user))
    now = int(utcnow().timestamp())
    session[STARTED_KEY] = now
    session[SEEN_KEY] = now


def end_session() -> None:
    """Forget the signed-in account in this browser."""
    logout_user()
    session.clear()


def _expire_stale_session() -> None:
    """Before each request: end a session idle too long or older than the absolute limit."""
    if "_user_id" not in session:
        return
    now = utcnow().timestamp()
    started, seen = session.get(STARTED_KEY), session.get(SEEN_KEY)
    idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
    longest = current_app.config["SESSION_MAX_HOURS"] * 3600
    if not isinstance(started, int) or not isinstance(seen, int) or now - seen > idle or now - started > longest:
        end_session()
        g.session_expired = True
        return
    if now - seen >= SEEN_RESOLUTION_SECONDS:
        session[SEEN_KEY] = int(now)


def register_sessions(app: Flask) -> None:
    """Send people who are not signed in to the sign-in page; end idle and over-age sessions."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in first.")
    login_manager.session_protection = "basic"
    if app.config.get("SECURE_COOKIES"):
        # The __Host- prefix binds the cookie to this host over HTTPS; browsers refuse it over plain HTTP.
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True,
                          SESSION_COOKIE_NAME="__Host-gridmuster", SESSION_COOKIE_PATH="/")
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.before_request(_expire_stale_session)
