"""双报到 quarterly report: for one workplace party organisation, its members' community service in a quarter —
registered with the community, called, accepted, attended and hours (from the ledger) — within the caller's area."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select, true

from campaigns.models import CallUp, CallUpStatus, HoursEntry, Position, Shift
from core.errors import NotFound, ValidationFailed
from core.i18n import _l
from core.scope import Role, Scope
from extensions import db
from grids.models import Grid
from volunteers.models import PartyOrganisation, Team, Volunteer, team_members

QUARTER_RE = re.compile(r"^(20\d\d)-?Q([1-4])$")
ACCEPTED = (CallUpStatus.ACCEPTED, CallUpStatus.ATTENDED, CallUpStatus.NO_SHOW)


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def next_first_day(self) -> date:
        return date(self.year + 1, 1, 1) if self.number == 4 else date(self.year, 3 * self.number + 1, 1)

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The quarter as UTC instants [start, end) of the local days."""
        start = datetime.combine(self.first_day, datetime.min.time(), zone)
        end = datetime.combine(self.next_first_day, datetime.min.time(), zone)
        return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))


def parse_quarter(text: str | None, *, now: datetime, timezone_name: str) -> Quarter:
    """'2026Q4' (or '2026-Q4'); missing: the current quarter in the deployment's zone."""
    if not text:
        local = now.astimezone(ZoneInfo(timezone_name))
        return Quarter(local.year, (local.month - 1) // 3 + 1)
    match = QUARTER_RE.match(text.strip().upper())
    if not match:
        raise ValidationFailed({"quarter": [_l("Use the form 2026Q4.")]})
    return Quarter(int(match.group(1)), int(match.group(2)))


@dataclass
class MemberRow:
    volunteer_id: int
    name: str
    grid: str
    registered_on: date
    called: int = 0
    accepted: int = 0
    attended: int = 0
    minutes: int = 0

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 2)


@dataclass
class PartyOrgReport:
    org: PartyOrganisation
    quarter: Quarter
    members: list[MemberRow] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, float]:
        return {"members": len(self.members), "called": sum(m.called for m in self.members),
                "accepted": sum(m.accepted for m in self.members), "attended": sum(m.attended for m in self.members),
                "hours": round(sum(m.minutes for m in self.members) / 60, 2)}


def _service_rows(members, *, quarter: Quarter, zone: ZoneInfo) -> list[MemberRow]:
    """``members`` (rows of id, name, home grid name, registered at) with their service in ``quarter`` (by the
    shift's start for call-ups, by the ledger's local day for hours): two grouped queries, whatever the number."""
    start, end = quarter.bounds(zone)
    rows = {vid: MemberRow(vid, name, grid, created.astimezone(zone).date()) for vid, name, grid, created in members}
    if rows:
        def count(condition):
            return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

        for vid, called, accepted, attended in db.session.execute(
                select(CallUp.volunteer_id, func.count(), count(CallUp.status.in_(ACCEPTED)),
                       count(CallUp.status == CallUpStatus.ATTENDED))
                .join(Position, Position.id == CallUp.position_id).join(Shift, Shift.id == Position.shift_id)
                .where(CallUp.volunteer_id.in_(list(rows)), and_(Shift.start_at >= start, Shift.start_at < end),
                       CallUp.status.not_in((CallUpStatus.PROPOSED, CallUpStatus.SCHEDULED)))
                .group_by(CallUp.volunteer_id)):
            rows[vid].called, rows[vid].accepted, rows[vid].attended = int(called), int(accepted), int(attended)
        for vid, minutes in db.session.execute(
                select(HoursEntry.volunteer_id, func.sum(HoursEntry.minutes))
                .where(HoursEntry.volunteer_id.in_(list(rows)), HoursEntry.served_on >= quarter.first_day,
                       HoursEntry.served_on < quarter.next_first_day).group_by(HoursEntry.volunteer_id)):
            rows[vid].minutes = int(minutes)
    return list(rows.values())


def party_org_report(org_id: int, *, quarter: Quarter, scope: Scope, timezone_name: str) -> PartyOrgReport:
    """The organisation's members living in the caller's area (all of them for its own contact), with their service
    in ``quarter``; another organisation's contact gets NotFound."""
    org = db.session.get(PartyOrganisation, org_id)
    own = scope.role is Role.PARTY_ORG and scope.party_org_id == org_id
    if org is None or (scope.role is Role.PARTY_ORG and not own):
        raise NotFound.of("party_organisation", org_id)
    zone = ZoneInfo(timezone_name)
    _, end = quarter.bounds(zone)
    # The organisation's own contact hears of every member in the district; an office, of those in its area.
    area = true() if own else scope.grid_clause(Grid.path)
    members = db.session.execute(
        select(Volunteer.id, Volunteer.name, Grid.name, Volunteer.created_at)
        .join(Grid, Grid.id == Volunteer.home_grid_id)
        .where(Volunteer.party_org_id == org_id, area,
               Volunteer.created_at < end).order_by(Grid.path, Volunteer.name, Volunteer.id)).all()
    return PartyOrgReport(org=org, quarter=quarter, members=_service_rows(members, quarter=quarter, zone=zone))


def enterprise_team_report(enterprise_id: int, *, quarter: Quarter, timezone_name: str) -> list[MemberRow]:
    """A partner enterprise's view of 双报到: every member of its co-building teams (wherever they live) with
    their community service in ``quarter``, as a workplace party organisation sees its members."""
    zone = ZoneInfo(timezone_name)
    _, end = quarter.bounds(zone)
    members = db.session.execute(
        select(Volunteer.id, Volunteer.name, Grid.name, Volunteer.created_at).distinct()
        .join(Grid, Grid.id == Volunteer.home_grid_id)
        .join(team_members, team_members.c.volunteer_id == Volunteer.id)
        .join(Team, Team.id == team_members.c.team_id)
        .where(Team.enterprise_id == enterprise_id, Volunteer.created_at < end)
        .order_by(Volunteer.name, Volunteer.id)).all()
    return _service_rows(members, quarter=quarter, zone=zone)


def previous_quarters(quarter: Quarter, count: int = 4) -> list[Quarter]:
    """The quarter and the ones before it, newest first (the page's quarter picker)."""
    found, current = [], quarter
    for _ in range(count):
        found.append(current)
        day = current.first_day - timedelta(days=1)
        current = Quarter(day.year, (day.month - 1) // 3 + 1)
    return found
