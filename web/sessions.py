"""Web sign-in sessions (Flask-Login): who the browser is, checked on every request."""
from __future__ import annotations

from flask import Flask
from flask_login import UserMixin

from accounts.models import User
from extensions import db, login_manager


class SessionUser(UserMixin):
    """The signed-in account as Flask-Login sees it; the id carries the session version."""

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        # Bumping users.session_version (logout everywhere, password change, deactivation)
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


def register_sessions(app: Flask) -> None:
    """Send people who are not signed in to the sign-in page."""
    login_manager.login_view = "auth.login"
