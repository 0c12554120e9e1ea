"""双报到: a party member records their workplace party organisation on /me; an office sees the organisation's
quarterly report of its residents' service (registered, called, accepted, attended, hours) as a page and an XLSX."""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from accounts.models import AuditEvent
from campaigns import attendance, hours
from campaigns.models import CallUp, CallUpStatus
from campaigns.party_report import Quarter, parse_quarter, party_org_report
from campaigns.responses import accept_callup
from core.errors import ValidationFailed
from core.scope import Role, Scope
from extensions import db
from tests.conftest import form_csrf_token
from tests.factories import VolunteerFactory
from tests.scheduler.helpers import make_position
from volunteers.models import Identity, PartyOrganisation, Volunteer
from volunteers.party_orgs import set_party_org

PARTY = Identity.PARTY_MEMBER.bit
TZ = "Asia/Shanghai"
# 2026-11-10 10:00 in Shanghai: the fourth quarter.
SHIFT_AT = datetime(2026, 11, 10, 2, 0, tzinfo=timezone.utc)


def _serve(volunteer, *, came: bool, start=SHIFT_AT):
    position = make_position(now=start, headcount=1, starts_in=timedelta(0), title="社区环境整治")
    callup = CallUp(position_id=position.id, volunteer_id=volunteer.id, status=CallUpStatus.SENT,
                    send_at=start - timedelta(days=1), sent_at=start - timedelta(days=1),
                    expires_at=start - timedelta(hours=1))
    db.session.add(callup)
    db.session.commit()
    accept_callup(callup.id, actor="v", now=start - timedelta(hours=20))
    attendance.record_attendance(callup.id, attended=came, actor="office", now=start + timedelta(minutes=5),
                                 at=start if came else None)
    return callup


def test_a_party_member_records_their_organisation_on_me(login_as, tree):
    member = VolunteerFactory(home_grid_id=tree.grid_a1.id, identity_flags=PARTY)
    me = login_as("volunteer", volunteer_id=member.id)
    page = me.get("/me")
    assert 'id="party-org-form"' in page.get_data(as_text=True)
    me.post("/me/party-org", data={"csrf_token": form_csrf_token(page), "party_org": "  区卫健局 机关党委 "})
    db.session.expire_all()
    org = db.session.scalar(select(PartyOrganisation))
    assert org.name == "区卫健局 机关党委" and db.session.get(Volunteer, member.id).party_org_id == org.id
    # Someone who is not a party member gets no such form, and the service refuses them by field.
    other = VolunteerFactory(home_grid_id=tree.grid_a1.id, identity_flags=0)
    assert 'party-org-form' not in login_as("volunteer", volunteer_id=other.id).get("/me").get_data(as_text=True)
    with pytest.raises(ValidationFailed) as refused:
        set_party_org(other.id, "某单位党支部", now=SHIFT_AT)
    assert "party_org" in refused.value.errors


def test_quarterly_report_counts_service_of_members_in_the_office_area(tree, login_as):
    came = VolunteerFactory(name="赵敏", home_grid_id=tree.grid_a1.id, identity_flags=PARTY)
    absent = VolunteerFactory(name="钱进", home_grid_id=tree.grid_a2.id, identity_flags=PARTY)
    elsewhere = VolunteerFactory(name="孙立", home_grid_id=tree.grid_b1.id, identity_flags=PARTY)
    for person in (came, absent, elsewhere):
        set_party_org(person.id, "区卫健局机关党委", now=SHIFT_AT - timedelta(days=60))
    db.session.execute(Volunteer.__table__.update().values(created_at=SHIFT_AT - timedelta(days=60)))
    db.session.commit()
    _serve(came, came=True)
    _serve(absent, came=False)
    _serve(came, came=True, start=SHIFT_AT - timedelta(days=60))  # the third quarter: not counted
    hours.book_ended_shifts(now=SHIFT_AT + timedelta(days=1), timezone_name=TZ)
    org_id = db.session.scalar(select(PartyOrganisation.id))

    office = Scope(role=Role.OFFICE, actor="t", grid_id=tree.community_a.id, grid_path=tree.community_a.path)
    report = party_org_report(org_id, quarter=Quarter(2026, 4), scope=office, timezone_name=TZ)
    rows = {m.name: (m.called, m.accepted, m.attended, m.hours) for m in report.members}
    assert rows == {"赵敏": (1, 1, 1, 3.0), "钱进": (1, 1, 0, 0.0)}  # 孙立 lives in the other community
    assert report.totals == {"members": 2, "called": 2, "accepted": 2, "attended": 1, "hours": 3.0}
    assert parse_quarter("2026-q3", now=SHIFT_AT, timezone_name=TZ) == Quarter(2026, 3)
    with pytest.raises(ValidationFailed):
        parse_quarter("2026Q5", now=SHIFT_AT, timezone_name=TZ)

    staff = login_as("office", grid_id=tree.community_a.id)
    listing = staff.get("/office/party-orgs").get_data(as_text=True)
    assert "区卫健局机关党委" in listing and f'id="party-org-{org_id}"' in listing
    page = staff.get(f"/office/party-orgs/{org_id}?quarter=2026Q4").get_data(as_text=True)
    assert "赵敏" in page and "钱进" in page and "孙立" not in page
    assert staff.get(f"/office/party-orgs/{org_id}?quarter=bad").status_code == 422
    xlsx = staff.get(f"/office/party-orgs/{org_id}/report.xlsx?quarter=2026Q4")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    values = [[cell for cell in row] for row in sheet.iter_rows(values_only=True)]
    assert values[1][0] == "姓名" and ["赵敏", 1, 1, 1, 3.0] == [values[2][0], *values[2][3:]]
    assert values[-1][0] == "合计" and values[-1][-1] == 3.0
    assert db.session.scalar(select(AuditEvent.detail).where(AuditEvent.action == "party_report.export")) == \
        "2026Q4, 2 members, xlsx"
    assert login_as("volunteer").get(f"/office/party-orgs/{org_id}").status_code == 403
