"""The check-in, check-out, trail, "everyone came" and hours ledger endpoints: who may call them, what they write,
and bad input answered 4xx naming the field with nothing written."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from accounts.models import Role
from accounts.services import create_token
from campaigns.hours import book_ended_shifts
from campaigns.models import AttendanceChange, CallUp, CallUpStatus, HoursEntry
from campaigns.responses import accept_callup
from core.clock import utcnow
from extensions import db
from tests.conftest import ApiClient
from tests.scheduler.helpers import make_callups, make_position

TZ = "Asia/Shanghai"


def _token(role: Role, **binding) -> str:
    return create_token(name=f"test {role.value}", role=role, now=utcnow(), **binding)[1]


def _roster(tree, *, starts_in=timedelta(minutes=-30), count=2):
    now = utcnow()
    position = make_position(now=now, headcount=count, starts_in=starts_in, office_grid_id=tree.community_a.id)
    sent = now + starts_in - timedelta(hours=1)
    callups = make_callups(position, count, now=sent, status=CallUpStatus.SENT, expires_at=sent + timedelta(hours=1),
                           home_grid_id=tree.grid_a1.id)
    for callup in callups:
        accept_callup(callup.id, actor="v", now=now + starts_in - timedelta(minutes=50))
    return position, callups


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_volunteer_checks_in_and_out_of_their_own_call_up_only(client, tree):
    _, [mine, theirs] = _roster(tree)
    me = ApiClient(client, _token(Role.VOLUNTEER, volunteer_id=mine.volunteer_id))
    body = me.post(f"/callups/{mine.id}/check-in", json={}).get_json()
    assert (body["status"], body["late_minutes"]) == ("attended", 30)
    assert me.post(f"/callups/{theirs.id}/check-in", json={}).status_code == 404
    refused = me.post(f"/callups/{mine.id}/check-out", json={"at": utcnow().isoformat()})
    assert refused.status_code == 422 and "at" in refused.get_json()["errors"]["json"]
    out = me.post(f"/callups/{mine.id}/check-out", json={}).get_json()
    assert out["checked_out_at"] is not None and out["early_minutes"] > 100
    assert me.patch(f"/callups/{mine.id}/attendance", json={"reason": "x"}).status_code == 403


def test_office_records_real_times_corrects_them_and_the_trail_shows_it(client, tree):
    position, [a, _] = _roster(tree)
    office = ApiClient(client, _token(Role.OFFICE, grid_id=tree.community_a.id))
    start = position.shift.start_at
    body = office.post(f"/callups/{a.id}/check-in", json={"at": (start + timedelta(minutes=20)).isoformat()}).get_json()
    assert body["late_minutes"] == 20
    fixed = office.patch(f"/callups/{a.id}/attendance", json={
        "checked_in_at": (start + timedelta(minutes=2)).isoformat(), "reason": "签到表 9:02"})
    assert fixed.status_code == 200 and fixed.get_json()["late_minutes"] == 0
    trail = office.get(f"/callups/{a.id}/attendance-changes").get_json()
    assert [(c["field"], c["reason"]) for c in trail] == [("checked_in_at", "签到表 9:02")]
    assert trail[0]["before"].startswith((start + timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M"))
    no_reason = office.patch(f"/callups/{a.id}/attendance", json={"checked_in_at": start.isoformat()})
    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["errors"]["json"]
    other = ApiClient(client, _token(Role.OFFICE, grid_id=tree.community_b.id))
    assert other.get(f"/callups/{a.id}/attendance-changes").status_code == 404
    assert _count(AttendanceChange) == 1


def test_everyone_attended_and_undo_over_the_api(client, tree):
    position, callups = _roster(tree, count=3)
    office = ApiClient(client, _token(Role.OFFICE, grid_id=tree.community_a.id))
    batch = office.post(f"/shifts/{position.shift_id}/everyone-attended").get_json()
    assert sorted(batch["callup_ids"]) == sorted(c.id for c in callups)
    bad = office.post(f"/shifts/{position.shift_id}/everyone-attended/undo", json={"batch": "nope"})
    assert bad.status_code == 422 and "batch" in bad.get_json()["errors"]["json"]
    undone = office.post(f"/shifts/{position.shift_id}/everyone-attended/undo", json={"batch": batch["batch"]})
    assert sorted(undone.get_json()["callup_ids"]) == sorted(batch["callup_ids"])
    db.session.expire_all()
    assert {db.session.get(CallUp, c.id).status for c in callups} == {CallUpStatus.ACCEPTED}
    code = office.get(f"/shifts/{position.shift_id}/check-in-code").get_json()
    assert "/check-in/" in code["url"] and code["expires_at"]


def test_ledger_rows_manual_hours_corrections_and_totals(client, tree):
    position, [a, b] = _roster(tree, starts_in=timedelta(hours=-4))
    office = ApiClient(client, _token(Role.OFFICE, grid_id=tree.community_a.id))
    office.post(f"/callups/{a.id}/check-in", json={"at": position.shift.start_at.isoformat()})
    assert book_ended_shifts(now=utcnow(), timezone_name=TZ) == 1
    rows = office.get(f"/volunteers/{a.volunteer_id}/hours").get_json()
    assert [(r["source"], r["hours"]) for r in rows] == [("recorded", 3.0)]

    manual = office.post(f"/volunteers/{b.volunteer_id}/hours", json={"callup_id": b.id, "hours": 2,
                                                                       "reason": "忘记签到，现场负责人确认"})
    assert manual.status_code == 201 and manual.get_json()["source"] == "manual"
    capped = office.post(f"/volunteers/{b.volunteer_id}/hours", json={"callup_id": b.id, "hours": 1.5,
                                                                       "reason": "again"})
    assert capped.status_code == 422 and "hours" in capped.get_json()["errors"]["json"]
    wrong = office.post(f"/volunteers/{b.volunteer_id}/hours", json={"callup_id": a.id, "hours": 1, "reason": "x"})
    assert wrong.status_code == 422 and "callup_id" in wrong.get_json()["errors"]["json"]

    corrected = office.post(f"/volunteers/{a.volunteer_id}/hours/corrections",
                            json={"entry_id": rows[0]["id"], "hours": 2.5, "reason": "提前半小时离开"})
    assert corrected.status_code == 201
    assert (corrected.get_json()["hours"], corrected.get_json()["corrects_id"]) == (-0.5, rows[0]["id"])
    me = ApiClient(client, _token(Role.VOLUNTEER, volunteer_id=a.volunteer_id))
    totals = me.get(f"/volunteers/{a.volunteer_id}/hours/totals").get_json()
    assert totals["total"] == {"hours": 2.5, "recorded_hours": 2.5, "manual_hours": 0.0, "shifts": 1}
    assert len(totals["months"]) == 1 and totals["years"][0]["hours"] == 2.5
    assert me.get(f"/volunteers/{b.volunteer_id}/hours").status_code == 404
    assert me.post(f"/volunteers/{a.volunteer_id}/hours", json={"callup_id": a.id, "hours": 1,
                                                                "reason": "x"}).status_code == 403
    certificate = me.post(f"/volunteers/{a.volunteer_id}/certificates")
    assert certificate.status_code == 201 and certificate.get_json()["hours"] == 2.5
    assert _count(HoursEntry) == 3


@pytest.mark.parametrize("body,field", [({"callup_id": 1, "hours": 0, "reason": "x"}, "hours"),
                                        ({"callup_id": 1, "hours": 25, "reason": "x"}, "hours"),
                                        ({"callup_id": 1, "hours": "two", "reason": "x"}, "hours"),
                                        ({"callup_id": 1, "hours": 1}, "reason"),
                                        ({"callup_id": "1", "hours": 1, "reason": "x"}, "callup_id"),
                                        ({"hours": 1, "reason": "x", "minutes": 3}, "minutes")])
def test_bad_manual_hours_are_422_naming_the_field(api, tree, body, field):
    _, [a, _] = _roster(tree, starts_in=timedelta(hours=-4))
    response = api.post(f"/volunteers/{a.volunteer_id}/hours", json=body)
    assert response.status_code == 422 and field in response.get_json()["errors"]["json"]
    assert _count(HoursEntry) == 0
