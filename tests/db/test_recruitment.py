"""Recruitment from the database: hard constraints, reasons, escalation, rotation, atomic publish."""
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from campaigns import services
from campaigns.models import CallUp, CallUpStatus, Campaign, CampaignStatus, Position
from campaigns.reasons import said
from core.errors import Conflict
from core.i18n import in_language
from extensions import db
from volunteers.services import register_volunteer
from core.scope import Scope

TZ = "Asia/Shanghai"
# 2026-12-05 is a Saturday; 09:00-12:00 in Shanghai.
SAT_9 = datetime(2026, 12, 5, 1, 0, tzinfo=timezone.utc)
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)
SATURDAY_MORNING = [{"weekday": 5, "start": "08:00", "end": "13:00"}]


def _skill(code, level, expires=None, number=None):
    item = {"code": code, "level": level, "certificate_expires_on": expires}
    return item if number is None else {**item, "certificate_no": number}


# gas_check needs a certificate (tests/conftest.py), so the default person holds one.
def person(grid, mobile, *, skills=(("gas_check", 3, date(2027, 6, 30)),), identities=("resident_volunteer",),
           **extra):
    data = {"name": f"人{mobile[-3:]}", "mobile": mobile, "home_grid_id": grid.id,
            "skills": [_skill(*item) for item in skills],
            "identities": list(identities), "availability": SATURDAY_MORNING, "max_callups_per_month": 4}
    data.update(extra)
    return register_volunteer(data, scope=Scope.system("test"), now=NOW)


def campaign(tree, *, office=None, grid=None, headcount=1, priority="routine", skills=(("gas_check", 3),),
             start=SAT_9, hours=3, min_party=0, identities=(), policy=None, title="燃气入户"):
    from campaigns.models import Priority
    from core.kinds import CampaignKind

    data = {"title": title, "kind": CampaignKind.GAS_SAFETY, "priority": Priority(priority),
            "office_grid_id": (office or tree.community_a).id, "policy": policy or {},
            "shifts": [{"start": start, "end": start + timedelta(hours=hours), "grid_id": (grid or tree.grid_a1).id,
                        "positions": [{"role": "检查员", "headcount": headcount, "min_party_members": min_party,
                                       "required_skills": [{"code": c, "min_level": l} for c, l in skills],
                                       "preferred_skills": [], "required_identities": list(identities)}]}]}
    return services.draft_campaign(data, scope=Scope.system("test"), now=NOW)


def proposed(plan):
    return sorted(p.volunteer_id for pos in plan.positions for p in pos.proposals)


def match(c):
    return services.match_campaign(c.id, now=NOW, timezone_name=TZ)


def test_match_is_a_dry_run(tree):
    people = [person(tree.grid_a1, f"1390000000{i}") for i in range(3)]
    c = campaign(tree, headcount=2)
    plan = match(c)
    assert len(proposed(plan)) == 2 and set(proposed(plan)) <= {p.id for p in people}
    assert db.session.scalar(select(func.count()).select_from(CallUp)) == 0
    assert db.session.get(Campaign, c.id).status is CampaignStatus.DRAFT


def test_match_hard_constraints_from_database(tree):
    ok = person(tree.grid_a1, "13900000001")
    person(tree.grid_a1, "13900000002", skills=[("gas_check", 2, None)])  # level too low
    person(tree.grid_a1, "13900000003", skills=[("gas_check", 4, date(2026, 12, 1))])  # certificate expired
    person(tree.grid_a1, "13900000004", availability=[{"weekday": 6, "start": "08:00", "end": "13:00"}])
    person(tree.grid_a1, "13900000005", blackout_dates=[date(2026, 12, 5)])
    person(tree.grid_a1, "13900000006", status="paused")
    person(tree.grid_a1, "13900000007", max_callups_per_month=0)
    person(tree.grid_b1, "13900000008")  # other community: outside a routine community campaign
    plan = match(campaign(tree, headcount=8))
    assert proposed(plan) == [ok.id]
    assert plan.positions[0].unfilled == 7


def test_match_excludes_people_busy_in_another_campaign_including_rest(tree):
    busy = person(tree.grid_a1, "13900000001")
    free = person(tree.grid_a1, "13900000002")
    first = campaign(tree, headcount=1, title="先发布")
    services.publish_campaign(first.id, actor="test", now=NOW, timezone_name=TZ)
    taken = db.session.scalar(select(CallUp.volunteer_id))
    # An overlapping shift, then one that starts 6 hours after the first ends (inside the 12 h rest).
    overlapping = match(campaign(tree, headcount=2, start=SAT_9 + timedelta(hours=1)))
    assert proposed(overlapping) == sorted({busy.id, free.id} - {taken})
    too_soon = match(campaign(tree, headcount=2, start=SAT_9 + timedelta(hours=9), hours=1))
    assert taken not in proposed(too_soon)


def test_match_party_minimum_and_identity(tree):
    party = person(tree.grid_a1, "13900000001", identities=["party_member"])
    plain = [person(tree.grid_a1, f"1390000001{i}") for i in range(3)]
    plan = match(campaign(tree, headcount=2, min_party=1))
    chosen = proposed(plan)
    assert party.id in chosen and len(chosen) == 2
    assert [p.party_slot for p in plan.positions[0].proposals if p.volunteer_id == party.id] == [True]
    doctors = match(campaign(tree, headcount=1, identities=["doctor"]))
    assert proposed(doctors) == [] and doctors.positions[0].reasons
    assert {p.id for p in plain}.isdisjoint(proposed(doctors))


def test_match_reason_names_missing_skill_code(tree):
    person(tree.grid_a1, "13900000001")
    plan = match(campaign(tree, skills=[("first_aid", 2)]))
    reason = plan.positions[0].reasons[0]
    assert reason["code"] == "no_skill"
    assert reason["params"]["skill"] == "first_aid"
    # The catalogue has no English name for it, so English falls back to the code; Chinese uses 急救.
    assert "急救" in reason["text"] and "first_aid" not in reason["text"]
    with in_language("en"):
        [english] = said([reason])
    assert "first_aid" in english["text"] and "急救" not in english["text"]


def test_match_urgent_escalates_grid_community_street(tree):
    same_grid = person(tree.grid_a1, "13900000001")
    same_community = person(tree.grid_a2, "13900000002")
    other_community = person(tree.grid_b1, "13900000003")
    plan = match(campaign(tree, office=tree.street, headcount=3, priority="urgent"))
    assert proposed(plan) == sorted([same_grid.id, same_community.id, other_community.id])
    assert plan.positions[0].steps == [{"radius_level": 3, "filled": 1}, {"radius_level": 2, "filled": 1},
                                       {"radius_level": 1, "filled": 1}]
    levels = {p.volunteer_id: p.radius_level for p in plan.positions[0].proposals}
    assert levels[same_grid.id] == 3 and levels[other_community.id] == 1


def test_match_prefers_the_nearer_person(tree):
    far = person(tree.grid_a2, "13900000001")
    near = person(tree.grid_a1, "13900000002")
    plan = match(campaign(tree, headcount=1))
    assert proposed(plan) == [near.id]
    assert far.id in [v for v, _ in plan.positions[0].standby]


def test_publish_stores_scheduled_callups_and_refuses_twice(tree):
    people = [person(tree.grid_a1, f"1390000000{i}") for i in range(3)]
    c = campaign(tree, headcount=2)
    published = services.publish_campaign(c.id, actor="token:1:x", now=NOW, timezone_name=TZ)
    assert published.status is CampaignStatus.PUBLISHED
    callups = db.session.scalars(select(CallUp)).all()
    assert len(callups) == 2 and {cu.volunteer_id for cu in callups} <= {p.id for p in people}
    for callup in callups:
        assert callup.status is CallUpStatus.SCHEDULED and callup.send_at == NOW
        assert callup.score > 0 and "cost" in callup.breakdown
        assert [(e.from_state, e.to_state, e.actor) for e in callup.events] == [(None, "scheduled", "token:1:x")]
    with pytest.raises(Conflict):
        services.publish_campaign(c.id, actor="x", now=NOW, timezone_name=TZ)


def test_publish_is_all_or_nothing(tree, monkeypatch):
    for i in range(3):
        person(tree.grid_a1, f"1390000000{i}")
    c = campaign(tree, headcount=3)

    def failing_events(rows, **kwargs):  # the call-ups are written; their events fail
        assert db.session.scalar(select(func.count()).select_from(CallUp)) == 3
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_record_events", failing_events)
    with pytest.raises(RuntimeError):
        services.publish_campaign(c.id, actor="x", now=NOW, timezone_name=TZ)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(CallUp)) == 0
    assert db.session.get(Campaign, c.id).status is CampaignStatus.DRAFT


def test_publish_rotates_fairly_between_equally_fit_people(tree):
    people = [person(tree.grid_a1, f"139000000{i:02d}", max_callups_per_month=20) for i in range(10)]
    chosen = []
    for week in range(10):
        c = campaign(tree, headcount=1, start=SAT_9 + timedelta(days=7 * week), title=f"第{week}周")
        services.publish_campaign(c.id, actor="x", now=NOW, timezone_name=TZ)
        chosen.append(db.session.scalar(select(CallUp.volunteer_id).join(Position)
                                        .where(Position.id == c.shifts[0].positions[0].id)))
    assert sorted(chosen) == sorted(p.id for p in people)
