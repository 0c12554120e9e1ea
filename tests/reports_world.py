"""A small district with people, campaigns and call-ups in known states, for the report figures' hand counts.

Street S (communities CA: grids A1, A2; CB: grid B1, from the ``tree`` fixture) and a second street S2
(community C2, grid G2). November 2026 (Asia/Shanghai) is the period; every time below is UTC, well inside it.

    C1  routine, office CA, published 11-10 00:00; shift A1 11-12 01:00-04:00 (3 h)
        P1 (2 places, needs first_aid, full): v1 answered +30 min, attended · v2 +120 min, no-show · v3 +60 min, declined
        P2 (1 place): v4 sent, expired
    C2  emergency, office S, published 11-20 10:00
        shift B1 10:30-12:30 (2 h), P3 (2, full): v4 +5 min, arrived 10:40 · v7 (team T) +10 min, arrived 11:30 (late)
        shift A2 10:30-11:30 (1 h), P4 (1, full): v3 +2 min, arrived 10:50
    C3  patrol, office S2, published 11-14 00:00; shift G2 11-15 01:00-05:00 (4 h), P5 (1, needs publicity, full):
        v6 +15 min, attended
    C4  a draft with a shift at A1 in November (left out)
    C5  routine, office CA; shift A1 in October: v8 declined on 03-01 (dormant), v9 declined on 10-01 (neither)
People (active): v1 A1 party, first_aid+gas_check · v2 A1 building leader, first_aid · v3 A2 party+doctor, publicity ·
v4 B1 · v6 G2 publicity · v7 A2 enterprise member · v8 B1 · v9 B1; v5 B1 has left (never counted).
Hours come from the ledger, booked from check-in to the shift's end: v1 3 h, v4 1 h 50, v7 1 h, v3 40 min, v6 4 h
(10.5 h in all; street S 6.5 h: CA 3 h 40, CB 2 h 50).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

from campaigns.hours import book_ended_shifts
from campaigns.models import CallUp, CallUpStatus, CampaignStatus, PositionSkill, Priority
from core.kinds import CampaignKind
from core.scope import Scope
from extensions import db
from grids.services import create_grid
from tests.factories import (CampaignFactory, EnterpriseFactory, PositionFactory, ShiftFactory, TeamFactory,
                             VolunteerFactory)
from volunteers.models import Identity, VolunteerSkill, VolunteerStatus

S = CallUpStatus
FIRST, LAST = date(2026, 11, 1), date(2026, 11, 30)
TODAY = date(2026, 12, 1)
ZONE = "Asia/Shanghai"


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=timezone.utc)


def build(tree) -> SimpleNamespace:
    """Write the district described above; returns its objects by name."""
    system = Scope.system("test")
    street2 = create_grid({"code": "S2", "name": "长河街道", "level": 1, "parent_id": tree.district.id}, scope=system)
    community2 = create_grid({"code": "C2", "name": "长河社区", "level": 2, "parent_id": street2.id}, scope=system)
    grid2 = create_grid({"code": "C2G", "name": "长河第一网格", "level": 3, "parent_id": community2.id}, scope=system)
    skills = tree.skills
    party, leader, doctor, member = (Identity.PARTY_MEMBER.bit, Identity.BUILDING_LEADER.bit, Identity.DOCTOR.bit,
                                     Identity.ENTERPRISE_MEMBER.bit)

    def person(grid, flags=0, skill_codes=(), **extra):
        volunteer = VolunteerFactory(home_grid_id=grid.id, identity_flags=flags, **extra)
        for code in skill_codes:
            db.session.add(VolunteerSkill(volunteer_id=volunteer.id, skill_id=skills[code].id, level=2,
                                          certificate_no="C1" if code == "gas_check" else None))
        return volunteer

    v = SimpleNamespace()
    v.v1 = person(tree.grid_a1, party, ("first_aid", "gas_check"))
    v.v2 = person(tree.grid_a1, leader, ("first_aid",))
    v.v3 = person(tree.grid_a2, party | doctor, ("publicity",))
    v.v4 = person(tree.grid_b1)
    v.v5 = person(tree.grid_b1, status=VolunteerStatus.LEFT)
    v.v6 = person(grid2, 0, ("publicity",))
    v.v7 = person(tree.grid_a2, member)
    v.v8 = person(tree.grid_b1)
    v.v9 = person(tree.grid_b1)
    team = TeamFactory(enterprise=EnterpriseFactory(name="钱塘建设"))

    def campaign(office, published, kind=CampaignKind.GARBAGE_SORTING, priority=Priority.ROUTINE,
                 status=CampaignStatus.DONE):
        return CampaignFactory(office_grid_id=office.id, kind=kind, priority=priority, status=status,
                               published_at=published)

    def shift(owner, grid, start, hours):
        return ShiftFactory(campaign=owner, grid_id=grid.id, start_at=start, end_at=start + timedelta(hours=hours))

    def position(on, headcount, accepted, skill=None):
        made = PositionFactory(shift=on, headcount=headcount, accepted_count=accepted)
        if skill:
            db.session.add(PositionSkill(position_id=made.id, skill_id=skills[skill].id, min_level=1, preferred=False))
        return made

    def call(on, volunteer, status, sent, answered_minutes=None, attended=None, team_id=None, responded=None):
        if responded is None and answered_minutes is not None:
            responded = sent + timedelta(minutes=answered_minutes)
        db.session.add(CallUp(position_id=on.id, volunteer_id=volunteer.id, status=status, sent_at=sent,
                              send_at=sent, responded_at=responded, attended_at=attended, team_id=team_id))

    c1 = campaign(tree.community_a, at(11, 10, 0))
    s1 = shift(c1, tree.grid_a1, at(11, 12, 1), 3)
    p1, p2 = position(s1, 2, 2, "first_aid"), position(s1, 1, 0)
    call(p1, v.v1, S.ATTENDED, at(11, 10, 0), 30, attended=at(11, 12, 1))
    call(p1, v.v2, S.NO_SHOW, at(11, 10, 0), 120)
    call(p1, v.v3, S.DECLINED, at(11, 10, 0), 60)
    call(p2, v.v4, S.EXPIRED, at(11, 10, 0))

    c2 = campaign(tree.street, at(11, 20, 10), CampaignKind.FLOOD_EMERGENCY, Priority.EMERGENCY)
    p3 = position(shift(c2, tree.grid_b1, at(11, 20, 10, 30), 2), 2, 2)
    call(p3, v.v4, S.ATTENDED, at(11, 20, 10), 5, attended=at(11, 20, 10, 40))
    call(p3, v.v7, S.ATTENDED, at(11, 20, 10), 10, attended=at(11, 20, 11, 30), team_id=team.id)
    p4 = position(shift(c2, tree.grid_a2, at(11, 20, 10, 30), 1), 1, 1)
    call(p4, v.v3, S.ATTENDED, at(11, 20, 10), 2, attended=at(11, 20, 10, 50))

    c3 = campaign(community2, at(11, 14, 0), CampaignKind.PATROL)
    p5 = position(shift(c3, grid2, at(11, 15, 1), 4), 1, 1, "publicity")
    call(p5, v.v6, S.ATTENDED, at(11, 14, 0), 15, attended=at(11, 15, 1))

    c4 = campaign(tree.community_a, None, status=CampaignStatus.DRAFT)
    position(shift(c4, tree.grid_a1, at(11, 25, 1), 2), 3, 0)

    c5 = campaign(tree.community_a, at(2, 20, 0))
    p6 = position(shift(c5, tree.grid_a1, at(10, 10, 1), 2), 2, 0)
    call(p6, v.v8, S.DECLINED, at(2, 28, 0), responded=at(3, 1, 0))
    call(p6, v.v9, S.DECLINED, at(9, 30, 0), responded=at(10, 1, 0))
    db.session.commit()
    # The hours ledger, as the scheduler books it once the shifts have ended: from check-in to the shift's end.
    book_ended_shifts(now=at(11, 30, 0), timezone_name="Asia/Shanghai")
    return SimpleNamespace(street2=street2, community2=community2, grid2=grid2, team=team, c1=c1, c2=c2, c3=c3,
                           people=v)
