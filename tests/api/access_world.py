"""The "two offices" world for access-control tests: the same objects in two communities, and a token per caller.

Communities CA and CB (under street S) each get three volunteers, a published campaign whose open
call-ups go to two of them, a draft campaign, and a partner enterprise with a team. Every name and
mobile number is unique, so a test can tell from a response body whose objects it shows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from accounts.models import ApiToken, Role
from accounts.services import create_token
from campaigns.models import CallUp, CallUpStatus, CampaignStatus
from core.clock import utcnow
from core.masking import mask_mobile
from extensions import db
from volunteers.models import Identity, PartyOrganisation
from tests.factories import (CampaignFactory, EnterpriseFactory, PositionFactory, ShiftFactory, TeamFactory,
                             VolunteerFactory)


@dataclass
class Side:
    """One community's objects."""

    label: str
    community: object
    grid: object
    volunteers: list = field(default_factory=list)
    campaign: object = None
    draft: object = None
    shift: object = None
    position: object = None
    callups: list = field(default_factory=list)
    enterprise: object = None
    team: object = None
    unit: object = None
    whistle: object = None
    target: object = None
    round: object = None
    visit: object = None

    def markers(self) -> set[str]:
        """Strings that appear only in this side's objects: names, titles, mobiles (plain and masked)."""
        found = {self.campaign.title, self.draft.title, self.enterprise.name, self.team.name,
                 self.community.name, self.grid.name, self.community.code, self.grid.code}
        for person in self.volunteers:
            found |= {person.name, person.mobile, mask_mobile(person.mobile)}
        return found

    def ids(self) -> dict[str, set[int]]:
        """This side's ids by the name they carry in URLs and bodies."""
        return {"grid_id": {self.community.id, self.grid.id},
                "volunteer_id": {v.id for v in self.volunteers},
                "campaign_id": {self.campaign.id, self.draft.id},
                "callup_id": {c.id for c in self.callups},
                "shift_id": {self.shift.id},
                "position_id": {self.position.id},
                "enterprise_id": {self.enterprise.id},
                "team_id": {self.team.id},
                "unit_id": {self.unit.id},
                "whistle_id": {self.whistle.id},
                "target_id": {self.target.id},
                "round_id": {self.round.id},
                "visit_id": {self.visit.id}}

    def url_ids(self) -> dict[str, int]:
        """One object of each kind, for the ids in URLs (the published campaign and its first call-up)."""
        return {"grid_id": self.grid.id, "volunteer_id": self.volunteers[0].id, "campaign_id": self.campaign.id,
                "callup_id": self.callups[0].id, "shift_id": self.shift.id, "position_id": self.position.id,
                "enterprise_id": self.enterprise.id, "team_id": self.team.id, "unit_id": self.unit.id,
                "whistle_id": self.whistle.id, "target_id": self.target.id, "round_id": self.round.id,
                "visit_id": self.visit.id}


@dataclass
class World:
    tree: object
    a: Side
    b: Side
    tokens: dict[str, str]
    token_rows: dict[str, ApiToken]


def _side(label: str, community, grid, *, digit: int, now) -> Side:
    side = Side(label=label, community=community, grid=grid)
    place = "江南" if label == "A" else "湘湖"
    for n in range(1, 4):
        side.volunteers.append(VolunteerFactory(name=f"{place}志愿者{n}号", mobile=f"1390000{digit}{digit}{digit}{n}",
                                                home_grid_id=grid.id))
    side.campaign = CampaignFactory(title=f"{place}垃圾分类督导", office_grid_id=community.id,
                                    status=CampaignStatus.PUBLISHED, published_at=now, contact_name="王主任")
    side.shift = shift = ShiftFactory(campaign=side.campaign, grid_id=grid.id, start_at=now + timedelta(days=3),
                         end_at=now + timedelta(days=3, hours=3), place=f"{place}小区")
    side.position = PositionFactory(shift=shift, headcount=3, role=f"{place}督导员")
    side.draft = CampaignFactory(title=f"{place}燃气排查草稿", office_grid_id=community.id)
    ShiftFactory(campaign=side.draft, grid_id=grid.id, start_at=now + timedelta(days=5),
                 end_at=now + timedelta(days=5, hours=2))
    for person in side.volunteers[:2]:
        callup = CallUp(position_id=side.position.id, volunteer_id=person.id, status=CallUpStatus.SENT,
                        send_at=now, sent_at=now, expires_at=now + timedelta(hours=2))
        db.session.add(callup)
        side.callups.append(callup)
    side.enterprise = EnterpriseFactory(name=f"{place}共建物业公司", contact_mobile=f"1370000{digit}{digit}{digit}9")
    side.team = TeamFactory(enterprise=side.enterprise, name=f"{place}物业志愿队")
    side.team.members = [side.volunteers[2]]
    side.team.paired_grids = [community]
    db.session.flush()
    _grid_practice(side, place, community, grid, now)
    return side


def _grid_practice(side: Side, place: str, community, grid, now) -> None:
    """A responder unit kept by the street, a whistle, a visit target, a round and its visit (by the second
    person, so the first one's token reaches no visit of theirs)."""
    from campaigns.models import Priority
    from gridwork.models import (ProblemKind, ResponderUnit, RoundKind, UnitType, Visit, VisitOutcome, VisitRound,
                                 VisitTarget, VisitTargetKind, Whistle)

    street_id = community.parent_id
    side.unit = ResponderUnit(name=f"{place}供水抢修站", unit_type=UnitType.UTILITY, office_grid_id=street_id,
                              kinds="water_power", created_at=now, active=True)
    db.session.add(side.unit)
    side.whistle = Whistle(grid_id=grid.id, title=f"{place}水管爆裂", description="", address=f"{place}小区3幢",
                           kind=ProblemKind.WATER_POWER, grade=Priority.URGENT, raised_by="world", raised_at=now,
                           ack_due_at=now + timedelta(minutes=30), arrive_due_at=now + timedelta(hours=4),
                           resolve_due_at=now + timedelta(days=2), escalation_level=0, reopened_count=0)
    side.target = VisitTarget(grid_id=grid.id, kind=VisitTargetKind.HOUSEHOLD, label=f"{place}3幢1单元101",
                              x=0.0, y=0.0, active=True)
    side.round = VisitRound(grid_id=community.id, kind=RoundKind.MONTHLY, title=f"{place}十二月走访", period="2026-12",
                            target_kinds="household", due_at=now + timedelta(days=30), created_by="world",
                            created_at=now)
    db.session.add_all([side.whistle, side.target, side.round])
    db.session.flush()
    side.visit = Visit(round_id=side.round.id, target_id=side.target.id, visitor_id=side.volunteers[1].id,
                       outcome=VisitOutcome.PENDING)
    db.session.add(side.visit)


def build_world(tree) -> World:
    now = utcnow()
    a = _side("A", tree.community_a, tree.grid_a1, digit=1, now=now)
    b = _side("B", tree.community_b, tree.grid_b1, digit=2, now=now)
    # 双报到: one workplace party organisation (id 1) with a party member on each side; an office's report of it
    # must list only its own residents.
    org = PartyOrganisation(name="区卫健局机关党委", created_at=now)
    db.session.add(org)
    db.session.flush()
    for side in (a, b):
        side.volunteers[0].identity_flags |= Identity.PARTY_MEMBER.bit
        side.volunteers[0].party_org_id = org.id
    db.session.commit()
    specs = {
        "admin": dict(role=Role.ADMIN),
        "office_a": dict(role=Role.OFFICE, grid_id=tree.community_a.id),
        "office_b": dict(role=Role.OFFICE, grid_id=tree.community_b.id),
        "office_s": dict(role=Role.OFFICE, grid_id=tree.street.id),
        "volunteer_a": dict(role=Role.VOLUNTEER, volunteer_id=a.volunteers[0].id),
        "volunteer_a2": dict(role=Role.VOLUNTEER, volunteer_id=a.volunteers[1].id),
        "enterprise_a": dict(role=Role.ENTERPRISE, enterprise_id=a.enterprise.id),
        "enterprise_b": dict(role=Role.ENTERPRISE, enterprise_id=b.enterprise.id),
        "gateway": dict(role=Role.GATEWAY),
        "party_org": dict(role=Role.PARTY_ORG, party_org_id=org.id),
    }
    tokens, rows = {}, {}
    for name, spec in specs.items():
        rows[name], tokens[name] = create_token(name=f"world {name}", now=now, **spec)
    return World(tree=tree, a=a, b=b, tokens=tokens, token_rows=rows)


@pytest.fixture
def world(tree) -> World:
    return build_world(tree)


def bearer(world: World, caller: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[caller]}"}
