"""A page asked for while the database is down (a PostgreSQL restart) answers 503 with Retry-After, like the API,
not a bare 500: the error page must not need the database to say who is signed in."""
from __future__ import annotations

from sqlalchemy.exc import OperationalError

from extensions import login_manager


def _database_down(*_args):
    raise OperationalError("SELECT users", {}, Exception("connection failed: the database system is shutting down"))


def test_a_signed_in_page_gets_503_when_the_database_is_down(app, login_as, monkeypatch):
    client = login_as("office")
    assert client.get("/office/campaigns").status_code == 200
    # Every look-up of the signed-in account fails, as it does while the server restarts.
    monkeypatch.setattr(login_manager, "_user_callback", _database_down)
    response = client.get("/office/campaigns")
    assert response.status_code == 503, response.get_data(as_text=True)[:500]
    assert response.headers["Retry-After"]
    assert "503" in response.get_data(as_text=True)
