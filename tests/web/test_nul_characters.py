"""A NUL character in a form or query string is refused (422 naming the field), never a 500 on PostgreSQL."""
from __future__ import annotations

from sqlalchemy import func, select

from accounts.models import User
from extensions import db
from tests.conftest import form_csrf_token


def test_sign_in_and_registration_refuse_nul_and_write_nothing(page_client, tree):
    token = form_csrf_token(page_client.get("/login"))
    login = page_client.post("/login", data={"csrf_token": token, "login": "wang\x00", "password": "x" * 10})
    assert login.status_code == 422
    assert "有误的项：login" in login.get_data(as_text=True)
    token = form_csrf_token(page_client.get("/register"))
    register = page_client.post("/register", data={
        "csrf_token": token, "name": "陈\x00静", "mobile": "13912345678", "home_grid_id": str(tree.grid_a1.id),
        "password": "lantern river autumn", "confirm": "lantern river autumn", "consent": "y"})
    assert register.status_code == 422 and "name" in register.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_office_pages_refuse_nul_in_forms_and_query_strings(login_as):
    office = login_as("office")
    assert office.get("/office/campaigns?status=draft%00").status_code == 422
    token = form_csrf_token(office.get("/me"))
    contact = office.post("/me/contact", data={"csrf_token": token, "email": "a\x00@b.cn"})
    assert contact.status_code == 422
    db.session.expire_all()
    assert db.session.get(User, office.user.id).email is None
