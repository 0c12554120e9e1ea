"""The one authorisation layer: which role may call which endpoint, and whose objects it may touch.

Two checks run before any view, for the API and the pages alike:

1. Function level: ``PERMISSIONS`` maps each endpoint and method to the roles allowed to call
   it. An endpoint missing from the table is open to the district admin only (deny by default).
2. Object level: every id in the URL (``campaign_id``, ``volunteer_id``, …) is resolved to its
   owner (a grid path, a person, an enterprise) and must lie in the caller's scope; otherwise the
   answer is 404, the same as for an id that does not exist, so nothing leaks.

Lists are not checked here: the services filter them in SQL with the caller's ``Scope``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

from sqlalchemy import func, select

from campaigns.models import Campaign, CallUp, Position, Shift
from campaigns.places import join_shift
from core.errors import NotFound, PermissionDenied
from core.i18n import _l
from core.scope import Role, Scope
from extensions import db
from grids.models import Grid
from volunteers.models import Enterprise, PartyOrganisation, Team, Volunteer

A, O, V, E, G, P = Role.ADMIN, Role.OFFICE, Role.VOLUNTEER, Role.ENTERPRISE, Role.GATEWAY, Role.PARTY_ORG
STAFF = frozenset({O})

# endpoint -> method -> roles besides the admin. One table, tested in full.
PERMISSIONS: dict[str, dict[str, frozenset[Role]]] = {
    "grids.Grids": {"GET": STAFF, "POST": STAFF},
    "grids.GridById": {"GET": STAFF, "PATCH": STAFF, "DELETE": STAFF},
    "skills.Skills": {"GET": frozenset({O, V, E}), "POST": frozenset()},
    "skills.SkillById": {"GET": frozenset({O, V, E}), "PATCH": frozenset()},
    "volunteers.Volunteers": {"GET": STAFF, "POST": STAFF},
    "volunteers.VolunteerById": {"GET": frozenset({O, V}), "PATCH": frozenset({O, V}), "DELETE": STAFF},
    "volunteers.VolunteerImport": {"POST": STAFF},
    "volunteers.VolunteerExport": {"GET": STAFF},
    "duty.VolunteerDuty": {"GET": STAFF, "PUT": STAFF},
    "teams.Enterprises": {"GET": frozenset({O, E}), "POST": frozenset()},
    "teams.EnterpriseById": {"GET": frozenset({O, E}), "PATCH": frozenset({E})},
    "teams.EnterpriseTeams": {"GET": frozenset({O, E}), "POST": frozenset({E})},
    "teams.TeamById": {"GET": frozenset({O, E}), "PATCH": frozenset({E}), "DELETE": frozenset({E})},
    # Pairing agreements: recorded by the office that signed (its area checked by the service), read by all.
    "agreements.EnterpriseAgreements": {"GET": frozenset({O, E})},
    "agreements.PairingAgreements": {"POST": STAFF},
    "campaigns.Campaigns": {"GET": STAFF, "POST": STAFF},
    "campaigns.CampaignById": {"GET": STAFF, "PATCH": STAFF, "DELETE": STAFF},
    "campaigns.CampaignStaffing": {"GET": STAFF},
    "campaigns.CampaignTimeline": {"GET": STAFF},
    "campaigns.CampaignCallUps": {"GET": STAFF},
    "campaigns.CampaignMatch": {"POST": STAFF},
    "campaigns.CampaignPublish": {"POST": STAFF},
    "campaigns.CampaignCancel": {"POST": STAFF},
    "campaigns.CampaignOverrides": {"GET": STAFF, "POST": STAFF},
    "campaigns.CampaignAlerts": {"GET": STAFF, "POST": STAFF},
    "callups.CallUpById": {"GET": frozenset({O, V})},
    "callups.CallUpAccept": {"POST": frozenset({O, V})},
    "callups.CallUpDecline": {"POST": frozenset({O, V})},
    "callups.CallUpAttendance": {"POST": STAFF, "PATCH": STAFF},
    "callups.CampaignNotifications": {"GET": STAFF},
    # Check-in and check-out (api/hours.py): a volunteer on their own call-up, offices within their subtree.
    "hours.CallUpCheckIn": {"POST": frozenset({O, V})},
    "hours.CallUpCheckOut": {"POST": frozenset({O, V})},
    "hours.CallUpAttendanceChanges": {"GET": STAFF},
    "hours.ShiftCheckInCode": {"GET": STAFF},
    "hours.ShiftEveryoneAttended": {"POST": STAFF},
    "hours.ShiftEveryoneAttendedUndo": {"POST": STAFF},
    # The hours ledger: a person reads their own; offices add hours by hand and correct, with their name on it.
    "hours.VolunteerHours": {"GET": frozenset({O, V}), "POST": STAFF},
    "hours.VolunteerHoursCorrections": {"POST": STAFF},
    "hours.VolunteerHoursTotals": {"GET": frozenset({O, V})},
    "hours.VolunteerCertificates": {"POST": frozenset({O, V})},
    # 双报到: the organisations' names are no one's personal data; the report lists the office's own residents.
    "party_orgs.PartyOrgs": {"GET": frozenset({O, V})},
    # 双报到: the organisation's own contact reads its report too (the service checks which organisation).
    "party_orgs.PartyOrgReport": {"GET": frozenset({O, P})},
    "party_orgs.VolunteerPartyOrg": {"PUT": frozenset({O, V})},
    "callups.VolunteerInbox": {"GET": frozenset({V})},
    "callups.SmsInbound": {"POST": frozenset({G})},
    "shifts.ShiftById": {"PATCH": STAFF},
    "shifts.TeamOffers": {"POST": STAFF},
    "shifts.Invitations": {"POST": STAFF},
    "shifts.CallUpTeamAnswer": {"POST": frozenset({O, V})},
    "accounts.Me": {"GET": frozenset({O, V, E, P}), "PATCH": STAFF},
    "accounts.MyCallUps": {"GET": frozenset({V})},
    # Sign-ups (api/signups.py): a volunteer's own openings; the service keeps them to their street.
    "signups.MyOpenings": {"GET": frozenset({V})},
    "signups.MySignUps": {"POST": frozenset({V})},
    "accounts.MyData": {"GET": frozenset({V})},
    "accounts.MyErasure": {"POST": frozenset({V})},
    "accounts.AuditEvents": {"GET": frozenset()},
    "accounts.Tokens": {"GET": frozenset(), "POST": frozenset()},
    "accounts.TokenById": {"DELETE": frozenset()},
    # Reports (api/reports.py, web/cockpit.py): no leader role exists yet, so office staff (their own subtree,
    # checked by reports.areas.resolve_area: another area answers 404) and the district admin.
    "reports.CampaignReport": {"GET": STAFF},
    "reports.EmergencyReport": {"GET": STAFF},
    "reports.PeopleReport": {"GET": STAFF},
    "reports.ActivityReport": {"GET": STAFF},
    "reports.HoursReport": {"GET": STAFF},
    "reports.EnterpriseReport": {"GET": STAFF},
    "reports.ReportExport": {"GET": STAFF},
    "cockpit.cockpit": {"GET": STAFF},
    "cockpit.export": {"GET": STAFF},
    "gridwork.Units": {"GET": STAFF, "POST": STAFF},
    "gridwork.UnitById": {"GET": STAFF, "PATCH": STAFF},
    "gridwork.Whistles": {"GET": STAFF, "POST": STAFF},
    "gridwork.WhistleById": {"GET": STAFF},
    "gridwork.WhistleEvents": {"GET": STAFF},
    "gridwork.WhistleAnswers": {"POST": STAFF},
    "gridwork.WhistleClose": {"POST": STAFF},
    "gridwork.WhistleReopen": {"POST": STAFF},
    "gridwork.WhistleCampaign": {"POST": STAFF},
    "gridwork.VisitTargets": {"GET": STAFF, "POST": STAFF},
    "gridwork.VisitTargetById": {"PATCH": STAFF},
    "gridwork.VisitRounds": {"GET": STAFF, "POST": STAFF},
    "gridwork.VisitRoundCoverage": {"GET": STAFF},
    "gridwork.VisitById": {"POST": frozenset({O, V})},
    "gridwork.MyVisits": {"GET": frozenset({V})},
    "gridwork.WhistleReport": {"GET": STAFF},
    "gridwork.VisitReport": {"GET": STAFF},
    # Pages (web/auth.py): sign-in and registration are public; these need an account.
    "enterprise.portal": {"GET": frozenset({E})},
    "enterprise.create_team": {"POST": frozenset({E})},
    "enterprise.add_member": {"POST": frozenset({E})},
    "enterprise.remove_member": {"POST": frozenset({E})},
    "enterprise.set_leader": {"POST": frozenset({E})},
    "enterprise.answer": {"POST": frozenset({E})},
    "partners.review_list": {"GET": STAFF},
    "partners.review": {"POST": STAFF},
    "partners.record_agreement": {"POST": STAFF},
    "auth.me": {"GET": frozenset({O, V, E, P})},
    "auth.logout": {"POST": frozenset({O, V, E, P})},
    "auth.answer": {"POST": frozenset({V})},
    "auth.arrived": {"POST": frozenset({V})},
    "auth.emergency_calls": {"POST": frozenset({V})},
    "auth.departed": {"POST": frozenset({V})},
    "auth.party_org": {"POST": frozenset({V})},
    # Check-in by a shift's QR code and the certificate of service (web/hours.py); /verify/<code> is public.
    "service.check_in": {"GET": frozenset({V}), "POST": frozenset({V})},
    "service.certificate": {"GET": frozenset({V})},
    "auth.contact": {"POST": STAFF},
    # The office console (web/office.py): office staff within their subtree, and the admin.
    "office.campaigns": {"GET": STAFF},
    "office.campaign": {"GET": STAFF},
    "office.publish": {"POST": STAFF},
    "office.cancel": {"POST": STAFF},
    "office.match": {"POST": STAFF},
    "office.override": {"POST": STAFF},
    "office.alert": {"POST": STAFF},
    "office.mark_attendance": {"POST": STAFF},
    "office.check_out": {"POST": STAFF},
    "office.everyone_came": {"POST": STAFF},
    "office.undo_everyone_came": {"POST": STAFF},
    "office.shift_code": {"GET": STAFF},
    "office.new_campaign": {"GET": STAFF, "POST": STAFF},
    "office.edit_campaign": {"GET": STAFF, "POST": STAFF},
    "office.delete_campaign": {"POST": STAFF},
    "office.change_shift": {"POST": STAFF},
    "office.preview": {"GET": STAFF},
    "office.messages": {"GET": STAFF},
    "office.invite": {"POST": STAFF},
    "office.team_offer": {"POST": STAFF},
    "office.retry_messages": {"POST": STAFF},
    # Grid practice (web/grid.py): whistles and rounds for office staff, the visit list for visitors.
    "grid.whistle_list": {"GET": STAFF},
    "grid.new_whistle": {"GET": STAFF, "POST": STAFF},
    "grid.whistle": {"GET": STAFF},
    "grid.whistle_photo": {"GET": STAFF},
    "grid.answer": {"POST": STAFF},
    "grid.close": {"POST": STAFF},
    "grid.staff": {"POST": STAFF},
    "grid.rounds": {"GET": STAFF, "POST": STAFF},
    "grid.targets": {"GET": STAFF, "POST": STAFF},
    "grid.unit_list": {"GET": STAFF, "POST": STAFF},
    "grid.report": {"GET": STAFF},
    "grid.round_coverage": {"GET": STAFF},
    "grid.my_visits": {"GET": frozenset({V})},
    "openings.activities": {"GET": frozenset({V})},
    "openings.sign_up_for": {"POST": frozenset({V})},
    "grid.record_visit": {"POST": frozenset({V})},
    # 双报到 (web/party.py): any office reads an organisation; its report lists only the members in the office's area.
    # The organisation's contact reads its own report, with every member in the district.
    "party.orgs": {"GET": STAFF},
    "party.ours": {"GET": frozenset({P})},
    "party.report": {"GET": frozenset({O, P})},
    "party.report_xlsx": {"GET": frozenset({O, P})},
    "party.report_pdf": {"GET": frozenset({O, P})},
    # A volunteer's own profile pages (web/profile.py): the record behind the signed-in account only.
    "profile.summary": {"GET": frozenset({V})},
    "profile.skills": {"GET": frozenset({V}), "POST": frozenset({V})},
    "profile.availability": {"GET": frozenset({V}), "POST": frozenset({V})},
    "profile.channels": {"GET": frozenset({V}), "POST": frozenset({V})},
    "profile.emergency": {"GET": frozenset({V}), "POST": frozenset({V})},
    "profile.my_data": {"GET": frozenset({V})},
    "profile.erasure": {"GET": frozenset({V}), "POST": frozenset({V})},
    # The roster and the grid tree (web/roster.py): people and grids of the office's subtree.
    "roster.volunteers": {"GET": STAFF},
    "roster.volunteer": {"GET": STAFF},
    "roster.reveal_mobile": {"POST": STAFF},
    "roster.edit": {"GET": STAFF, "POST": STAFF},
    "roster.import_roster": {"GET": STAFF, "POST": STAFF},
    "roster.export": {"GET": STAFF},
    "roster.template": {"GET": STAFF},
    "roster.grids": {"GET": STAFF},
}


@dataclass(frozen=True)
class Owner:
    """Whose an object is: its grid path, the person it concerns, the enterprise it belongs to."""

    path: str | None = None
    volunteer_id: int | None = None
    enterprise_id: int | None = None
    party_org_id: int | None = None
    # Partner enterprises and their teams serve the whole district: every office may read them.
    any_office_reads: bool = False


def _grid_owner(grid_id: int) -> Owner | None:
    path = db.session.scalar(select(Grid.path).where(Grid.id == grid_id))
    return None if path is None else Owner(path=path)


def _volunteer_owner(volunteer_id: int) -> Owner | None:
    path = db.session.scalar(select(Grid.path).join(Volunteer, Volunteer.home_grid_id == Grid.id)
                             .where(Volunteer.id == volunteer_id))
    return None if path is None else Owner(path=path, volunteer_id=volunteer_id)


def _campaign_owner(campaign_id: int) -> Owner | None:
    path = db.session.scalar(select(Grid.path).join(Campaign, Campaign.office_grid_id == Grid.id)
                             .where(Campaign.id == campaign_id))
    return None if path is None else Owner(path=path)


def _callup_owner(callup_id: int) -> Owner | None:
    # A team call-up has no volunteer: its team's leader answers it, so the leader is its person; the
    # team's enterprise answers it on its portal.
    row = db.session.execute(
        join_shift(select(Grid.path, func.coalesce(CallUp.volunteer_id, Team.leader_id).label("volunteer_id"),
               Team.enterprise_id)
        .select_from(CallUp))
        .join(Campaign, Campaign.id == Shift.campaign_id).join(Grid, Grid.id == Campaign.office_grid_id)
        .outerjoin(Team, Team.id == CallUp.team_id)
        .where(CallUp.id == callup_id)).first()
    return None if row is None else Owner(path=row.path, volunteer_id=row.volunteer_id,
                                          enterprise_id=row.enterprise_id)


def _shift_owner(shift_id: int) -> Owner | None:
    path = db.session.scalar(select(Grid.path).join(Campaign, Campaign.office_grid_id == Grid.id)
                             .join(Shift, Shift.campaign_id == Campaign.id).where(Shift.id == shift_id))
    return None if path is None else Owner(path=path)


def _position_owner(position_id: int) -> Owner | None:
    path = db.session.scalar(select(Grid.path).join(Campaign, Campaign.office_grid_id == Grid.id)
                             .join(Shift, Shift.campaign_id == Campaign.id)
                             .join(Position, Position.shift_id == Shift.id).where(Position.id == position_id))
    return None if path is None else Owner(path=path)


def _enterprise_owner(enterprise_id: int) -> Owner:
    # An enterprise that asked to pair with a street office or community is also that office's to review.
    path = db.session.scalar(select(Grid.path).join(Enterprise, Enterprise.requested_grid_id == Grid.id)
                             .where(Enterprise.id == enterprise_id))
    return Owner(enterprise_id=enterprise_id, path=path, any_office_reads=True)


def _party_org_owner(org_id: int) -> Owner | None:
    # A workplace party organisation is outside the grid tree: every office reads it, and the report it gets is
    # filtered to the members living in the caller's area (campaigns/party_report.py).
    found = db.session.scalar(select(PartyOrganisation.id).where(PartyOrganisation.id == org_id))
    return None if found is None else Owner(party_org_id=org_id, any_office_reads=True)


def _team_owner(team_id: int) -> Owner | None:
    enterprise_id = db.session.scalar(select(Team.enterprise_id).where(Team.id == team_id))
    return None if enterprise_id is None else Owner(enterprise_id=enterprise_id, any_office_reads=True)


# URL argument -> how to find the owner. An id that does not exist yields None: the view says 404.
# Packages above this one (gridwork) add their own kinds of id with ``register_owners``.
OWNERS: dict[str, Callable[[int], Owner | None]] = {
    "grid_id": _grid_owner,
    "volunteer_id": _volunteer_owner,
    "campaign_id": _campaign_owner,
    "callup_id": _callup_owner,
    "shift_id": _shift_owner,
    "position_id": _position_owner,
    "enterprise_id": _enterprise_owner,
    "team_id": _team_owner,
    "org_id": _party_org_owner,
}
# The skills catalogue is the same for everyone; a check-in token is itself the credential (signed, expiring), and
# the service checks it names a shift where the caller has a call-up of their own.
PUBLIC_ARGS = {"skill_id", "token"}


def register_owners(resolvers: Mapping[str, Callable[[int], Owner | None]]) -> None:
    """Add how a package above this one finds the owner of its own kinds of id (until then: denied)."""
    clash = set(resolvers) & set(OWNERS)
    if clash:
        raise ValueError(f"owner rules given twice: {sorted(clash)}")
    OWNERS.update(resolvers)


def may_call(role: Role, endpoint: str | None, method: str) -> bool:
    """Function level: the admin may call everything, other roles what the table grants."""
    if role is Role.ADMIN:
        return True
    return role in PERMISSIONS.get(endpoint or "", {}).get(method, frozenset())


def may_see(scope: Scope, owner: Owner, *, reading: bool) -> bool:
    """Object level: is ``owner``'s object within ``scope``?"""
    if scope.is_admin:
        return True
    if scope.role is Role.OFFICE:
        return (owner.path is not None and scope.covers(owner.path)) or (owner.any_office_reads and reading)
    if scope.role is Role.VOLUNTEER:
        return owner.volunteer_id is not None and owner.volunteer_id == scope.volunteer_id
    if scope.role is Role.ENTERPRISE:
        return owner.enterprise_id is not None and owner.enterprise_id == scope.enterprise_id
    if scope.role is Role.PARTY_ORG:
        return owner.party_org_id is not None and owner.party_org_id == scope.party_org_id
    return False


def authorize(scope: Scope, endpoint: str | None, method: str, view_args: Mapping[str, object] | None) -> None:
    """Raise PermissionDenied (403) or NotFound (404) unless ``scope`` may make this request."""
    if method in ("HEAD", "OPTIONS"):
        method = "GET"
    if not may_call(scope.role, endpoint, method):
        raise PermissionDenied(_l("The %(role)s role may not do this.", role=scope.role.value))
    for name, value in (view_args or {}).items():
        if name in PUBLIC_ARGS:
            continue
        find_owner = OWNERS.get(name)
        if find_owner is None:
            if scope.is_admin:
                continue
            raise PermissionDenied(_l("No access rule for '%(name)s'.",
                                      name=name))  # a new kind of id: deny until ruled
        owner = find_owner(int(value))
        if owner is None:
            continue  # the view answers 404 for a missing object
        if not may_see(scope, owner, reading=method == "GET"):
            raise NotFound.of(name.removesuffix("_id"), value)
