"""The bridge to `matching/`: database rows → matcher arrays → proposals with reasons.

Everything is read with a handful of set-based queries (no per-person loops):
grids, the candidate people in the widest subtree any position may search,
their skills, busy times, blackout days and call-up history.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import and_, func, or_, select, update

import matching
from campaigns.models import (OPEN_CALLUP_STATES, CallUp, CallUpStatus, Campaign, Position, Priority, Shift)
from campaigns.places import join_shift
from campaigns import places
from campaigns.policy import effective_policy
from campaigns.reliability import BUSY_STATES, COUNTED_STATES, person_history  # noqa: F401  (re-exported)
from campaigns.overrides import widest_level
from core.kinds import CampaignKind
from core.metrics import MATCH_SECONDS, MATCH_SIZE
from extensions import db
from grids.models import Grid
from volunteers.models import (BlackoutDate, DutyRota, EmergencyCalls, Identity, Skill, Volunteer, VolunteerSkill,
                               VolunteerStatus, skill_valid_through, team_members, team_pairings)

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
KIND_INDEX = {kind: index for index, kind in enumerate(CampaignKind)}


def _epoch(value: datetime) -> int:
    return int((value - EPOCH).total_seconds())


@dataclass
class OpenPosition:
    """A position and how many of its places this round should fill."""

    position: Position
    shift: Shift
    slots: int
    needed: int | None = None  # the places open before over-recruitment (None: ``slots``)


@dataclass
class Proposal:
    position_id: int
    volunteer_id: int
    cost: float
    breakdown: dict[str, float]
    radius_level: int
    party_slot: bool

    @property
    def score(self) -> float:
        """0-100, higher is a better fit (100 / (1 + cost))."""
        return round(100.0 / (1.0 + self.cost), 2)


@dataclass
class PositionPlan:
    position_id: int
    shift_id: int
    role: str
    headcount: int
    slots: int
    proposals: list[Proposal] = field(default_factory=list)
    standby: list[tuple[int, float]] = field(default_factory=list)
    reasons: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, int]] = field(default_factory=list)
    needed: int = 0

    @property
    def unfilled(self) -> int:
        return self.slots - len(self.proposals)

    @property
    def places_left_open(self) -> int:
        """Places of the headcount this match leaves without anyone to ask (over-recruitment aside)."""
        return max(self.needed - len(self.proposals), 0)


@dataclass
class MatchPlan:
    campaign_id: int
    positions: list[PositionPlan]
    total_cost: float
    stats: dict[str, Any]


def radius_for(campaign: Campaign, shift_grid: Grid, policy: dict[str, Any],
               allowed_level: int | None = None) -> tuple[int, int, bool]:
    """(first radius level, widest radius level, escalate?) for a shift of ``campaign``.

    Routine work searches the office's subtree at once ("小事不出网格"); urgent and
    emergency work starts at the shift's own grid and widens level by level up to the
    policy's limit. Neither goes beyond ``allowed_level``: the office's own level unless a
    street office or the district opened an override (campaigns/overrides.py).
    """
    office_level = campaign.office.level
    allowed = office_level if allowed_level is None else allowed_level
    if campaign.priority is Priority.ROUTINE:
        widest = max(min(policy.get("max_radius_level", office_level), shift_grid.level), allowed)
        return widest, widest, False
    widest = campaign.policy.get("max_radius_level") if campaign.policy else None
    widest = max(0 if widest is None else min(int(widest), shift_grid.level), allowed)
    return shift_grid.level, widest, True


def _local_day_bounds(day: date, zone: ZoneInfo) -> tuple[int, int]:
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    return _epoch(start.astimezone(timezone.utc)), _epoch((start + timedelta(days=1)).astimezone(timezone.utc))


class _GridTable:
    """Every grid's ancestors by level and centroid, indexed by grid id."""

    def __init__(self) -> None:
        rows = db.session.execute(select(Grid.id, Grid.path, Grid.lat, Grid.lon)).all()
        size = max((row.id for row in rows), default=0) + 1
        self.ancestors = np.full((size, matching.LEVELS), -1, dtype=np.int64)
        self.lat = np.full(size, np.nan)
        self.lon = np.full(size, np.nan)
        for row in rows:
            ids = [int(part) for part in row.path.strip("/").split("/") if part]
            self.ancestors[row.id, :len(ids)] = ids
            self.lat[row.id] = np.nan if row.lat is None else row.lat
            self.lon[row.id] = np.nan if row.lon is None else row.lon
        self.path = {row.id: row.path for row in rows}


def _in_scope(scopes: list[str]):
    """Active people whose home grid lies in one of the ``scopes`` paths (a join condition set)."""
    return and_(Volunteer.status == VolunteerStatus.ACTIVE,
                or_(*[Grid.path.startswith(path, autoescape=True) for path in scopes]))


def _scoped(stmt, scopes: list[str], whole: bool):
    """``stmt`` (over Volunteer) limited to active people in ``scopes``; ``whole``: the scopes hold every grid,
    so no join with the grid tree is needed."""
    stmt = stmt.where(Volunteer.status == VolunteerStatus.ACTIVE)
    return stmt if whole else stmt.join(Grid, Grid.id == Volunteer.home_grid_id).where(_in_scope(scopes))


def _covers_every_grid(scopes: list[str], paths) -> bool:
    """Do the scopes hold every grid? Then a match reads every active person, with no join to the grid tree."""
    return bool(scopes) and all(any(path.startswith(scope) for scope in scopes) for path in paths)


def _plain_rows(stmt) -> list[tuple]:
    """The rows of a Core select as the driver's plain tuples: no Row objects and no result processing, so
    only columns whose driver values are what the caller wants (integers, bytes, booleans, dates or ISO
    date strings) belong here. At city scale, building a million Row objects costs more than the query."""
    result = db.session.connection().execute(stmt)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def _candidate_rows(scopes: list[str], whole: bool = False) -> list:
    """The candidates' own columns, by id (plain tuples: see ``_plain_rows``)."""
    stmt = _scoped(select(Volunteer.id, Volunteer.home_grid_id, Volunteer.identity_flags, Volunteer.availability_mask,
                          Volunteer.max_callups_per_month, Volunteer.interests,
                          Volunteer.emergency_calls == EmergencyCalls.ANY_HOUR.value), scopes, whole)
    return _plain_rows(stmt.order_by(Volunteer.id))


def _int_column(values, dtype=np.int64) -> np.ndarray:
    return np.array(values, dtype=dtype) if len(values) else np.zeros(0, dtype=dtype)


def build_problem(campaign: Campaign, open_positions: list[OpenPosition], *, now: datetime,
                  timezone_name: str, rest_hours: float = 12.0) -> tuple[matching.Problem, dict[str, Any]]:
    """Read everything the matcher needs for ``open_positions`` and pack it into arrays."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    zone = ZoneInfo(timezone_name)
    policy = effective_policy(campaign)
    grids = _GridTable()
    catalogue = db.session.execute(select(Skill.id, Skill.code, Skill.certified).order_by(Skill.id)).all()
    skill_ids = [row.id for row in catalogue]
    skill_column = {skill_id: column for column, skill_id in enumerate(skill_ids)}

    specs, scopes = [], set()
    allowed_level = widest_level(campaign, now)
    # The shifts' grids in one query (the loop's gets then hit the identity map).
    db.session.scalars(select(Grid).where(Grid.id.in_(sorted({item.shift.grid_id for item in open_positions})))).all()
    for index, item in enumerate(open_positions):
        place = db.session.get(Grid, item.shift.grid_id)
        first, widest, escalate = radius_for(campaign, place, policy, allowed_level)
        scope_id = grids.ancestors[place.id, widest]
        scopes.add(grids.path[int(scope_id)])
        local_start = item.shift.start_at.astimezone(zone)
        specs.append(matching.PositionSpec(
            id=item.position.id, headcount=item.slots,
            place_grid_ancestors=grids.ancestors[place.id].tolist(),
            lat=float(grids.lat[place.id]), lon=float(grids.lon[place.id]),
            start=_epoch(item.shift.start_at), end=_epoch(item.shift.end_at),
            shift_day=(local_start.date() - date(1970, 1, 1)).days,
            week_slots=matching.week_mask(local_start, item.shift.end_at.astimezone(zone)),
            required_skills=[(skill_column[s.skill_id], s.min_level) for s in item.position.skills if not s.preferred],
            preferred_skills=[(skill_column[s.skill_id], s.min_level) for s in item.position.skills if s.preferred],
            min_party_members=min(item.position.min_party_members, item.slots),
            required_identities=item.position.required_identities,
            radius_level=first, max_radius_level=widest, escalate=escalate,
            kind=KIND_INDEX[campaign.kind], soft_availability=campaign.priority is Priority.EMERGENCY))
    timings["positions"] = time.perf_counter() - started

    t = time.perf_counter()
    scopes = sorted(scopes)
    whole = _covers_every_grid(scopes, grids.path.values())
    rows = _candidate_rows(scopes, whole) if specs else []
    n = len(rows)
    columns = [list(map(itemgetter(k), rows)) for k in range(7)]
    del rows
    ids = _int_column(columns[0])
    home = _int_column(columns[1])
    identities = _int_column(columns[2], np.int32)
    availability = (np.frombuffer(b"".join(map(bytes, columns[3])), dtype=np.uint8).reshape(n, matching.MASK_BYTES)
                    if n else np.zeros((0, matching.MASK_BYTES), dtype=np.uint8))
    cap = _int_column(columns[4])
    interests = _int_column(columns[5], np.int32)
    any_hour = _int_column(columns[6], bool)
    del columns
    timings["read_people"] = time.perf_counter() - t
    position_of = {spec.id: j for j, spec in enumerate(specs)}

    t = time.perf_counter()
    used_skills = sorted({skill_ids[col] for spec in specs for col, _ in (*spec.required_skills, *spec.preferred_skills)})
    extras = _history_arrays(ids, scopes, [item.shift for item in open_positions], position_of,
                             skill_column, now=now, zone=zone, rest_hours=rest_hours, whole=whole,
                             used_skills=used_skills, certified={row.id: bool(row.certified) for row in catalogue})
    timings["read_history"] = time.perf_counter() - t

    month_used = extras.pop("month_used")
    candidates = matching.Candidates(
        ids=ids, grid_ancestors=grids.ancestors[home] if n else np.zeros((0, matching.LEVELS), dtype=np.int64),
        lat=grids.lat[home] if n else None, lon=grids.lon[home] if n else None,
        identities=identities, active=np.ones(n, dtype=bool),
        callups_left=np.clip(cap - month_used, 0, 10_000).astype(np.int16),
        availability=availability, interests=interests, emergency_any_hour=any_hour, **extras)
    problem = matching.Problem(candidates=candidates, positions=specs, rest_hours=rest_hours,
                               party_bit=Identity.PARTY_MEMBER.bit)
    timings["total_build"] = time.perf_counter() - started
    return problem, {"timings": timings, "skill_ids": skill_ids, "skill_codes": [row.code for row in catalogue]}


def _history_arrays(ids: np.ndarray, scopes: list[str], shifts: list[Shift], position_of: dict[int, int],
                    skill_column: dict[int, int], *, now: datetime, zone: ZoneInfo,
                    rest_hours: float, whole: bool = False, used_skills: list[int] | None = None,
                    certified: dict[int, bool] | None = None) -> dict[str, np.ndarray]:
    """Skills, busy intervals, exclusions, team pairings and history counts as arrays over ``ids`` (ascending).

    Only the skills in ``used_skills`` (those the positions require or prefer; None: all) are read: the
    matcher looks at no other skill column, so the others stay 0 (lacks)."""
    n = ids.shape[0]
    if n == 0:
        scopes = ["/-none-/"]
        whole = False

    def rows_of(volunteer_ids) -> tuple[np.ndarray, np.ndarray]:
        """(row of each volunteer id in ``ids``, whether it is there at all), by binary search."""
        v = np.asarray(volunteer_ids, dtype=np.int64).ravel()
        if n == 0:
            return np.zeros(v.size, dtype=np.int64), np.zeros(v.size, dtype=bool)
        at = np.searchsorted(ids, v)
        at[at == n] = 0
        return at, ids[at] == v

    def locate(volunteer_ids) -> list[int]:
        """Row of each volunteer id, -1 for people who are not candidates."""
        at, known = rows_of(list(volunteer_ids))
        return np.where(known, at, -1).tolist()

    levels = np.zeros((n, max(len(skill_column), 1)), dtype=np.int8)
    expiry = np.full(levels.shape, matching.NO_EXPIRY, dtype=np.int32)
    skill_stmt = select(VolunteerSkill.volunteer_id, VolunteerSkill.skill_id, VolunteerSkill.level,
                        VolunteerSkill.certificate_no.is_not(None), VolunteerSkill.certificate_expires_on)
    if used_skills is not None:
        skill_stmt = skill_stmt.where(VolunteerSkill.skill_id.in_(used_skills))
    # District-wide: every row of the used skills, people outside ``ids`` dropped below; else joined to the scope.
    if not whole:
        skill_stmt = _scoped(skill_stmt.join(Volunteer, Volunteer.id == VolunteerSkill.volunteer_id), scopes, False)
    skill_rows = _plain_rows(skill_stmt) if (used_skills is None or used_skills) else []
    if skill_rows:
        vid, sid, level, numbered, expires = (list(map(itemgetter(k), skill_rows)) for k in range(5))
        del skill_rows
        row, known = rows_of(vid)
        sid = np.array(sid, dtype=np.int64)
        column_of = np.zeros(max(skill_column) + 1, dtype=np.int64)
        column_of[list(skill_column)] = list(skill_column.values())
        is_certified = np.zeros(column_of.size, dtype=bool)
        is_certified[[k for k, v in (certified or {}).items() if v and k < column_of.size]] = True
        row, col = row[known], column_of[sid[known]]
        levels[row, col] = np.array(level, dtype=np.int8)[known]
        expiry[row, col] = _valid_through(is_certified[sid], np.array(numbered, dtype=bool), expires)[known]

    # Busy: other live call-ups whose shifts come near these shifts, and blackout days.
    window_start = min(s.start_at for s in shifts) - timedelta(hours=rest_hours) if shifts else now
    window_end = max(s.end_at for s in shifts) + timedelta(hours=rest_hours) if shifts else now
    busy_rows = db.session.execute(
        join_shift(select(CallUp.volunteer_id, Shift.start_at, Shift.end_at))
        .where(CallUp.status.in_(BUSY_STATES), CallUp.volunteer_id.is_not(None),
               Shift.end_at > window_start, Shift.start_at < window_end)).all()
    # The fourth column marks blackout days: no rest around them, and reported apart from call-ups.
    busy = [(r, _epoch(s), _epoch(e), 0) for r, (_, s, e) in zip(locate(v for v, _, _ in busy_rows), busy_rows)
            if r >= 0]
    days = {s.start_at.astimezone(zone).date() for s in shifts} | {s.end_at.astimezone(zone).date() for s in shifts}
    blackouts = db.session.execute(select(BlackoutDate.volunteer_id, BlackoutDate.day)
                                   .where(BlackoutDate.day.in_(sorted(days)))).all()
    busy += [(r, *_local_day_bounds(day, zone), 1)
             for r, (_, day) in zip(locate(v for v, _ in blackouts), blackouts) if r >= 0]

    # Never ask anyone twice for the same position, unless they declined before its shift's
    # time or place changed (campaigns/changes.py): then the changed need is a new question.
    declined_before_change = and_(CallUp.status == CallUpStatus.DECLINED, Shift.changed_at.is_not(None),
                                  func.coalesce(CallUp.responded_at, CallUp.updated_at) < Shift.changed_at)
    asked = db.session.execute(join_shift(select(CallUp.volunteer_id, CallUp.position_id))
                               .where(CallUp.position_id.in_(list(position_of)), CallUp.volunteer_id.is_not(None),
                                      ~declined_before_change)).all()
    excluded = [(r, position_of[p]) for r, (_, p) in zip(locate(v for v, _ in asked), asked) if r >= 0]

    # Team pairings count at community level: a street-office pairing covers its communities.
    pair_rows = db.session.execute(
        select(team_members.c.volunteer_id, Grid.id, Grid.level, Grid.path)
        .join(team_pairings, team_pairings.c.team_id == team_members.c.team_id)
        .join(Grid, Grid.id == team_pairings.c.grid_id)).all()
    paired = []
    if pair_rows:
        communities = db.session.execute(select(Grid.id, Grid.path).where(Grid.level == 2)).all()
        for row, (_, gid, level, path) in zip(locate(v for v, _, _, _ in pair_rows), pair_rows):
            if row < 0:
                continue
            if level == 2:
                paired.append((row, gid))
            elif level == 3:
                paired.append((row, int(path.strip("/").split("/")[2])))
            else:
                paired.extend((row, cid) for cid, cpath in communities if cpath.startswith(path))

    # The duty rota (值班) of the shifts' weeks, by Monday.
    mondays = {day - timedelta(days=day.weekday()) for day in days}
    rota = db.session.execute(select(DutyRota.volunteer_id, DutyRota.week_start)
                              .where(DutyRota.week_start.in_(sorted(mondays)))).all()
    duty = [(r, matching.week_of_day((monday - date(1970, 1, 1)).days))
            for r, (_, monday) in zip(locate(v for v, _ in rota), rota) if r >= 0]

    history = person_history(now=now, timezone_name=zone.key)
    counts = {name: np.zeros(n) for name in ("hours_30d", "hours_90d", "callups_30d", "accepted", "declined",
                                             "expired", "no_shows", "attended", "month_used")}
    if history:
        row, known = rows_of(list(history))
        for name, column in counts.items():
            values = np.fromiter((h.get(name, 0.0) for h in history.values()), dtype=np.float64, count=len(history))
            column[row[known]] = values[known]

    def columns(pairs, width):
        if not pairs:
            return [np.zeros(0, dtype=np.int64) for _ in range(width)]
        array = np.asarray(pairs, dtype=np.int64)
        return [array[:, k] for k in range(width)]

    busy_person, busy_start, busy_end, busy_blackout = columns(busy, 4)
    excluded_person, excluded_position = columns(excluded, 2)
    paired_person, paired_grid = columns(paired, 2)
    duty_person, duty_week = columns(duty, 2)
    return {"duty_person": duty_person, "duty_week": duty_week, "skill_levels": levels, "skill_expiry": expiry,
            "busy_person": busy_person, "busy_start": busy_start, "busy_end": busy_end,
            "busy_blackout": busy_blackout.astype(bool), "excluded_person": excluded_person, "excluded_position": excluded_position,
            "paired_person": paired_person, "paired_grid": paired_grid, **counts}


def _valid_through(certified: np.ndarray, numbered: np.ndarray, expires) -> np.ndarray:
    """``skill_valid_through`` of volunteers/models.py over arrays, in the matcher's encoding of skill_expiry:
    days since 1970-01-01, NO_CERTIFICATE for date.min, NO_EXPIRY for date.max. ``expires``: the driver's
    values (dates, ISO date strings or None)."""
    out = np.empty(certified.size, dtype=np.int32)
    code = {date.min: matching.NO_CERTIFICATE, date.max: matching.NO_EXPIRY}
    # Without an expiry date the rule depends only on (certified skill, number on record): ask it.
    for c in (False, True):
        for has_number in (False, True):
            through = skill_valid_through(c, "n" if has_number else None, None)
            out[(certified == c) & (numbered == has_number)] = code[through]
    dated = np.fromiter((e is not None for e in expires), dtype=bool, count=len(expires))
    if dated.any():
        days = np.array([e for e in expires if e is not None], dtype="datetime64[D]").astype(np.int64)
        sample = date(2000, 1, 1)
        if all(skill_valid_through(c, num, sample) == sample for c in (False, True) for num in (None, "n")):
            out[dated] = days
        else:  # the rule changed: apply it row by row
            base = date(1970, 1, 1)
            for i, d in zip(np.flatnonzero(dated), days.tolist()):
                expires_on = base + timedelta(days=d)
                through = skill_valid_through(bool(certified[i]), "n" if numbered[i] else None, expires_on)
                out[i] = code[through] if through in code else (through - base).days
    return out


def open_positions_of(campaign: Campaign, *, fill_all: bool, over_recruit_percent: int = 0,
                      starting_after: datetime | None = None) -> list[OpenPosition]:
    """Positions with places still to fill: all of them for a draft, else the gaps.

    ``over_recruit_percent`` asks ceil(gap × (1 + pct/100)) people per position (emergencies:
    the accept path never fills beyond the headcount and keeps the extra people on standby);
    ``starting_after`` leaves out shifts that start at or before that time.
    """
    items = []
    pending = places.pending_by_position(campaign_id=campaign.id)
    for shift in campaign.shifts:
        if starting_after is not None and shift.start_at <= starting_after:
            continue
        for position in shift.positions:
            slots = position.headcount if fill_all else \
                places.open_places_of(position, pending.get(position.id, 0))
            if slots > 0:
                # Integer arithmetic: ceil(slots * (100 + pct) / 100) without float rounding surprises.
                needed, slots = slots, -(-slots * (100 + max(int(over_recruit_percent), 0)) // 100)
                items.append(OpenPosition(position=position, shift=shift, slots=slots, needed=needed))
    return items


def plan_recruitment(campaign: Campaign, *, now: datetime, timezone_name: str,
                     fill_all: bool = True, over_recruit_percent: int = 0,
                     starting_after: datetime | None = None,
                     items: list[OpenPosition] | None = None) -> MatchPlan:
    """Run the matcher for a campaign's open places (or the given ``items``) and describe the outcome per position."""
    if items is None:
        items = open_positions_of(campaign, fill_all=fill_all, over_recruit_percent=over_recruit_percent,
                                  starting_after=starting_after)
    started = time.perf_counter()
    problem, info = build_problem(campaign, items, now=now, timezone_name=timezone_name)
    t = time.perf_counter()
    result = matching.solve(problem)
    solve_seconds = time.perf_counter() - t
    MATCH_SECONDS.observe(time.perf_counter() - started)
    MATCH_SIZE.labels("candidates").observe(len(problem.candidates.ids))
    MATCH_SIZE.labels("places").observe(sum(item.slots for item in items))
    column_code = dict(enumerate(info["skill_codes"]))
    by_position = {item.position.id: PositionPlan(position_id=item.position.id, shift_id=item.shift.id,
                                                  role=item.position.role, headcount=item.position.headcount,
                                                  slots=item.slots,
                                                  needed=item.slots if item.needed is None else item.needed)
                   for item in items}
    for assignment in result.assignments:
        by_position[assignment.position_id].proposals.append(Proposal(
            position_id=assignment.position_id, volunteer_id=assignment.volunteer_id, cost=assignment.cost,
            breakdown={k: round(v, 4) for k, v in assignment.breakdown.items()},
            radius_level=assignment.radius_level, party_slot=assignment.party_slot))
    for outcome in result.positions:
        plan = by_position[outcome.position_id]
        plan.standby = [(int(v), round(float(c), 4)) for v, c in outcome.standby]
        plan.reasons = [describe_reason(reason, column_code) for reason in outcome.reasons]
        plan.steps = [{"radius_level": step.radius_level, "filled": step.filled} for step in outcome.steps]
    stats = dict(result.stats)
    stats["timings"] = {**info["timings"], "solve": solve_seconds}
    return MatchPlan(campaign_id=campaign.id, positions=list(by_position.values()),
                     total_cost=round(float(result.total_cost), 4), stats=stats)


def remember_unfilled(plan: MatchPlan, *, now: datetime) -> list[dict[str, Any]]:
    """Keep on each matched position why places stay open (``Position.unfilled_reasons``), or clear it when
    the match found someone for every place; part of the caller's transaction. Returns the open ones."""
    report = []
    for item in plan.positions:
        left = item.places_left_open
        value = {"open": left, "reasons": item.reasons, "at": now.isoformat()} if left else None
        db.session.execute(update(Position).where(Position.id == item.position_id).values(unfilled_reasons=value)
                           .execution_options(synchronize_session=False))
        if left:
            report.append({"position_id": item.position_id, "role": item.role, **value})
    return report


def describe_reason(reason: matching.Reason, column_code: dict[int, str]) -> dict[str, Any]:
    """A matcher reason as stored: its code, and its numbers with skill columns as skill codes (words in the
    reader's language are added where it is shown, by ``campaigns.reasons``)."""
    params = {k: _plain(v) for k, v in reason.params.items()}
    if isinstance(reason.params.get("skill"), (int, np.integer)):
        params["skill"] = column_code.get(int(reason.params["skill"]), params["skill"])
    return {"code": reason.code, "params": params}


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


__all__ = ["plan_recruitment", "remember_unfilled", "build_problem", "open_positions_of", "MatchPlan", "PositionPlan", "Proposal",
           "radius_for"]
