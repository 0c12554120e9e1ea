"""The shift's QR code and /check-in/<token>, "everyone came" with undo on the board, hours on /me, the
certificate of service (a PDF whose text holds the Chinese name) and the public /verify/<code> page."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from accounts.models import AuditEvent
from callups import checkin_codes
from campaigns import attendance, hours
from campaigns.models import CallUp, CallUpStatus, CampaignStatus, ServiceCertificate
from campaigns.responses import accept_callup
from core.clock import utcnow
from extensions import db
from tests.conftest import form_csrf_token
from tests.scheduler.helpers import make_position, sent_callups
from volunteers.models import Volunteer

TZ = "Asia/Shanghai"


def _shift(tree, *, starts_in=timedelta(minutes=-30), people=2, accepted=2):
    now = utcnow()
    position = make_position(now=now, headcount=people, starts_in=starts_in, office_grid_id=tree.community_a.id,
                             status=CampaignStatus.PUBLISHED, title="垃圾分类督导")
    callups = sent_callups(position, people, now=now + starts_in - timedelta(hours=1))
    for callup in callups[:accepted]:
        accept_callup(callup.id, actor="v", now=now + starts_in - timedelta(minutes=50))
    return position, callups


def _status(callup_id):
    db.session.expire_all()
    return db.session.get(CallUp, callup_id)


def _code_path(office, position) -> str:
    sheet = office.get(f"/office/campaigns/{position.shift.campaign_id}/shifts/{position.shift_id}/code")
    assert sheet.status_code == 200 and "<svg" in sheet.get_data(as_text=True)
    url = re.search(r'id="sheet-url">([^<]+)<', sheet.get_data(as_text=True)).group(1)
    return "/" + url.split("/", 3)[3]


def test_scanning_the_shift_code_checks_the_volunteer_in_then_out(login_as, tree):
    position, [mine, other] = _shift(tree)
    office = login_as("office", grid_id=tree.community_a.id)
    board = office.get(f"/office/campaigns/{position.shift.campaign_id}").get_data(as_text=True)
    assert f'id="shift-code-{position.shift_id}"' in board and "<svg" in board
    path = _code_path(office, position)
    assert path.startswith("/check-in/")

    me = login_as("volunteer", volunteer_id=mine.volunteer_id)
    page = me.get(path)
    assert page.status_code == 200 and 'id="check-in-button"' in page.get_data(as_text=True)
    assert me.post(path, data={"csrf_token": form_csrf_token(page), "action": "in"}).status_code == 302
    assert _status(mine.id).status is CallUpStatus.ATTENDED
    assert _status(other.id).status is CallUpStatus.ACCEPTED  # only the scanner's own call-up
    page = me.get(path)
    assert 'id="check-out-button"' in page.get_data(as_text=True)
    me.post(path, data={"csrf_token": form_csrf_token(page), "action": "out"})
    assert _status(mine.id).checked_out_at is not None
    after = me.get(path).get_data(as_text=True)
    assert "已签退" in after and "check-out-button" not in after
    # The board shows the real times: half an hour late, and leaving long before the end.
    board = office.get(f"/office/campaigns/{position.shift.campaign_id}").get_data(as_text=True)
    row = board[board.find(f'id="roster-{mine.id}"'):]
    row = row[:row.find("</tr>")]
    assert "迟到 30 分钟" in row and "早退" in row and "签退 " in row and " out" not in row


def test_forged_expired_and_foreign_codes_check_nobody_in(login_as, tree, app):
    position, [mine, _] = _shift(tree)
    stranger = login_as("volunteer")
    me = login_as("volunteer", volunteer_id=mine.volunteer_id)
    token = checkin_codes.shift_code(position.shift, secret_key=app.config["SECRET_KEY"])
    forged = checkin_codes.shift_code(position.shift, secret_key="another-secret-key-of-enough-length-000")
    assert me.get(f"/check-in/{forged}").status_code == 404
    assert me.get(f"/check-in/{token[:-2]}xx").status_code == 404
    assert stranger.get(f"/check-in/{token}").status_code == 404  # not on this shift's roster
    with pytest.raises(Exception):
        checkin_codes.read_shift_code(token, now=checkin_codes.code_expires_at(position.shift),
                                      secret_key=app.config["SECRET_KEY"])
    office = login_as("office", grid_id=tree.community_a.id)
    assert office.get(f"/check-in/{token}").status_code == 403  # pages for volunteers only
    assert _status(mine.id).status is CallUpStatus.ACCEPTED


def test_everyone_came_then_undo_from_the_board(login_as, tree):
    position, callups = _shift(tree, people=3, accepted=3)
    campaign_id = position.shift.campaign_id
    office = login_as("office", grid_id=tree.community_a.id)
    board = office.get(f"/office/campaigns/{campaign_id}")
    response = office.post(f"/office/campaigns/{campaign_id}/shifts/{position.shift_id}/everyone-came",
                           data={"csrf_token": form_csrf_token(board)})
    assert response.status_code == 302 and "undo=" in response.headers["Location"]
    assert {_status(c.id).status for c in callups} == {CallUpStatus.ATTENDED}
    board = office.get(response.headers["Location"])
    text = board.get_data(as_text=True)
    assert f'id="undo-everyone-{position.shift_id}"' in text and "已登记 3 人到岗" in text
    batch = re.search(r'name="batch" value="([^"]+)"', text).group(1)
    office.post(f"/office/campaigns/{campaign_id}/shifts/{position.shift_id}/everyone-came/undo",
                data={"csrf_token": form_csrf_token(board), "batch": batch})
    assert {_status(c.id).status for c in callups} == {CallUpStatus.ACCEPTED}
    # Another office's staff cannot press it.
    other = login_as("office", grid_id=tree.community_b.id)
    refused = other.post(f"/office/campaigns/{campaign_id}/shifts/{position.shift_id}/everyone-came",
                         data={"csrf_token": form_csrf_token(other.get("/me"))})
    assert refused.status_code == 404
    assert {_status(c.id).status for c in callups} == {CallUpStatus.ACCEPTED}


def _served(tree, name="李娜"):
    """A volunteer who attended a shift that ended an hour ago, with the hours booked."""
    position, [callup] = _shift(tree, starts_in=timedelta(hours=-4), people=1, accepted=1)
    volunteer = db.session.get(Volunteer, callup.volunteer_id)
    volunteer.name = name
    db.session.commit()
    attendance.record_attendance(callup.id, attended=True, actor="office", now=position.shift.start_at)
    hours.book_ended_shifts(now=utcnow(), timezone_name=TZ)
    return callup


def test_me_shows_ledger_hours_and_the_certificate_pdf_holds_the_chinese_name(login_as, tree, client):
    callup = _served(tree)
    me = login_as("volunteer", volunteer_id=callup.volunteer_id)
    page = me.get("/me").get_data(as_text=True)
    assert "3.0 小时" in page and 'id="certificate-link"' in page
    assert re.search(r'id="hours-month-\d{4}-\d{2}"', page)
    pdf = me.get("/me/certificate.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    certificate = db.session.scalar(select(ServiceCertificate))
    assert "李娜" in text and "志愿服务证明" in text and certificate.code in text and "垃圾分类督导" in text
    # Downloading again gives the same certificate while no hours changed; the download is audited.
    me.get("/me/certificate.pdf")
    assert len(db.session.scalars(select(ServiceCertificate)).all()) == 1
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "certificate.download"))

    public = client.get(f"/verify/{certificate.code.lower()}")
    body = public.get_data(as_text=True)
    assert public.status_code == 200 and "李*" in body and "李娜" not in body and ">3.0<" in body
    person = db.session.get(Volunteer, callup.volunteer_id)
    assert person.mobile not in body and person.mobile[-4:] not in body
    assert client.get("/verify/ZZZZZZZZZZ").status_code == 404


def test_a_missing_font_is_a_clear_error_not_a_broken_pdf(login_as, tree, app, monkeypatch, caplog):
    callup = _served(tree)
    me = login_as("volunteer", volunteer_id=callup.volunteer_id)
    monkeypatch.setitem(app.config, "CERTIFICATE_FONT", "/nonexistent/font.ttc")
    response = me.get("/me/certificate.pdf")
    page = response.get_data(as_text=True)
    # The person reads what happened in their language; the path and what to install go to the log only.
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert 'id="error-text"' in page and "/nonexistent" not in page and "fonts-wqy-microhei" not in page
    assert "/nonexistent/font.ttc" in caplog.text and "fonts-wqy-microhei" in caplog.text
    db.session.rollback()
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action == "certificate.download")).all()


def test_no_hours_yet_means_no_certificate(login_as, tree):
    me = login_as("volunteer")
    response = me.get("/me/certificate.pdf")
    assert response.status_code == 302 and response.headers["Location"].endswith("/me")
    assert "还没有登记的服务时长" in me.get("/me").get_data(as_text=True)
