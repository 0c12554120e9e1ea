"""Use cases of campaigns: draft, change, list, staffing; call-up listings."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, insert, or_, select, table, update
from sqlalchemy import column as table_column
from sqlalchemy.orm import selectinload

from campaigns.messaging import _queue_callup_message
from campaigns.models import (CLOSED_CAMPAIGN_STATES, OPEN_CALLUP_STATES, TAKEN_CALLUP_STATES, CallUp, CallUpEvent, CallUpStatus, Campaign,
                              CampaignStatus, GridAlert, GridAlertRecipient, Position, PositionSkill, Priority,
                              Shift)
from campaigns.places import join_shift
from campaigns import places
from campaigns.reasons import said, said_unfilled
from campaigns.reliability import show_up_prior
from campaigns.states import _record_event, _record_events, _transition_many
from core.errors import Conflict, NotFound, ValidationFailed
from core.i18n import _l
from core.scope import STAFF_ROLES, Role, Scope
from extensions import db
from grids.models import Grid
from grids.paths import is_within
from grids.services import get_grid, resolve_grid, subtree_of
from notices.models import Notification, NotificationKind, NotificationStatus
from volunteers.models import Identity, Volunteer
from volunteers.services import skills_by_code


def get_campaign(campaign_id: int, *, with_positions: bool = True) -> Campaign:
    """The campaign with its shifts and, unless ``with_positions`` is false, their positions and skills (an
    emergency's board reads its thousands of positions as plain rows instead: ``staffing``)."""
    options = () if with_positions else (selectinload(Campaign.shifts).lazyload(Shift.positions),)
    campaign = db.session.get(Campaign, campaign_id, options=options)
    if campaign is None:
        raise NotFound.of("campaign", campaign_id)
    return campaign


def list_campaigns(*, scope: Scope, office_grid_id: int | None = None, status=None, kind=None, priority=None,
                   q: str | None = None) -> Select:
    """Campaigns of offices in the caller's subtree matching the filters, newest first."""
    stmt = select(Campaign).order_by(Campaign.id.desc())
    if not scope.is_admin:
        stmt = stmt.where(Campaign.office_grid_id.in_(select(Grid.id).where(scope.grid_clause(Grid.path))))
    if office_grid_id is not None:
        stmt = stmt.join(Grid, Grid.id == Campaign.office_grid_id).where(subtree_of(get_grid(office_grid_id)))
    for column, value in ((Campaign.status, status), (Campaign.kind, kind), (Campaign.priority, priority)):
        if value is not None:
            stmt = stmt.where(column == value)
    if q:
        stmt = stmt.where(or_(Campaign.title.like(f"%{q}%"), Campaign.description.like(f"%{q}%")))
    return stmt


def _build_shifts(office: Grid, shifts: list[dict[str, Any]]) -> list[Shift]:
    """Shift and position rows from input, checked against the office and the catalogue."""
    codes = {req["code"] for shift in shifts for pos in shift["positions"]
             for req in pos["required_skills"] + pos["preferred_skills"]}
    catalogue = skills_by_code(codes)
    errors: dict[str, Any] = {}
    built = []
    for i, data in enumerate(shifts):
        shift_errors: dict[str, Any] = {}
        if data["end"] <= data["start"]:
            shift_errors["end"] = ["Must be after start."]
        place = db.session.get(Grid, data["grid_id"])
        if place is None:
            shift_errors["grid_id"] = [f"Unknown grid {data['grid_id']}."]
        elif not is_within(place.path, office.path):
            shift_errors["grid_id"] = [f"Grid {place.code} is outside the office {office.code}."]
        positions = []
        for j, pos in enumerate(data["positions"]):
            pos_errors: dict[str, list[str]] = {}
            if pos["min_party_members"] > pos["headcount"]:
                pos_errors["min_party_members"] = ["Cannot exceed the headcount."]
            skills = []
            for field in ("required_skills", "preferred_skills"):
                for req in pos[field]:
                    if req["code"] not in catalogue:
                        pos_errors.setdefault(field, []).append(f"Unknown skill {req['code']}.")
                    elif any(s.skill_id == catalogue[req["code"]].id for s in skills):
                        pos_errors.setdefault(field, []).append(f"Skill {req['code']} is listed twice.")
                    else:
                        skills.append(PositionSkill(skill_id=catalogue[req["code"]].id, min_level=req["min_level"],
                                                    preferred=field == "preferred_skills"))
            if pos_errors:
                shift_errors.setdefault("positions", {})[j] = pos_errors
            positions.append(Position(role=pos["role"], headcount=pos["headcount"],
                                      min_party_members=pos["min_party_members"],
                                      required_identities=Identity.to_mask(pos["required_identities"]),
                                      skills=skills))
        if shift_errors:
            errors[i] = shift_errors
        built.append(Shift(start_at=data["start"], end_at=data["end"], grid_id=data["grid_id"],
                           place=data.get("place"), positions=positions))
    if errors:
        raise ValidationFailed({"shifts": errors})
    return built


def _clean_policy(policy: dict[str, Any]) -> dict[str, Any]:
    """The policy as stored in JSON (times as ISO strings)."""
    stored = dict(policy)
    if stored.get("send_at") is not None:
        stored["send_at"] = stored["send_at"].isoformat()
    return stored


def _check_cron(expression: str | None) -> None:
    """A recurrence must be a five-field cron expression APScheduler understands, firing at most daily."""
    if expression is None:
        return
    from apscheduler.triggers.cron import CronTrigger

    from campaigns.recurrence import too_frequent

    try:
        CronTrigger.from_crontab(expression)
    except ValueError as error:
        raise ValidationFailed.field("recurrence_cron", _l("Not a cron expression: %(error)s", error=error)) from None
    if too_frequent(expression):
        raise ValidationFailed.field("recurrence_cron", _l("Recurs more often than once a day; weekly or monthly "
                                                        "rules are what recurring campaigns are for."))


# The accounts table, read as a plain table: accounts sits above campaigns and is not imported here.
_USERS = table("users", *(table_column(name) for name in ("id", "role", "grid_id", "active")))


def check_coordinator(user_id: int, office: Grid) -> int:
    """``user_id`` when it is an active office or admin account whose grid covers ``office``; else a 422
    on ``coordinator_user_id`` (one message whether the account is unknown or out of reach)."""
    row = db.session.execute(select(_USERS.c.role, _USERS.c.grid_id, _USERS.c.active)
                             .where(_USERS.c.id == user_id)).first()
    fits = row is not None and bool(row.active) and row.role in {role.value for role in STAFF_ROLES}
    if fits and row.role == Role.OFFICE.value:
        home = db.session.get(Grid, row.grid_id) if row.grid_id is not None else None
        fits = home is not None and is_within(office.path, home.path)
    if not fits:
        raise ValidationFailed.field("coordinator_user_id",
                                     _l("No office or admin account %(user_id)s whose grid covers the office %(code)s.",
                                        user_id=user_id, code=office.code))
    return user_id


def _default_coordinator(scope: Scope, office: Grid) -> int | None:
    """The signed-in staff member who drafts a campaign coordinates it; integrations and the CLI name no one."""
    if scope.user_id is None or scope.role not in STAFF_ROLES:
        return None
    try:
        return check_coordinator(scope.user_id, office)
    except ValidationFailed:
        return None


def draft_campaign(data: dict[str, Any], *, scope: Scope, now: datetime) -> Campaign:
    """Create a campaign in draft with its shifts and positions, for an office in the caller's subtree.

    ``coordinator_user_id`` missing from ``data``: the signed-in creator (``scope.user_id``) when staff;
    None: no coordinator (the office's in-app notices only)."""
    campaign = _draft_campaign(data, scope=scope, now=now)
    db.session.commit()
    return campaign


def _draft_campaign(data: dict[str, Any], *, scope: Scope, now: datetime) -> Campaign:
    """``draft_campaign`` in the caller's transaction (a whistle turned into a campaign links both at once)."""
    office = resolve_grid(data["office_grid_id"], "office_grid_id", scope)
    _check_cron(data.get("recurrence_cron"))
    if "coordinator_user_id" not in data:
        coordinator = _default_coordinator(scope, office)
    elif data["coordinator_user_id"] is None:
        coordinator = None
    else:
        coordinator = check_coordinator(data["coordinator_user_id"], office)
    campaign = Campaign(title=data["title"], kind=data["kind"], priority=data["priority"],
                        office_grid_id=office.id, description=data.get("description"),
                        contact_name=data.get("contact_name"), contact_phone=data.get("contact_phone"),
                        policy=_clean_policy(data.get("policy") or {}),
                        recurrence_cron=data.get("recurrence_cron"), status=CampaignStatus.DRAFT,
                        created_by=scope.actor, coordinator_user_id=coordinator, created_at=now, updated_at=now)
    campaign.shifts = _build_shifts(office, data["shifts"])
    db.session.add(campaign)
    db.session.flush()
    return campaign


def update_campaign(campaign_id: int, data: dict[str, Any], *, scope: Scope, now: datetime) -> Campaign:
    """Change a draft; shifts given replace all shifts. The coordinator alone may also change while the
    campaign runs (someone else takes over the answers), not once it is done or cancelled."""
    campaign = get_campaign(campaign_id)
    # A closed campaign keeps the coordinator it had.
    if set(data) == {"coordinator_user_id"} and campaign.status not in CLOSED_CAMPAIGN_STATES:
        chosen = data["coordinator_user_id"]
        campaign.coordinator_user_id = None if chosen is None else check_coordinator(chosen, campaign.office)
        campaign.updated_at = now
        db.session.commit()
        return campaign
    if campaign.status is not CampaignStatus.DRAFT:
        raise Conflict.wrong_state("campaign", campaign.status.value, "edit")
    office = (resolve_grid(data["office_grid_id"], "office_grid_id", scope) if "office_grid_id" in data
              else campaign.office)
    _check_cron(data.get("recurrence_cron"))
    if data.get("coordinator_user_id") is not None:
        check_coordinator(data["coordinator_user_id"], office)
    elif "coordinator_user_id" not in data and "office_grid_id" in data and campaign.coordinator_user_id is not None:
        check_coordinator(campaign.coordinator_user_id, office)  # the coordinator must still cover the new office
    for key in ("title", "kind", "priority", "description", "contact_name", "contact_phone", "recurrence_cron"):
        if key in data:
            setattr(campaign, key, data[key])
    campaign.office_grid_id = office.id
    if "policy" in data:
        campaign.policy = _clean_policy(data["policy"])
    if "shifts" in data:
        campaign.shifts = _build_shifts(office, data["shifts"])
    elif "office_grid_id" in data:
        outside = [s.id for s in campaign.shifts if not is_within(db.session.get(Grid, s.grid_id).path, office.path)]
        if outside:
            raise ValidationFailed.field("office_grid_id", _l("Some shifts are outside this office."))
    if "coordinator_user_id" in data:
        campaign.coordinator_user_id = data["coordinator_user_id"]
    campaign.updated_at = now
    db.session.commit()
    return campaign


def delete_campaign(campaign_id: int, *, actor: str, now: datetime) -> None:
    """Delete a draft; published campaigns are cancelled, not deleted. A recurring template's occurrences
    that have not started are cancelled with it (their people told), in the same transaction."""
    campaign = get_campaign(campaign_id)
    if campaign.status is not CampaignStatus.DRAFT:
        raise Conflict.wrong_state("campaign", campaign.status.value, "delete")
    _cancel_occurrences(campaign, reason="recurring campaign deleted", actor=actor, now=now)
    db.session.delete(campaign)
    db.session.commit()


def get_callup(callup_id: int) -> CallUp:
    callup = db.session.get(CallUp, callup_id)
    if callup is None:
        raise NotFound.of("call-up", callup_id)
    return callup


def is_emergency(callup: CallUp) -> bool:
    """Whether the call-up is for an emergency campaign (its "yes" may say when the person can be there)."""
    return callup.position.shift.campaign.priority is Priority.EMERGENCY


def list_callups(campaign_id: int, *, status: CallUpStatus | None = None,
                 position_id: int | None = None) -> Select:
    """A campaign's call-ups, by position then id."""
    get_campaign(campaign_id)
    stmt = (join_shift(select(CallUp)).where(Shift.campaign_id == campaign_id)
            .order_by(CallUp.position_id, CallUp.id))
    if status is not None:
        stmt = stmt.where(CallUp.status == status)
    if position_id is not None:
        stmt = stmt.where(CallUp.position_id == position_id)
    return stmt


def _show_up_history(campaign_id: int):
    """Per person called to this campaign: attended and no-show call-ups ever (a grouped subquery)."""
    people = (join_shift(select(CallUp.volunteer_id))
              .where(Shift.campaign_id == campaign_id, CallUp.volunteer_id.is_not(None)))
    return (select(CallUp.volunteer_id,
                   func.sum(case((CallUp.status == CallUpStatus.ATTENDED, 1), else_=0)).label("attended"),
                   func.sum(case((CallUp.status == CallUpStatus.NO_SHOW, 1), else_=0)).label("no_shows"))
            .where(CallUp.volunteer_id.in_(people)).group_by(CallUp.volunteer_id).subquery("show_up_history"))


# Everyone's show-up chance is below 1, so without a margin every full position would look at risk:
# a position is flagged when its expected attendance is short by half a person or more.
AT_RISK_MARGIN = 0.5


def falls_short(expected_attendance: float, headcount: int) -> bool:
    """The at-risk rule, shared by ``staffing`` and the extra offers of ``campaigns/backfill.py``."""
    return round(expected_attendance, 6) <= headcount - AT_RISK_MARGIN


def expected_attendance_sum(history):
    """SQL aggregate over call-ups joined to ``history`` (``_show_up_history``): 1 per attended one plus,
    per accepted one, the person's show-up probability (attended + a) / (attended + no-shows + a + b),
    with the district's prior Beta(a, b) (``campaigns/reliability.py``): a newcomer counts as the
    district's ordinary show-up rate, not as a coin toss.

    Shared by ``staffing`` and the at-risk extra offers of ``campaigns/backfill.py``.
    """
    prior = show_up_prior()
    attended, no_shows = func.coalesce(history.c.attended, 0), func.coalesce(history.c.no_shows, 0)
    show_up = (attended + prior.alpha) / (attended + no_shows + prior.alpha + prior.beta)
    return func.coalesce(func.sum(case((CallUp.status == CallUpStatus.ACCEPTED, show_up),
                                       (CallUp.status == CallUpStatus.ATTENDED, 1.0), else_=0.0)), 0.0)


def _person_in(states):
    """1 for a person's call-up in one of ``states`` (a team's own call-up is nobody: its members have their own)."""
    return case((and_(CallUp.status.in_(states), CallUp.is_person), 1), else_=0)


def campaign_figures(campaign_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per campaign: places (headcount), places taken by people (capped per position, as on its board), the fill
    rate and the first shift's start, in one grouped query whatever the number of positions (the campaign list)."""
    if not campaign_ids:
        return {}
    taken = (join_shift(select(CallUp.position_id, func.sum(_person_in(TAKEN_CALLUP_STATES)).label("taken")))
             .where(Shift.campaign_id.in_(campaign_ids)).group_by(CallUp.position_id).subquery())
    placed = func.coalesce(taken.c.taken, 0)
    rows = db.session.execute(
        select(Shift.campaign_id, func.min(Shift.start_at).label("first_start"),
               func.coalesce(func.sum(Position.headcount), 0).label("headcount"),
               func.coalesce(func.sum(case((placed < Position.headcount, placed), else_=Position.headcount)), 0)
               .label("accepted"))
        .outerjoin(Position, Position.shift_id == Shift.id).outerjoin(taken, taken.c.position_id == Position.id)
        .where(Shift.campaign_id.in_(campaign_ids)).group_by(Shift.campaign_id)).all()
    found = {campaign_id: {"headcount": 0, "accepted": 0, "fill_rate": 0.0, "first_start": None}
             for campaign_id in campaign_ids}
    for row in rows:
        headcount, accepted = int(row.headcount), int(row.accepted)
        found[row.campaign_id] = {"headcount": headcount, "accepted": accepted, "first_start": row.first_start,
                                  "fill_rate": round(accepted / headcount, 4) if headcount else 0.0}
    return found


def staffing(campaign_id: int) -> dict[str, Any]:
    """Per position: headcount and call-ups by state, counted in one query, and the expected attendance.

    ``expected_attendance`` sums, over the position's call-ups, 1 for an attended one and, for
    one still accepted, the person's show-up probability from their whole history and the district's
    prior (``expected_attendance_sum``); no-shows count 0. ``at_risk``: the position is full (accepted equals
    the headcount) yet fewer than the headcount are expected to come. Emergencies add who arrives
    when (``_add_eta_board``).
    """
    campaign = get_campaign(campaign_id, with_positions=False)
    groups = {
        "accepted": TAKEN_CALLUP_STATES,
        "pending": OPEN_CALLUP_STATES,
        "declined": (CallUpStatus.DECLINED,),
        "expired": (CallUpStatus.EXPIRED,),
        "withdrawn": (CallUpStatus.WITHDRAWN,),
        "attended": (CallUpStatus.ATTENDED,),
    }
    # People and places, not call-ups: a team's own call-up is nobody on the roster (its members have
    # their own), and "pending" is the places unanswered offers hold (places.py: standby holds none).
    people = {"accepted", "attended"}
    columns = [func.coalesce(func.sum(
        CallUp.held_places if name == "pending" else
        _person_in(states) if name in people else case((CallUp.status.in_(states), 1), else_=0)), 0).label(name)
        for name, states in groups.items()]
    # Who the call-ups reached, opened and answered, and who stays silent (followed up or not).
    reach = {"reached": CallUp.sent_at.is_not(None), "opened": CallUp.seen_at.is_not(None),
             "answered": CallUp.responded_at.is_not(None),
             "silent": and_(CallUp.status == CallUpStatus.SENT, CallUp.seen_at.is_(None)),
             "followed_up": CallUp.followed_up_at.is_not(None)}
    columns += [func.coalesce(func.sum(case((condition, 1), else_=0)), 0).label(name)
                for name, condition in reach.items()]
    history = _show_up_history(campaign_id)
    expected = expected_attendance_sum(history)
    rows = db.session.execute(
        join_shift(select(CallUp.position_id, *columns, expected.label("expected_attendance")))
        .outerjoin(history, history.c.volunteer_id == CallUp.volunteer_id)
        .where(Shift.campaign_id == campaign_id)
        .group_by(CallUp.position_id)).all()
    counts = {row.position_id: row._asdict() for row in rows}
    positions = []
    # Plain rows in the order of the campaign's shifts, not whole positions with their skills.
    for position in db.session.execute(
            select(Position.id, Position.shift_id, Position.role, Position.headcount, Position.accepted_count,
                   Position.unfilled_reasons).join(Shift, Shift.id == Position.shift_id)
            .where(Shift.campaign_id == campaign_id).order_by(Shift.start_at, Shift.id, Position.id)):
        row = counts.get(position.id, {})
        entry = {"position_id": position.id, "shift_id": position.shift_id, "role": position.role,
                 "headcount": position.headcount}
        entry.update({name: int(row.get(name, 0)) for name in (*groups, *reach)})
        entry["open"] = max(position.headcount - entry["accepted"], 0)
        # The last match's reasons stay until the places are taken or asked for.
        still_open = places.open_places_of(position, entry["pending"]) > 0
        entry["unfilled"] = said_unfilled(position.unfilled_reasons) if still_open else None
        expected_attendance = float(row.get("expected_attendance") or 0.0)
        entry["expected_attendance"] = round(expected_attendance, 2)
        # Full on paper, but the people who said yes are, on their record, likely to leave a gap.
        entry["at_risk"] = (entry["accepted"] == position.headcount
                            and falls_short(expected_attendance, position.headcount))
        positions.append(entry)
    headcount = sum(p["headcount"] for p in positions)
    accepted = sum(min(p["accepted"], p["headcount"]) for p in positions)
    result = {"campaign_id": campaign.id, "status": campaign.status.value, "headcount": headcount,
              "accepted": accepted, "fill_rate": round(accepted / headcount, 4) if headcount else 0.0,
              "positions": positions, "alarm_at": None, "standard_met": None, "arrivals": None, "alerts": None}
    if campaign.priority is Priority.EMERGENCY:
        _add_eta_board(campaign, result)
    return result


# The seeds' standard for an emergency: everyone at their post within an hour of the alarm.
ARRIVAL_STANDARD = timedelta(minutes=60)
# Board columns by the minutes the person said they need (0 = already on site); None = did not say.
ETA_BUCKETS = (("on_site", 0), ("within_15", 15), ("within_30", 30), ("within_60", 60))


def _empty_board() -> dict[str, list[dict[str, Any]]]:
    return {name: [] for name, _ in ETA_BUCKETS} | {"later": [], "unknown": []}


def _eta_bucket(eta_minutes: int | None, attended: bool) -> str:
    if attended:
        return "on_site"
    if eta_minutes is None:
        return "unknown"
    for name, limit in ETA_BUCKETS:
        if eta_minutes <= limit:
            return name
    return "later"


def _add_eta_board(campaign: Campaign, result: dict[str, Any]) -> None:
    """Emergencies: who arrives when, per position, and whether everyone is at their post within the hour.

    A person is expected at ``responded_at + eta_minutes`` (or at ``attended_at`` once checked in). The
    hour runs from the alarm: the first call-up of the campaign sent (else its publication). A position
    is ``all_within_hour`` when someone accepted and everyone who did is expected in time; unknown ETAs
    count as late. ``standard_met``: every position full and all within the hour.
    """
    alarm = db.session.scalar(
        join_shift(select(func.min(CallUp.sent_at))).where(Shift.campaign_id == campaign.id)) or campaign.published_at
    rows = db.session.execute(
        join_shift(select(CallUp.id, CallUp.position_id, CallUp.volunteer_id, Volunteer.name, CallUp.status,
               CallUp.eta_minutes, CallUp.responded_at, CallUp.attended_at))
        .outerjoin(Volunteer, Volunteer.id == CallUp.volunteer_id)
        .where(Shift.campaign_id == campaign.id,
               CallUp.status.in_((CallUpStatus.ACCEPTED, CallUpStatus.ATTENDED)))
        .order_by(CallUp.position_id, CallUp.responded_at, CallUp.id)).all()
    boards: dict[int, dict[str, Any]] = {}
    for row in rows:
        attended = row.status is CallUpStatus.ATTENDED
        if attended:
            arrive = row.attended_at
        elif row.eta_minutes is not None and row.responded_at is not None:
            arrive = row.responded_at + timedelta(minutes=row.eta_minutes)
        else:
            arrive = None
        board = boards.setdefault(row.position_id, _empty_board())
        board[_eta_bucket(row.eta_minutes, attended)].append(
            {"callup_id": row.id, "volunteer_id": row.volunteer_id, "name": row.name, "eta_minutes": row.eta_minutes,
             "arrive_at": arrive, "in_time": bool(arrive and alarm and arrive <= alarm + ARRIVAL_STANDARD)})
    met = True
    for entry in result["positions"]:
        board = boards.get(entry["position_id"]) or _empty_board()
        people = [person for column in board.values() for person in column]
        arrivals = [person["arrive_at"] for person in people]
        entry["eta_board"] = board
        entry["last_arrival_at"] = max(arrivals) if people and all(arrivals) else None
        entry["all_within_hour"] = bool(people) and all(person["in_time"] for person in people)
        met = met and entry["all_within_hour"] and entry["open"] == 0
    result["alarm_at"] = alarm
    result["standard_met"] = met and bool(result["positions"])
    result["arrivals"] = _arrivals(rows, alarm)
    result["alerts"] = _alert_summary(campaign.id)


# Real arrivals (check-in times) against the alarm, in the columns of the one-hour standard.
ARRIVAL_COLUMNS = (("within_15", 15), ("within_30", 30), ("within_60", 60))


def _arrivals(rows, alarm: datetime | None) -> dict[str, int]:
    """How many of those who accepted checked in within 15, 30, 60 minutes of the alarm, later, or not yet."""
    counts = {name: 0 for name, _ in ARRIVAL_COLUMNS} | {"later": 0, "not_arrived": 0}
    for row in rows:
        if row.attended_at is None or alarm is None:
            counts["not_arrived"] += 1
            continue
        minutes = (row.attended_at - alarm).total_seconds() / 60
        counts[next((name for name, limit in ARRIVAL_COLUMNS if minutes <= limit), "later")] += 1
    return counts


def _alert_summary(campaign_id: int) -> dict[str, Any] | None:
    """The campaign's grid alerts: how many went out, to how many people, how many acknowledged."""
    row = db.session.execute(
        select(func.count(func.distinct(GridAlert.id)), func.count(GridAlertRecipient.id),
               func.count(GridAlertRecipient.acked_at), func.max(GridAlert.created_at))
        .select_from(GridAlert).outerjoin(GridAlertRecipient, GridAlertRecipient.alert_id == GridAlert.id)
        .where(GridAlert.campaign_id == campaign_id)).one()
    if not row[0]:
        return None
    return {"sent": int(row[0]), "recipients": int(row[1]), "acknowledged": int(row[2]), "last_at": row[3]}


def list_timeline(campaign_id: int) -> Select:
    """The campaign's call-up history in time order: every state change with its call-up, person and actor."""
    get_campaign(campaign_id)
    return (join_shift(select(CallUpEvent.id, CallUpEvent.at, CallUpEvent.callup_id, CallUp.position_id, CallUp.volunteer_id,
                   CallUp.team_id, Volunteer.name.label("volunteer_name"), CallUpEvent.from_state,
                   CallUpEvent.to_state, CallUpEvent.actor, CallUpEvent.note)
            .join(CallUp, CallUp.id == CallUpEvent.callup_id))
            .outerjoin(Volunteer, Volunteer.id == CallUp.volunteer_id)
            .where(Shift.campaign_id == campaign_id)
            .order_by(CallUpEvent.at, CallUpEvent.id))


def match_campaign(campaign_id: int, *, now: datetime, timezone_name: str):
    """Dry run: who would be called for each open place, and why places stay open (in words)."""
    from campaigns.recruitment import plan_recruitment

    campaign = get_campaign(campaign_id)
    if campaign.status in CLOSED_CAMPAIGN_STATES:
        raise Conflict.wrong_state("campaign", campaign.status.value, "match")
    plan = plan_recruitment(campaign, now=now, timezone_name=timezone_name,
                            fill_all=campaign.status is CampaignStatus.DRAFT)
    db.session.rollback()  # a dry run changes nothing, and releases SQLite's write slot at once
    for position in plan.positions:  # shown at once: the reasons in the reader's language
        position.reasons = said(position.reasons)
    return plan


def _store_proposals(plan, *, wave: int, send_at: datetime, actor: str, now: datetime, note: str) -> int:
    """The plan's proposals as scheduled call-ups with their first event; part of the caller's transaction. Two
    INSERTs whatever the size (an emergency's wave is thousands of call-ups), not a unit of work per row."""
    rows = [{"position_id": proposal.position_id, "volunteer_id": proposal.volunteer_id,
             "status": CallUpStatus.SCHEDULED, "score": proposal.score, "wave": wave,
             "radius_level": proposal.radius_level, "send_at": send_at, "created_at": now, "updated_at": now,
             "breakdown": {**proposal.breakdown, "cost": round(proposal.cost, 4), "party_slot": proposal.party_slot}}
            for position in plan.positions for proposal in position.proposals]
    if not rows:
        return 0
    ids = db.session.scalars(insert(CallUp).returning(CallUp.id), rows).all()
    _record_events([(callup_id, None, CallUpStatus.SCHEDULED) for callup_id in ids], now=now, actor=actor, note=note)
    return len(ids)


def check_publishable(campaign_id: int, *, now: datetime) -> Campaign:
    """The campaign, if it may be published now: a draft none of whose shifts has started."""
    campaign = get_campaign(campaign_id)
    if campaign.status is not CampaignStatus.DRAFT:
        raise Conflict.wrong_state("campaign", campaign.status.value, "publish")
    if any(shift.start_at <= now for shift in campaign.shifts):
        raise ValidationFailed.field("shifts", _l("A shift has already started; move it before publishing."))
    return campaign


def publish_campaign(campaign_id: int, *, actor: str, now: datetime, timezone_name: str) -> Campaign:
    """Publish a draft: store the matcher's proposals as scheduled call-ups, all in one transaction."""
    from campaigns.policy import effective_policy, send_time
    from campaigns.recruitment import plan_recruitment, remember_unfilled

    campaign = check_publishable(campaign_id, now=now)
    # Claim the draft first: of two concurrent publishes exactly one changes a row.
    claimed = db.session.execute(
        update(Campaign).where(Campaign.id == campaign.id, Campaign.status == CampaignStatus.DRAFT)
        .values(status=CampaignStatus.PUBLISHED, published_at=now, updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        db.session.rollback()
        raise Conflict.wrong_state("campaign", "published", "publish")
    policy = effective_policy(campaign)
    plan = plan_recruitment(campaign, now=now, timezone_name=timezone_name, fill_all=True,
                            over_recruit_percent=int(policy.get("over_recruit_percent") or 0))
    _store_proposals(plan, wave=1, send_at=send_time(policy, now), actor=actor, now=now, note="published")
    # Places nobody can fill are said at once, and stay on the board with their reasons until they fill.
    remember_unfilled(plan, now=now)
    db.session.commit()
    db.session.refresh(campaign)
    return campaign


def cancel_campaign(campaign_id: int, *, reason: str, actor: str, now: datetime) -> Campaign:
    """Cancel a campaign: withdraw open call-ups and notify the people who accepted, in one transaction.
    A recurring template takes its occurrences that have not started with it."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.field("reason", _l("Give a reason."))
    campaign = get_campaign(campaign_id)
    if not _cancel(campaign.id, reason=reason, actor=actor, now=now):
        db.session.rollback()
        raise Conflict.wrong_state("campaign", get_campaign(campaign_id).status.value, "cancel")
    _cancel_occurrences(campaign, reason=reason, actor=actor, now=now)
    db.session.commit()
    db.session.refresh(campaign)
    return campaign


def _cancel_occurrences(template: Campaign, *, reason: str, actor: str, now: datetime) -> None:
    """Cancel, in the caller's transaction, the template's occurrences whose first shift has not started."""
    started = select(Shift.id).where(Shift.campaign_id == Campaign.id, Shift.start_at <= now).exists()
    ids = db.session.scalars(select(Campaign.id).where(
        Campaign.template_id == template.id, Campaign.status.not_in(CLOSED_CAMPAIGN_STATES), ~started)).all()
    for occurrence_id in ids:
        _cancel(occurrence_id, reason=reason, actor=actor, now=now)


def _cancel(campaign_id: int, *, reason: str, actor: str, now: datetime) -> bool:
    """Cancel one campaign in the caller's transaction: withdraw its open call-ups, tell the people who
    accepted. False (nothing changed) when it is closed already."""
    # Claim the campaign first: of two concurrent cancels exactly one changes the row.
    claimed = db.session.execute(
        update(Campaign).where(Campaign.id == campaign_id, Campaign.status.not_in(CLOSED_CAMPAIGN_STATES))
        .values(status=CampaignStatus.CANCELLED, cancelled_at=now, cancel_reason=reason[:500], updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        return False
    positions = (select(Position.id).join(Shift, Shift.id == Position.shift_id)
                 .where(Shift.campaign_id == campaign_id).scalar_subquery())
    for source in OPEN_CALLUP_STATES:
        _transition_many(source, CallUpStatus.WITHDRAWN, CallUp.position_id.in_(positions), now=now, actor=actor,
                         note="campaign cancelled")
    # Invitations and reminders still waiting in the outbox (quiet hours, retries) must not go out.
    withdrawn = select(CallUp.id).where(CallUp.position_id.in_(positions), CallUp.status == CallUpStatus.WITHDRAWN)
    db.session.execute(
        update(Notification).where(Notification.callup_id.in_(withdrawn),
                                   Notification.status == NotificationStatus.PENDING,
                                   Notification.kind.in_((NotificationKind.CALLUP, NotificationKind.REMINDER)))
        .values(status=NotificationStatus.FAILED, last_error="call-up withdrawn: campaign cancelled")
        .execution_options(synchronize_session=False))
    accepted = db.session.scalars(select(CallUp).where(CallUp.position_id.in_(positions),
                                                       CallUp.status == CallUpStatus.ACCEPTED)).all()
    for callup in accepted:
        # The acceptance stays on record; the event notes that the person was told.
        _record_event(callup.id, CallUpStatus.ACCEPTED, CallUpStatus.ACCEPTED, now=now, actor=actor,
                      note=f"campaign cancelled: {reason}")
        _queue_callup_message(callup, NotificationKind.CANCELLATION, template="cancellation", now=now,
                              serial="cancelled", note=reason)
    return True
