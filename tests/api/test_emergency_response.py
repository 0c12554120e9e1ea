"""Emergencies over the API: unfilled places reported on publish, overrides that re-match at once, grid alerts
with acknowledgements, real arrivals against the hour, the duty rota and the emergency preference."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from accounts.models import Role
from accounts.services import create_token
from accounts.users import create_user
from notices.models import Channel, Notification, NotificationKind
from campaigns.models import CallUp, CallUpStatus, GridAlertRecipient
from core.clock import utcnow
from extensions import db
from tests.api.test_overrides import ALWAYS, _emergency, _office
from tests.conftest import volunteer_body
from tests.factories import VolunteerFactory
from volunteers.availability import windows_to_mask
from volunteers.models import ChannelConsent, Identity

NEVER = windows_to_mask([])


def test_publish_reports_places_nobody_can_fill_and_the_board_keeps_them(client, tree):
    VolunteerFactory(home_grid_id=tree.grid_a1.id, availability_mask=ALWAYS)
    db.session.commit()
    office = _office(client, tree.community_a)
    campaign_id = _emergency(office, tree)  # 3 places, one person
    published = office.post(f"/campaigns/{campaign_id}/publish")
    assert published.status_code == 200
    body = published.get_json()
    assert body["unfilled_places"] == 2
    unfilled = body["shifts"][0]["positions"][0]["unfilled"]
    assert unfilled["open"] == 2 and unfilled["reasons"][0]["code"] == "radius"
    assert unfilled["reasons"][0]["text"].startswith("only 1 people live within")  # English by default
    with client.application.app_context():  # a request of its own (the language is kept per context)
        board = office.get(f"/campaigns/{campaign_id}/staffing",
                           headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_json()["positions"][0]
    assert board["unfilled"]["open"] == 2 and "只有 1 名人员" in board["unfilled"]["reasons"][0]["text"]


def test_a_street_widening_its_own_campaign_rematches_at_once(client, tree):
    from core.scope import Scope
    from grids.services import create_grid

    other_street = create_grid({"code": "S2", "name": "长河街道", "level": 1, "parent_id": tree.district.id},
                               scope=Scope.system("test"))
    far = [VolunteerFactory(home_grid_id=other_street.id, availability_mask=ALWAYS).id for _ in range(3)]
    db.session.commit()
    street = _office(client, tree.street)
    start = utcnow() + timedelta(hours=2)
    body = {"title": "防汛应急", "kind": "flood_emergency", "priority": "emergency", "office_grid_id": tree.street.id,
            "shifts": [{"start": start.isoformat(), "end": (start + timedelta(hours=4)).isoformat(),
                        "grid_id": tree.grid_a1.id, "positions": [{"role": "沙袋封堵", "headcount": 3}]}]}
    campaign_id = street.post("/campaigns", json=body).get_json()["id"]
    assert street.post(f"/campaigns/{campaign_id}/publish").get_json()["unfilled_places"] == 3
    # Urgent work starts at the shift's grid: the street may open its own campaign to the district.
    opened = street.post(f"/campaigns/{campaign_id}/overrides", json={"grid_id": tree.district.id, "reason": "全区支援"})
    assert opened.status_code == 201, opened.get_json()
    assert opened.get_json()["rematched"] == 3
    called = set(db.session.scalars(select(CallUp.volunteer_id)))
    assert called == set(far)
    assert street.get(f"/campaigns/{campaign_id}/staffing").get_json()["positions"][0]["unfilled"] is None


def _staff(role_grid, login: str):
    return create_user(login=login, display_name=login, password="river-stone-42", role=Role.OFFICE,
                       actor="test", now=utcnow(), grid_id=role_grid.id)


def test_grid_alert_reaches_staff_of_every_level_and_grid_members_and_counts_acknowledgements(
        client, tree, channels_config):
    office = _office(client, tree.community_a)
    campaign_id = _emergency(office, tree)
    community, street, below, other = (_staff(tree.community_a, "社区干部"), _staff(tree.street, "街道干部"),
                                       _staff(tree.grid_a1, "网格长"), _staff(tree.community_b, "湘湖干部"))
    worker = VolunteerFactory(home_grid_id=tree.grid_a2.id, identity_flags=Identity.GRID_WORKER.bit)
    leader = VolunteerFactory(home_grid_id=tree.grid_a1.id, identity_flags=Identity.BUILDING_LEADER.bit)
    VolunteerFactory(home_grid_id=tree.grid_b1.id, identity_flags=Identity.GRID_WORKER.bit)  # another community
    VolunteerFactory(home_grid_id=tree.grid_a1.id)  # not a grid member
    for person in (worker, leader):
        person.channel_consents = [ChannelConsent(channel="sms", granted_at=utcnow())]
    db.session.commit()
    assert office.post(f"/campaigns/{campaign_id}/alerts", json={"message": "西区爆管"}).status_code == 409  # a draft
    office.post(f"/campaigns/{campaign_id}/publish")
    assert office.post(f"/campaigns/{campaign_id}/alerts", json={"message": ""}).status_code == 422
    sent = office.post(f"/campaigns/{campaign_id}/alerts", json={"message": "西区爆管，请入户提醒低洼住户"})
    assert sent.status_code == 201, sent.get_json()
    alert = sent.get_json()
    assert alert["recipients"] == 5 and alert["acknowledged"] == 0
    rows = db.session.execute(select(GridAlertRecipient.user_id, GridAlertRecipient.volunteer_id)).all()
    assert {r.user_id for r in rows if r.user_id} == {community.id, street.id, below.id}
    assert {r.volunteer_id for r in rows if r.volunteer_id} == {worker.id, leader.id}
    assert other.id not in {r.user_id for r in rows}
    # Due at once, whatever the hour; the grid members' rows carry the acknowledgement link.
    messages = db.session.scalars(select(Notification).where(Notification.kind == NotificationKind.ALERT)).all()
    assert all(abs((m.due_at - m.created_at).total_seconds()) < 1 for m in messages)
    texts = [m.payload["text"] for m in messages if m.channel is Channel.SMS]
    assert texts and all(t.startswith("【预警】") and "/a/" in t for t in texts)

    link = next(t for t in texts).split("https://gm.example.cn")[1].split()[0]
    page = client.get(link)
    assert page.status_code == 200 and "西区爆管" in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count(GridAlertRecipient.acked_at))) == 0  # a GET changes nothing
    assert client.post(link, data={"note": "已通知3号楼"}).status_code == 200
    assert client.post(link).status_code == 200  # twice is harmless
    board = office.get(f"/campaigns/{campaign_id}/staffing").get_json()
    assert board["alerts"] == {"sent": 1, "recipients": 5, "acknowledged": 1, "last_at": board["alerts"]["last_at"]}
    listed = office.get(f"/campaigns/{campaign_id}/alerts").get_json()[0]
    assert listed["acknowledged"] == 1 and any(p["note"] == "已通知3号楼" for p in listed["people"])
    assert client.get("/a/not-a-token").status_code == 404


def test_routine_campaigns_do_not_alert_the_grid(client, tree, api):
    from tests.api.test_campaigns import campaign_body

    body = campaign_body(tree, priority="routine")
    campaign_id = api.post("/campaigns", json=body).get_json()["id"]
    api.post(f"/campaigns/{campaign_id}/publish")
    refused = api.post(f"/campaigns/{campaign_id}/alerts", json={"message": "测试"})
    assert refused.status_code == 409 and "priority" in refused.get_json()["errors"]["json"]


def test_arrivals_are_counted_against_the_one_hour_standard(client, tree):
    people = [VolunteerFactory(home_grid_id=tree.grid_a1.id, availability_mask=ALWAYS) for _ in range(4)]
    db.session.commit()
    office = _office(client, tree.community_a)
    campaign_id = _emergency(office, tree)
    office.post(f"/campaigns/{campaign_id}/publish")
    alarm = utcnow()
    callups = db.session.scalars(select(CallUp).order_by(CallUp.id)).all()[:3]
    for callup, minutes in zip(callups, (10, 25, 75)):
        callup.status, callup.sent_at = CallUpStatus.ATTENDED, alarm
        callup.responded_at, callup.attended_at = alarm, alarm + timedelta(minutes=minutes)
    db.session.commit()
    board = office.get(f"/campaigns/{campaign_id}/staffing").get_json()
    assert board["arrivals"] == {"within_15": 1, "within_30": 1, "within_60": 0, "later": 1, "not_arrived": 0}
    assert len(people) == 4


def test_emergency_preference_is_set_by_the_office_and_by_the_person(api, tree):
    created = api.post("/volunteers", json=volunteer_body(tree.grid_a1.id))
    assert created.status_code == 201 and created.get_json()["emergency_calls"] == "any_hour"
    vid = created.get_json()["id"]
    bad = api.patch(f"/volunteers/{vid}", json={"emergency_calls": "sometimes"})
    assert bad.status_code == 422 and "emergency_calls" in bad.get_json()["errors"]["json"]
    changed = api.patch(f"/volunteers/{vid}", json={"emergency_calls": "available_hours"})
    assert changed.status_code == 200 and changed.get_json()["emergency_calls"] == "available_hours"


def test_duty_rota_takes_mondays_and_designated_identities_only(api, tree):
    cadre = api.post("/volunteers", json=volunteer_body(tree.grid_a1.id, identities=["sunk_down_cadre"],
                                                        party_branch=None)).get_json()["id"]
    resident = api.post("/volunteers", json=volunteer_body(tree.grid_a1.id, mobile="13912340000",
                                                           identities=["resident_volunteer"],
                                                           party_branch=None)).get_json()["id"]
    assert api.put(f"/volunteers/{cadre}/duty-weeks", json={"weeks": ["2026-12-08"]}).status_code == 422  # Tuesday
    refused = api.put(f"/volunteers/{resident}/duty-weeks", json={"weeks": ["2026-12-07"]})
    assert refused.status_code == 422 and "weeks" in refused.get_json()["errors"]["json"]
    saved = api.put(f"/volunteers/{cadre}/duty-weeks", json={"weeks": ["2026-12-14", "2026-12-07"]})
    assert saved.status_code == 200 and saved.get_json() == {"weeks": ["2026-12-07", "2026-12-14"]}
    assert api.get(f"/volunteers/{cadre}/duty-weeks").get_json() == {"weeks": ["2026-12-07", "2026-12-14"]}
    assert api.put(f"/volunteers/{cadre}/duty-weeks", json={"weeks": []}).get_json() == {"weeks": []}
    assert api.get("/volunteers/999999/duty-weeks").status_code == 404
