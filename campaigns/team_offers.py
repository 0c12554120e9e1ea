"""Team call-ups: offering places to a partner enterprise's co-building team; the leader names who comes."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, select

from notices.links import _issue_link
from notices.models import NotificationKind
from campaigns.messaging import _queue_callup_message, _queue_coordinator_notice
from notices.outbox import deployment_zone
from campaigns.models import CallUp, CallUpEvent, CallUpStatus, CampaignStatus, Position, Priority, Shift
from campaigns.places import _take_places, answer_window, join_shift, open_places_of
from campaigns.recruitment import BUSY_STATES, COUNTED_STATES
from campaigns.responses import _not_open
from campaigns.services import get_callup
from campaigns.states import _record_event, _transition
from core.errors import Conflict, NotFound, ValidationFailed
from core.i18n import _l, in_language, ngettext
from core.scope import Scope
from extensions import db
import matching
from volunteers.models import (BlackoutDate, EmergencyCalls, EnterpriseStatus, Team, Volunteer, VolunteerSkill, VolunteerStatus,
                               skill_valid_through, team_members)

S = CallUpStatus
OFFERABLE = (CampaignStatus.PUBLISHED, CampaignStatus.PARTLY_STAFFED, CampaignStatus.STAFFED)


@dataclass
class TeamAnswer:
    """The team call-up after the leader's answer and the members' own (accepted) call-ups."""

    team_callup: CallUp
    callups: list[CallUp] = field(default_factory=list)


def is_team_callup(callup: CallUp) -> bool:
    """Addressed to a team as a whole (its members' own call-ups also carry the team id)."""
    return callup.team_id is not None and not callup.is_person


def offer_to_team(position_id: int, team_id: int, *, scope: Scope, now: datetime, places: int,
                  campaign_id: int | None = None, response_minutes: int | None = None) -> CallUp:
    """Offer ``places`` of a position to a team: a sent team call-up, and a message with a link to its leader.

    The deadline is the campaign's ``response_minutes`` (or the one given), never after the shift
    starts. The places offered must still be open, counting other pending offers.
    """
    position = db.session.get(Position, position_id)
    if position is None or (campaign_id is not None and position.shift.campaign_id != campaign_id):
        raise NotFound.of("position", position_id)
    db.session.refresh(position)
    shift = position.shift
    campaign = shift.campaign
    if campaign.status not in OFFERABLE:
        raise Conflict.wrong_state("campaign", campaign.status.value, "offer places of")
    if shift.start_at <= now:
        raise Conflict(_l("the shift has already started"), {"position_id": [_l("The shift has already started.")]})
    team = db.session.get(Team, team_id)
    if team is None:
        raise ValidationFailed.field("team_id", _l("Unknown team %(team_id)s.", team_id=team_id))
    if team.leader_id is None:
        raise ValidationFailed.field("team_id", _l("The team has no leader to answer."))
    if team.enterprise.status != EnterpriseStatus.APPROVED.value:
        raise ValidationFailed.field("team_id", _l("The team's enterprise is not approved yet."))
    if db.session.scalar(select(CallUp.id).where(CallUp.position_id == position.id, CallUp.team_id == team.id,
                                                 ~CallUp.is_person, CallUp.is_open)) is not None:
        raise Conflict(_l("this team already has an open offer for this position"),
                       {"team_id": [_l("Already offered and not yet answered.")]})
    open_places = open_places_of(position)
    if places > open_places:
        raise ValidationFailed.field("places", _l("Only %(places)s places are open.", places=max(open_places, 0)))
    # The leader's window opens when the message reaches them, as a person's does (places.answer_window).
    reaches, expires = answer_window(team.leader_id, shift=shift, campaign=campaign, now=now,
                                     minutes=response_minutes)
    callup = CallUp(position_id=position.id, team_id=team.id, status=S.SENT, places=places, send_at=now,
                    sent_at=now, expires_at=expires, created_at=now, updated_at=now, breakdown={})
    callup.events.append(CallUpEvent(at=now, actor=scope.actor[:100], from_state=None, to_state=S.SENT.value,
                                     note=f"team offer: {places} places to team {team.id}"))
    db.session.add(callup)
    db.session.flush()
    leader = db.session.get(Volunteer, team.leader_id)
    with in_language(leader.language):  # the note goes into the leader's message, in their language
        note = ngettext("%(num)s person needed", "%(num)s people needed", places)
    token = _issue_link(callup.id, expires_at=expires, now=now)
    _queue_callup_message(callup, NotificationKind.CALLUP, template="team_callup", now=now, serial="team",
                          token=token, note=note, to=leader.id, push_at=reaches)
    db.session.commit()
    return callup


def answer_team_callup(callup_id: int, *, member_ids: list[int], now: datetime, actor: str) -> TeamAnswer:
    """The leader's answer: how many and who. Whole or nothing, never beyond the headcount.

    Named members get accepted call-ups of their own (with the team id) and the position's
    counter rises by their number in one conditional UPDATE (``_take_places``, as in the accept
    path). The team call-up becomes accepted (fully or in part, the event says which) or, for
    an empty list, declined.
    """
    callup = get_callup(callup_id)
    if not is_team_callup(callup):
        raise Conflict(_l("only a team call-up is answered with a list of members"),
                       {"member_ids": [_l("Not a team call-up.")]})
    if callup.status is not S.SENT or callup.expires_at is None or callup.expires_at <= now:
        raise _not_open(callup, "answer")
    chosen = list(dict.fromkeys(member_ids))
    _check_members(callup, chosen)
    if not chosen:
        if not _transition(callup.id, S.SENT, S.DECLINED, now=now, actor=actor, guard=CallUp.expires_at > now,
                           values={"responded_at": now, "answered_by": actor[:100], "reason": "team cannot come"}):
            db.session.rollback()
            raise _not_open(get_callup(callup_id), "answer")
        db.session.flush()
        db.session.refresh(callup)
        _queue_coordinator_notice(callup, answer="declined", now=now)
        db.session.commit()
        return TeamAnswer(team_callup=callup)
    if not _take_places(callup.position_id, len(chosen)):
        db.session.rollback()
        left = max(open_places_of(db.session.get(Position, callup.position_id), pending=0), 0)
        raise Conflict(_l("only %(left)s places are left; nothing was changed", left=left),
                       {"member_ids": [_l("Only %(left)s places are left.",
                                          left=left)]}, code="position_full", about={"left": left})
    how_many = "all" if len(chosen) == callup.places else "part"
    if not _transition(callup.id, S.SENT, S.ACCEPTED, now=now, actor=actor, guard=CallUp.expires_at > now,
                       values={"responded_at": now, "answered_by": actor[:100],
                               "reason": f"{len(chosen)} of {callup.places} places"},
                       note=f"team answer ({how_many}): {len(chosen)} of {callup.places} places"):
        db.session.rollback()  # undoes the counter too
        raise _not_open(get_callup(callup_id), "answer")
    members = []
    for volunteer_id in chosen:
        member = CallUp(position_id=callup.position_id, volunteer_id=volunteer_id, team_id=callup.team_id,
                        status=S.ACCEPTED, wave=callup.wave, send_at=now, sent_at=now, responded_at=now,
                        answered_by=actor[:100], created_at=now, updated_at=now,
                        breakdown={"team_callup_id": callup.id})
        db.session.add(member)
        members.append(member)
    db.session.flush()
    for member in members:
        _record_event(member.id, None, S.ACCEPTED, now=now, actor=actor,
                      note=f"named by the team leader (team call-up {callup.id})")
        _queue_callup_message(member, NotificationKind.CONFIRMATION, template="confirmation", now=now,
                              serial="accepted")
    db.session.refresh(callup)
    _queue_coordinator_notice(callup, answer="accepted", now=now)
    db.session.commit()
    return TeamAnswer(team_callup=callup, callups=members)


def _check_members(callup: CallUp, chosen: list[int]) -> None:
    """Every named person is an active member of the team, within the places, not already called."""
    if len(chosen) > (callup.places or 0):
        raise ValidationFailed.field("member_ids", _l("At most %(places)s people: the places offered.",
                                                      places=callup.places),
                                     code="too_many", about={"places": callup.places})
    if not chosen:
        return
    members = dict(db.session.execute(
        select(Volunteer.id, Volunteer.status).join(team_members, team_members.c.volunteer_id == Volunteer.id)
        .where(team_members.c.team_id == callup.team_id, Volunteer.id.in_(chosen))).all())
    strangers = [v for v in chosen if v not in members]
    if strangers:
        raise ValidationFailed.field("member_ids", _l("Not members of the team: %(strangers)s.",
                                                      strangers=strangers), code="not_member",
                                     about={"volunteer_ids": strangers})
    called = db.session.scalars(select(CallUp.volunteer_id).where(
        CallUp.position_id == callup.position_id, CallUp.volunteer_id.in_(chosen),
        CallUp.status != S.DECLINED)).all()
    if called:
        raise ValidationFailed.field("member_ids", _l("Already called up for this position: %(called)s.",
                                                      called=sorted(called)),
                                     code="already_called", about={"volunteer_ids": sorted(called)})
    # The matcher's gates, member by member: skills, certificates, availability, blackout days,
    # other shifts (with the rest between), the monthly cap.
    refusals = _member_refusals(callup.position, chosen)
    if refusals:
        raise MembersRefused(refusals)


# The matcher's rest between two shifts of one person (matching.Problem's default, as recruitment uses it).
REST_HOURS = next(f.default for f in fields(matching.Problem) if f.name == "rest_hours")


@dataclass(frozen=True)
class Refusal:
    """One named member failing one gate: ``code`` for pages (not_active, skill, no_certificate,
    certificate_expired, unavailable, blackout, busy, monthly_cap), ``text`` for the API."""

    volunteer_id: int
    name: str
    code: str
    text: str


class MembersRefused(ValidationFailed):
    """Named members fail the matcher's gates; ``refusals`` says who fails which, by code."""

    code = "members_refused"

    def __init__(self, refusals: list[Refusal], field: str = "member_ids") -> None:
        super().__init__({field: [r.text for r in refusals]})
        self.refusals = refusals


def _member_refusals(position: Position, chosen: list[int]) -> list[Refusal]:
    """Why named members may not fill ``position``, by the matcher's hard gates: "name (#id): gate."

    Status, required skills and levels, certificates where the skill needs one (valid on the shift
    day), weekly availability (in an emergency, people callable at any hour pass), blackout days,
    other call-ups within the rest around the shift, and the monthly cap. A team's pairing stands in
    for the matcher's radius, so home grids are not checked.
    """
    shift = position.shift
    campaign = shift.campaign
    zone = deployment_zone()
    local_start, local_end = shift.start_at.astimezone(zone), shift.end_at.astimezone(zone)
    people = {row.id: row for row in db.session.execute(
        select(Volunteer.id, Volunteer.name, Volunteer.status, Volunteer.availability_mask,
               Volunteer.max_callups_per_month,
               (Volunteer.emergency_calls == EmergencyCalls.ANY_HOUR.value).label("any_hour"))
        .where(Volunteer.id.in_(chosen)))}
    held = {(row.volunteer_id, row.skill_id): row for row in db.session.execute(
        select(VolunteerSkill.volunteer_id, VolunteerSkill.skill_id, VolunteerSkill.level,
               VolunteerSkill.certificate_no, VolunteerSkill.certificate_expires_on)
        .where(VolunteerSkill.volunteer_id.in_(chosen)))}
    days = sorted({local_start.date(), local_end.date()})
    blackout = set(db.session.scalars(select(BlackoutDate.volunteer_id).where(
        BlackoutDate.volunteer_id.in_(chosen), BlackoutDate.day.in_(days))).all())
    rest = timedelta(hours=REST_HOURS)
    busy = set(db.session.scalars(join_shift(select(CallUp.volunteer_id)).where(
        CallUp.volunteer_id.in_(chosen), CallUp.status.in_(BUSY_STATES), CallUp.position_id != position.id,
        Shift.start_at < shift.end_at + rest, Shift.end_at > shift.start_at - rest)).all())
    month_start = datetime(local_start.year, local_start.month, 1, tzinfo=zone).astimezone(timezone.utc)
    used = dict(db.session.execute(
        select(CallUp.volunteer_id, func.count()).where(
            CallUp.volunteer_id.in_(chosen), CallUp.status.in_(COUNTED_STATES), CallUp.created_at >= month_start)
        .group_by(CallUp.volunteer_id)).all())
    need = int.from_bytes(matching.week_mask(local_start, local_end).tobytes(), "big")
    soft = campaign.priority is Priority.EMERGENCY
    required = [s for s in position.skills if not s.preferred]
    refusals = []
    for volunteer_id in chosen:
        person = people[volunteer_id]
        gate = gate_code = None
        if person.status is not VolunteerStatus.ACTIVE:
            gate, gate_code = "not active", "not_active"
        for need_skill in required:
            if gate:
                break
            code, row = need_skill.skill.code, held.get((volunteer_id, need_skill.skill_id))
            if row is None or row.level < need_skill.min_level:
                gate, gate_code = f"lacks skill {code} at level {need_skill.min_level}", "skill"
                continue
            valid_through = skill_valid_through(need_skill.skill.certified, row.certificate_no,
                                                row.certificate_expires_on)
            if valid_through == date.min:
                gate, gate_code = f"no certificate for {code}", "no_certificate"
            elif valid_through < local_start.date():
                gate, gate_code = f"certificate for {code} expired", "certificate_expired"
        have = int.from_bytes(bytes(person.availability_mask or b""), "big")
        if not gate and have & need != need and not (soft and person.any_hour):
            gate, gate_code = "not available at that time of the week", "unavailable"
        if not gate and volunteer_id in blackout:
            gate, gate_code = "blackout day", "blackout"
        if not gate and volunteer_id in busy:
            gate, gate_code = f"busy at that time ({REST_HOURS:g} h rest)", "busy"
        if not gate and used.get(volunteer_id, 0) >= person.max_callups_per_month:
            gate, gate_code = "monthly call-up cap reached", "monthly_cap"
        if gate:
            refusals.append(Refusal(volunteer_id, person.name, gate_code, f"{person.name} (#{volunteer_id}): {gate}."))
    return refusals


__all__ = ["offer_to_team", "answer_team_callup", "is_team_callup", "TeamAnswer"]
