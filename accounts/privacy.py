"""A person's rights over their data: a copy of everything held about them, and erasure by anonymisation.

Erasure keeps the call-ups and attendance (the district's service-hour statistics) but cuts every
link to the person: the volunteer row keeps its id and home grid and loses everything else, the
account can no longer sign in, tokens stop working, outbox rows lose their addresses and texts.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, func, or_, select, update

from accounts.models import ApiToken, AuditEvent, Consent, User
from campaigns.hours import hours_summary, list_entries
from campaigns.models import OPEN_CALLUP_STATES, CallUp, CallUpStatus, Shift
from campaigns.places import _give_back_place, join_shift
from notices.models import Channel, Notification, NotificationStatus
from campaigns.states import _transition
from core.errors import Conflict, NotFound
from core.i18n import _l
from core.scope import Scope
from extensions import db
from grids.models import Grid
from volunteers.models import (AvailabilityWindow, BlackoutDate, ChannelConsent, Enterprise, PartyOrganisation, Team,
                               Volunteer, VolunteerSkill, VolunteerStatus, team_members)

# Written into the erased records in place of the name (data, so one value whatever the reader's language).
ERASED_NAME = "已注销用户"  # i18n: as written
ERASED_ACTION = "volunteer.erased"


def erased_mobile(volunteer_id: int) -> str:
    """An 11-character stand-in for the mobile number: unique per person, and never a real mainland
    number (those start with 1), so no message can reach anyone and the column's checks still hold."""
    return f"0{volunteer_id:010d}"


def is_erased(volunteer: Volunteer) -> bool:
    """Whether ``volunteer`` was anonymised."""
    return volunteer.mobile == erased_mobile(volunteer.id)


def _get_volunteer(volunteer_id: int) -> Volunteer:
    volunteer = db.session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise NotFound.of("volunteer", volunteer_id)
    return volunteer


def list_person_callups(volunteer_id: int) -> Select:
    """Every call-up of one person with its shift and campaign, newest shift first."""
    return (join_shift(select(CallUp))
            .where(CallUp.volunteer_id == volunteer_id).order_by(Shift.start_at.desc(), CallUp.id.desc()))


def service_totals(volunteer_id: int) -> dict[str, Any]:
    """Shifts served and hours on the ledger of one person (by check-in and by hand), as the data export names them."""
    totals = hours_summary(volunteer_id).total
    return {"attended": totals.shifts, "hours": totals.hours, "recorded_hours": totals.recorded_hours,
            "manual_hours": totals.manual_hours}


def personal_data(volunteer_id: int) -> dict[str, Any]:
    """Everything held about one person (PIPL Art. 45): record, consents, call-ups, messages, teams, service.

    Only this person's rows: the call-ups carry the campaign's title and time, not who else was called.
    """
    volunteer = _get_volunteer(volunteer_id)
    account = db.session.scalar(select(User).where(User.volunteer_id == volunteer_id))
    return {
        "volunteer": volunteer,
        "account": account,
        "consents": list(db.session.scalars(
            select(Consent).where(Consent.volunteer_id == volunteer_id).order_by(Consent.granted_at, Consent.id))),
        "channel_consents": list(volunteer.channel_consents),
        "callups": list(db.session.scalars(list_person_callups(volunteer_id))),
        "messages": list(db.session.scalars(
            select(Notification).where(Notification.volunteer_id == volunteer_id, Notification.channel == Channel.INAPP)
            .order_by(Notification.created_at.desc(), Notification.id.desc()))),
        "teams": list(db.session.scalars(
            select(Team).join(team_members, team_members.c.team_id == Team.id)
            .where(team_members.c.volunteer_id == volunteer_id).order_by(Team.id))),
        "service": service_totals(volunteer_id),
        "hours": list(db.session.scalars(list_entries(volunteer_id))),
    }


def caller_profile(scope: Scope) -> dict[str, Any]:
    """Who the caller is: their role and binding, with the grid, person or enterprise it names, and the
    signed-in account behind a web session or sign-in token (None for integration tokens)."""
    return {"scope": scope,
            "account": db.session.get(User, scope.user_id) if scope.user_id else None,
            "grid": db.session.get(Grid, scope.grid_id) if scope.grid_id else None,
            "volunteer": db.session.get(Volunteer, scope.volunteer_id) if scope.volunteer_id else None,
            "service_hours": hours_summary(scope.volunteer_id).total if scope.volunteer_id else None,
            "enterprise": db.session.get(Enterprise, scope.enterprise_id) if scope.enterprise_id else None,
            "party_org": db.session.get(PartyOrganisation, scope.party_org_id) if scope.party_org_id else None}


def _withdraw_future_callups(volunteer_id: int, *, now: datetime, actor: str) -> int:
    """Withdraw the person's open call-ups and their acceptances of shifts not yet started; no commit."""
    rows = db.session.execute(
        join_shift(select(CallUp.id, CallUp.status, CallUp.position_id, Shift.start_at))
        .where(CallUp.volunteer_id == volunteer_id,
               CallUp.status.in_(OPEN_CALLUP_STATES + (CallUpStatus.ACCEPTED,)))).all()
    withdrawn = 0
    for row in rows:
        if row.status is CallUpStatus.ACCEPTED and row.start_at <= now:
            continue  # the shift has begun: attendance is the office's to record
        if not _transition(row.id, row.status, CallUpStatus.WITHDRAWN, now=now, actor=actor, note="volunteer erased"):
            continue
        withdrawn += 1
        # The erased person will not come: their place goes back, first to whoever is on standby.
        if row.status is CallUpStatus.ACCEPTED and not _give_back_place(row.position_id, now=now, actor=actor):
            raise Conflict(_l("the position counter is inconsistent; nothing was changed"))
    return withdrawn


def _scrub_outbox(volunteer_id: int) -> int:
    """Drop addresses and texts from the person's outbox rows; unsent ones will never go. No commit."""
    db.session.execute(
        update(Notification).where(Notification.volunteer_id == volunteer_id,
                                   Notification.status.in_((NotificationStatus.PENDING, NotificationStatus.SENDING)))
        .values(status=NotificationStatus.FAILED, lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False))
    return db.session.execute(
        update(Notification).where(Notification.volunteer_id == volunteer_id)
        .values(payload={"erased": True}, last_error="recipient erased")
        .execution_options(synchronize_session=False)).rowcount


def _anonymise_account(volunteer_id: int) -> None:
    user = db.session.scalar(select(User).where(User.volunteer_id == volunteer_id))
    if user is None:
        return
    user.login = f"erased-{volunteer_id}"  # the old login was the mobile number
    user.display_name = ERASED_NAME
    user.password_hash = "!"  # never a valid hash: no password matches it
    user.active = False
    user.session_version += 1  # open web sessions end
    user.failed_logins, user.locked_until = 0, None


def erase_volunteer(volunteer_id: int, *, now: datetime, actor: str) -> Volunteer:
    """Anonymise one person in one transaction, keeping their call-ups and attendance; a repeat changes nothing."""
    volunteer = _get_volunteer(volunteer_id)
    if is_erased(volunteer):
        db.session.add(AuditEvent(at=now, actor=actor[:100], action=ERASED_ACTION, outcome="unchanged",
                                  object_type="volunteer", object_id=str(volunteer_id), detail="already erased"))
        db.session.commit()
        return volunteer
    try:
        _anonymise(volunteer, now=now, actor=actor)
    except Exception:
        db.session.rollback()  # all or nothing: a half-erased person is worse than none
        raise
    db.session.commit()
    db.session.expire_all()  # relationships loaded before the bulk deletes
    return db.session.get(Volunteer, volunteer_id)


def purge_departed_volunteers(*, now: datetime, retention_days: int, actor: str = "retention",
                              limit: int = 200) -> list[int]:
    """Anonymise people who left (status ``left``) and have had no change and no call-up for
    ``retention_days``, through the same erasure as a person's own request; returns their ids.

    Active and paused people are kept: they are still registered for the purpose they agreed to.
    Each person is one transaction, so an error leaves the others done and this one untouched.
    """
    if retention_days <= 0:
        return []
    cutoff = now - timedelta(days=retention_days)
    last_callup = (select(func.max(CallUp.updated_at)).where(CallUp.volunteer_id == Volunteer.id)
                   .correlate(Volunteer).scalar_subquery())
    ids = db.session.scalars(
        select(Volunteer.id).where(Volunteer.status == VolunteerStatus.LEFT, Volunteer.updated_at < cutoff,
                                   Volunteer.name != ERASED_NAME, or_(last_callup.is_(None), last_callup < cutoff))
        .order_by(Volunteer.id).limit(limit)).all()
    db.session.rollback()  # the candidates' read holds no lock while each erasure runs
    for volunteer_id in ids:
        erase_volunteer(volunteer_id, now=now, actor=actor)
    return list(ids)


def _anonymise(volunteer: Volunteer, *, now: datetime, actor: str) -> None:
    """Every change of an erasure, in the caller's transaction."""
    volunteer_id = volunteer.id
    withdrawn = _withdraw_future_callups(volunteer_id, now=now, actor=actor)
    volunteer.name = ERASED_NAME
    volunteer.mobile = erased_mobile(volunteer_id)
    volunteer.email = volunteer.wecom_id = volunteer.note = volunteer.party_branch = volunteer.party_org_id = None
    volunteer.notify_channels = ""  # the in-app inbox only, and nobody reads it any more
    volunteer.identity_flags = 0
    volunteer.interests = 0
    volunteer.consent_at = None
    volunteer.status = VolunteerStatus.LEFT
    volunteer.availability_mask = bytes(42)
    volunteer.updated_at = now
    for model in (VolunteerSkill, AvailabilityWindow, BlackoutDate):
        db.session.execute(delete(model).where(model.volunteer_id == volunteer_id))
    db.session.execute(delete(team_members).where(team_members.c.volunteer_id == volunteer_id))
    db.session.execute(update(Team).where(Team.leader_id == volunteer_id).values(leader_id=None))
    for model in (Consent, ChannelConsent):
        db.session.execute(update(model).where(model.volunteer_id == volunteer_id, model.withdrawn_at.is_(None))
                           .values(withdrawn_at=now))
    db.session.execute(update(ApiToken).where(ApiToken.volunteer_id == volunteer_id, ApiToken.revoked_at.is_(None))
                       .values(revoked_at=now))
    db.session.execute(update(ApiToken).where(ApiToken.volunteer_id == volunteer_id).values(name=ERASED_NAME))
    _anonymise_account(volunteer_id)
    scrubbed = _scrub_outbox(volunteer_id)
    db.session.add(AuditEvent(at=now, actor=actor[:100], action=ERASED_ACTION, outcome="ok", object_type="volunteer",
                              object_id=str(volunteer_id),
                              detail=f"call-ups withdrawn: {withdrawn}; outbox rows scrubbed: {scrubbed}"))
