"""Pairing agreements on the pages: the office that signed records one on its review page (each bad field named,
nothing written), and the enterprise sees it on its portal with its state, in either language."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from core.clock import utcnow
from extensions import db
from tests.conftest import form_csrf_token
from tests.factories import EnterpriseFactory
from volunteers.models import PairingAgreement


def _flashes(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    start = page.find('id="flashes"')
    return page[start:page.find("</ul>", start)] if start >= 0 else ""


def test_an_office_records_an_agreement_and_the_enterprise_sees_it(login_as, tree):
    enterprise = EnterpriseFactory(status="approved", requested_grid_id=tree.community_a.id, name="钱塘燃气")
    db.session.commit()
    office = login_as("office", grid_id=tree.community_a.id)
    page = office.get("/partners/review").get_data(as_text=True)
    assert f'id="record-agreement-{enterprise.id}"' in page and "尚未登记共建协议" in page
    today = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date()
    token = form_csrf_token(office.get("/partners/review"))
    body = {"csrf_token": token, "enterprise_id": enterprise.id, "grid_id": tree.community_a.id,
            "signed_on": str(today - timedelta(days=300)), "valid_until": str(today + timedelta(days=20)),
            "note": "2026 共建"}

    bad = office.post("/partners/agreements", data={**body, "valid_until": str(today - timedelta(days=400))})
    assert bad.status_code == 303
    assert "不能早于签订日期" in _flashes(office, "/partners/review")
    office.post("/partners/agreements", data={**body, "signed_on": "not a day"})
    assert "签订日期" in _flashes(office, "/partners/review")
    office.post("/partners/agreements", data={**body, "grid_id": tree.community_b.id})
    assert "签订方" in _flashes(office, "/partners/review")
    assert db.session.scalar(select(func.count()).select_from(PairingAgreement)) == 0

    office.post("/partners/agreements", data=body)
    assert "已登记协议：江南社区" in _flashes(office, "/partners/review")
    assert db.session.scalar(select(func.count()).select_from(PairingAgreement)) == 1

    portal = login_as("enterprise", enterprise_id=enterprise.id)
    page = portal.get("/enterprise").get_data(as_text=True)
    assert "共建协议" in page and 'data-state="ending"' in page and "还剩 20 天" in page
    english = portal.get("/enterprise?lang=en").get_data(as_text=True)
    assert "Pairing agreements" in english and "Ending soon (20 days left)" in english


def test_the_enterprise_portal_says_when_no_agreement_is_recorded(login_as, tree):
    enterprise = EnterpriseFactory(status="approved")
    db.session.commit()
    page = login_as("enterprise", enterprise_id=enterprise.id).get("/enterprise").get_data(as_text=True)
    assert f'id="no-agreements-{enterprise.id}"' in page
