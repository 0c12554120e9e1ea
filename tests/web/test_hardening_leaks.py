"""Small leaks and rough edges (issue #11): the Server header, the party-member count on the front page,
SMS replies in full-width digits."""
from __future__ import annotations

import re
import signal
import threading
import urllib.error
import urllib.request

import pytest
from werkzeug.serving import make_server

from app import SERVER_HEADER, DevRequestHandler
from bench.stampede import free_port, start_gunicorn
from campaigns.models import CallUp, CallUpStatus, Priority
from extensions import db
from tests.api.test_sms_arrival_times import _callup, _open
from tests.factories import VolunteerFactory

LEAKY = re.compile(r"gunicorn|werkzeug|python|\d+\.\d+", re.IGNORECASE)


def _server_headers(port: int, path: str) -> list[str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
            return answer.headers.get_all("Server") or []
    except urllib.error.HTTPError as error:
        return error.headers.get_all("Server") or []


def test_dev_server_says_gridmuster_without_server_or_python_versions(app):
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=DevRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for path in ("/healthz", "/api/v1/volunteers/1", "/no-such-page"):
            assert _server_headers(server.port, path) == [SERVER_HEADER], path
    finally:
        server.shutdown()
    assert not LEAKY.search(SERVER_HEADER)


@pytest.mark.slow
def test_gunicorn_says_gridmuster_once_on_every_answer(app):
    port = free_port()
    server = start_gunicorn(app.config["SQLALCHEMY_DATABASE_URI"], port, workers=1, threads=1)
    try:
        # An answer of the app, an API refusal, a page that does not exist.
        seen = {path: _server_headers(port, path) for path in ("/healthz", "/api/v1/volunteers/1", "/no-such-page")}
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)
    assert seen == {path: [SERVER_HEADER] for path in seen}


def _party_members_in_db(tree) -> None:
    for i in range(3):
        VolunteerFactory(home_grid_id=tree.grid_a1.id, identity_flags=1 if i == 0 else 0)
    db.session.commit()


def test_front_page_hides_the_party_member_count_from_anonymous_visitors(client, tree):
    _party_members_in_db(tree)
    page = client.get("/").get_data(as_text=True)
    assert 'id="volunteer-count"' in page
    assert 'id="party-count"' not in page and "党员 · of whom" not in page


@pytest.mark.parametrize(("role", "sees"), [("admin", True), ("office", True), ("volunteer", False)])
def test_front_page_shows_the_party_member_count_to_staff_only(login_as, tree, role, sees):
    _party_members_in_db(tree)
    client = login_as(role)
    page = client.get("/").get_data(as_text=True)
    row = re.search(r'<tr id="party-count"><th>[^<]*</th><td>([^<]*)</td>', page)
    assert (row.group(1) if row else None) == ("1" if sees else None)


@pytest.mark.parametrize(("text", "eta"), [("１", None), ("１　１５", 15), ("1\u3000３０", 30), ("１ ６０", 60)])
def test_sms_in_full_width_digits_accepts(api, text, eta):
    _, callup_id = _open("13812340011", priority=Priority.EMERGENCY)
    response = api.post("/sms/inbound", json={"from": "13812340011", "text": text})
    assert response.status_code == 200 and response.get_json()["status"] == "accepted"
    assert (_callup(callup_id).status, _callup(callup_id).eta_minutes) == (CallUpStatus.ACCEPTED, eta)


def test_sms_full_width_two_declines_and_full_width_nonsense_is_still_refused(api):
    _, callup_id = _open("13812340012")
    refused = api.post("/sms/inbound", json={"from": "13812340012", "text": "１　７"})
    assert refused.status_code == 422 and "text" in refused.get_json()["errors"]["json"]
    assert _callup(callup_id).status is CallUpStatus.SENT
    declined = api.post("/sms/inbound", json={"from": "13812340012", "text": "２"})
    assert declined.status_code == 200 and db.session.get(CallUp, callup_id).status is CallUpStatus.DECLINED
