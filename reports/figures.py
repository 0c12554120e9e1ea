"""The report figures: each one a few grouped queries (GROUP BY in the database), for an area and a period.

Every report answers ``{"total": {...}, "rows": [...]}`` (rows: one per child node of the area, plus one
for work placed at the area node itself when there is any) or named breakdowns. Places and work are
counted where the shift takes place; people where they live (their home grid).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import String, and_, case, func, literal, null, select, type_coerce, union_all

from campaigns.models import TAKEN_CALLUP_STATES, CallUp, CallUpStatus, Position, PositionSkill, Priority
from core.i18n import _l
from core.kinds import KIND_LABELS, CampaignKind
from extensions import db
from grids.models import Grid
from reports.areas import area_map, children, shift_rows
from reports.hours import attended_hours, attended_hours_select, summed_minutes
from reports.period import Period
from reports.sql import median_and_total_postgres, median_by, seconds_between
from volunteers.models import (IDENTITY_NAMES, Enterprise, Identity, Skill, Team, Volunteer, VolunteerSkill,
                               VolunteerStatus)

S = CallUpStatus
ANSWERED = (S.ACCEPTED, S.DECLINED, S.ATTENDED, S.NO_SHOW)
ARRIVAL_STANDARD_SECONDS = 3600  # the seeds' standard: everyone at their post within one hour of the call
AT_NODE = _l("At this level")
NO_SKILL = _l("No skill required")


def _count_if(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _grouped(build: Callable[[Any], Any], group_key) -> tuple[dict, dict]:
    """Run ``build(group)`` once for the total (no group) and once by child node: (total, {child_id: row})."""
    total = _plain(db.session.execute(build(None)).mappings().one())
    by_child = {row["child_id"]: _plain(row) for row in db.session.execute(build(group_key)).mappings()}
    return total, by_child


def _summed(build: Callable[[Any], Any], group_key) -> tuple[dict, dict]:
    """Like ``_grouped`` for figures that add up (each person or place lies under one child): one query by
    child, the total being the sum of its few group rows."""
    by_child = {row["child_id"]: _plain(row) for row in db.session.execute(build(group_key)).mappings()}
    keys = [name for name in build(group_key).selected_columns.keys() if name != "child_id"]
    return {name: sum(row[name] for row in by_child.values()) for name in keys}, by_child


def _plain(row) -> dict:
    """PostgreSQL sums integers into numerics: counts back to int, the rest to float."""
    return {key: (int(value) if value == int(value) and key != "hours" else float(value))
            if isinstance(value, Decimal) else value for key, value in row.items()}


def _group_cols(group):
    return [] if group is None else [group.label("child_id")]


def _rows(area: Grid, by_child: dict, blank: dict) -> list[dict]:
    """One row per child node (zeros where nothing happened), then the area node's own, if any."""
    rows = []
    for child in children(area):
        row = {**blank, **by_child.get(child.id, {})}
        rows.append({**row, "grid_id": child.id, "name": child.name, "level": child.level})
    if None in by_child:
        rows.append({**blank, **by_child[None], "grid_id": None, "name": str(AT_NODE),
                     "level": area.level})
    for row in rows:
        row.pop("child_id", None)
    return rows


def _merge(*parts: tuple[dict, dict]) -> tuple[dict, dict]:
    total, by_child = {}, {}
    for part_total, part_rows in parts:
        total.update(part_total)
        for key, row in part_rows.items():
            by_child.setdefault(key, {}).update(row)
    return total, by_child


def _tenths(minutes) -> float:
    """Whole minutes as hours to one decimal, a half rounded up (135 minutes are 2.3 h), counted exactly."""
    return float((Decimal(int(minutes or 0)) / 60).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _minutes(seconds) -> float | None:
    return None if seconds is None else round(float(seconds) / 60, 1)


def campaign_report(area: Grid, period: Period) -> dict:
    """Campaigns with shifts in the period: places needed, called, accepted, attended, hours, time to fill
    (publish → the last place taken, median over filled positions) and response time (sent → answer, median)."""
    shifts = shift_rows(area, period)

    def places(group):
        return (select(*_group_cols(group), func.count(func.distinct(shifts.c.campaign_id)).label("campaigns"),
                       func.coalesce(func.sum(Position.headcount), 0).label("places"),
                       _count_if(Position.accepted_count >= Position.headcount).label("positions_filled"),
                       func.count(Position.id).label("positions"))
                .select_from(shifts).join(Position, Position.shift_id == shifts.c.shift_id)
                .group_by(*([group] if group is not None else [])))

    def callups(group):
        return (select(*_group_cols(group), _count_if(CallUp.sent_at.is_not(None)).label("called"),
                       _count_if(CallUp.status.in_(TAKEN_CALLUP_STATES)).label("accepted"),
                       _count_if(CallUp.status == S.ATTENDED).label("attended"))
                .select_from(shifts).join(Position, Position.shift_id == shifts.c.shift_id)
                .join(CallUp, CallUp.position_id == Position.id).where(CallUp.is_person)
                .group_by(*([group] if group is not None else [])))

    fills = (select(shifts.c.child_id, seconds_between(func.max(CallUp.responded_at), shifts.c.published_at)
                    .label("seconds"))
             .select_from(shifts).join(Position, Position.shift_id == shifts.c.shift_id)
             .join(CallUp, CallUp.position_id == Position.id)
             .where(CallUp.status.in_(TAKEN_CALLUP_STATES), Position.accepted_count >= Position.headcount)
             .group_by(Position.id, shifts.c.child_id, shifts.c.published_at).subquery())
    answers = (select(shifts.c.child_id, seconds_between(CallUp.responded_at, CallUp.sent_at).label("seconds"))
               .select_from(shifts).join(Position, Position.shift_id == shifts.c.shift_id)
               .join(CallUp, CallUp.position_id == Position.id)
               .where(CallUp.is_person, CallUp.status.in_(ANSWERED), CallUp.sent_at.is_not(None),
                      CallUp.responded_at.is_not(None)).subquery())
    # Each shift lies under one child, so the figures add up; only the campaigns (one may have shifts under
    # two children) are counted again for the total.
    total, by_child = _merge(_summed(places, shifts.c.child_id), _summed(callups, shifts.c.child_id),
                             _minutes_by_child(area, period))
    total["campaigns"] = db.session.scalar(select(func.count(func.distinct(shifts.c.campaign_id))))
    for name, sub in (("time_to_fill_minutes", fills), ("response_minutes", answers)):
        total[name], medians = _medians(sub)
        for child_id, value in medians.items():
            by_child.setdefault(child_id, {})[name] = value
    blank = {"campaigns": 0, "places": 0, "positions": 0, "positions_filled": 0, "called": 0, "accepted": 0,
             "attended": 0, "hours": 0.0, "minutes": 0, "time_to_fill_minutes": None, "response_minutes": None}
    total = _finish_campaigns({**blank, **total})
    rows = [_finish_campaigns(row) for row in _rows(area, by_child, blank)]
    return {"total": total, "rows": rows}


# The cockpit's reports, while ``sharing``: hours by child node, which the hours report finds anyway and the
# campaign report needs too; keyed by area and period.
_shared: ContextVar[dict | None] = ContextVar("report_figures_shared", default=None)


@contextmanager
def sharing() -> Iterator[None]:
    """Reports built within share figures they both need (the cockpit builds every report for one area)."""
    token = _shared.set({})
    try:
        yield
    finally:
        _shared.reset(token)


def _keep_shared(key: tuple, value) -> None:
    shared = _shared.get()
    if shared is not None:
        shared[key] = value


def _minutes_by_child(area: Grid, period: Period) -> tuple[dict, dict]:
    """Minutes served, in all and by child node: (``{"minutes": n}``, ``{child_id: {"minutes": n}}``)."""
    shared = _shared.get() or {}
    key = ("minutes by child", area.id, period)
    if key not in shared:
        hours = attended_hours(area, period)
        rows = db.session.execute(select(hours.c.child_id, summed_minutes(hours.c.minutes))
                                  .group_by(hours.c.child_id)).all()
        by_child = {child_id: int(minutes) for child_id, minutes in rows}
        _keep_shared(key, by_child)
    else:
        by_child = shared[key]
    return ({"minutes": sum(by_child.values())},
            {child_id: {"minutes": minutes} for child_id, minutes in by_child.items()})


def _medians(values) -> tuple[float | None, dict]:
    """The median of ``values.seconds`` in minutes, over all and by ``child_id``."""
    if db.engine.dialect.name == "postgresql":
        rows = db.session.execute(median_and_total_postgres(values, "seconds", "child_id")).all()
        total = next((value for _, is_total, value in rows if is_total), None)
        return _minutes(total), {child_id: _minutes(value) for child_id, is_total, value in rows if not is_total}
    total = db.session.scalar(median_by(values, "seconds"))
    return _minutes(total), {child_id: _minutes(value)
                             for child_id, value in db.session.execute(median_by(values, "seconds", "child_id"))}


def _finish_campaigns(row: dict) -> dict:
    row["hours"] = _tenths(row.pop("minutes"))
    row["fill_rate"] = round(row["accepted"] / row["places"], 3) if row["places"] else None
    return row


def emergency_report(area: Grid, period: Period) -> dict:
    """Emergencies against the one-hour standard: the share of emergency places where someone checked in
    (arrived) within 60 minutes of the campaign's publishing; more arrivals than places count once each place."""
    shifts = shift_rows(area, period, priority=Priority.EMERGENCY)
    in_time = and_(CallUp.status == S.ATTENDED, CallUp.volunteer_id.is_not(None),
                   seconds_between(CallUp.attended_at, shifts.c.published_at) <= ARRIVAL_STANDARD_SECONDS)
    per_position = (select(shifts.c.child_id, shifts.c.campaign_id, Position.headcount,
                           _count_if(in_time).label("arrived"))
                    .select_from(shifts).join(Position, Position.shift_id == shifts.c.shift_id)
                    .outerjoin(CallUp, CallUp.position_id == Position.id)
                    .group_by(Position.id, Position.headcount, shifts.c.child_id, shifts.c.campaign_id).subquery())

    def build(group):
        arrived = case((per_position.c.arrived > per_position.c.headcount, per_position.c.headcount),
                       else_=per_position.c.arrived)
        return (select(*_group_cols(group), func.count(func.distinct(per_position.c.campaign_id)).label("emergencies"),
                       func.coalesce(func.sum(per_position.c.headcount), 0).label("places"),
                       func.coalesce(func.sum(arrived), 0).label("places_in_hour"))
                .group_by(*([group] if group is not None else [])))

    total, by_child = _grouped(build, per_position.c.child_id)
    blank = {"emergencies": 0, "places": 0, "places_in_hour": 0}
    return {"total": _share({**blank, **total}), "rows": [_share(row) for row in _rows(area, by_child, blank)]}


def _share(row: dict) -> dict:
    row["share_in_hour"] = round(row["places_in_hour"] / row["places"], 3) if row["places"] else None
    return row


def _people(area: Grid):
    """Active people whose home grid lies in the area, with their drill-down group."""
    mapping = area_map(area)
    return (select(Volunteer.id.label("volunteer_id"), Volunteer.identity_flags, mapping.c.child_id)
            .join(mapping, mapping.c.grid_id == Volunteer.home_grid_id)
            .where(Volunteer.status == VolunteerStatus.ACTIVE).subquery("report_people"))


def people_report(area: Grid) -> dict:
    """Active people by skill, identity and grid (where they live); the period does not apply."""
    people = _people(area)

    # The identities are counted in the same pass as the people by child node, and added up like them.
    def build(group):
        return (select(*_group_cols(group), func.count().label("people"),
                       _count_if(people.c.identity_flags.op("&")(Identity.PARTY_MEMBER.bit) != 0)
                       .label("party_members"),
                       *(_count_if(people.c.identity_flags.op("&")(identity.bit) != 0)
                         .label(f"identity_{identity.value}") for identity in Identity))
                .group_by(*([group] if group is not None else [])))

    total, by_child = _summed(build, people.c.child_id)
    identities = {identity.value: total.pop(f"identity_{identity.value}") for identity in Identity}
    for row in by_child.values():
        for identity in Identity:
            row.pop(f"identity_{identity.value}")
    skills = db.session.execute(
        select(Skill.code, Skill.name, Skill.name_en, func.count().label("people"))
        .select_from(people).join(VolunteerSkill, VolunteerSkill.volunteer_id == people.c.volunteer_id)
        .join(Skill, Skill.id == VolunteerSkill.skill_id)
        .group_by(Skill.id, Skill.code, Skill.name, Skill.name_en).order_by(func.count().desc(), Skill.code)).all()
    blank = {"people": 0, "party_members": 0}
    return {"total": {**blank, **total}, "rows": _rows(area, by_child, blank),
            "by_skill": [{"code": row.code, "name": row.name, "name_en": row.name_en, "people": row.people}
                         for row in skills],
            "by_identity": [{"code": identity.value, "name": str(IDENTITY_NAMES[identity]),
                             "name_en": identity.value.replace("_", " "), "people": int(identities[identity.value])}
                            for identity in Identity]}


def activity_report(area: Grid, period: Period) -> dict:
    """Active people who answered or attended a call-up in the period, against the dormant ones who did
    neither in the 180 days up to the period's end (people who did something in between are neither)."""
    people = _people(area)
    since = min(period.start_at, period.dormant_since)

    # Each person's last answer or check-in before the period's end (since ``since``): active when it falls in
    # the period, recent when in the last 180 days. Two range scans of narrow indexes (answer times, check-in
    # times, each with the person) instead of reading every call-up of the half year.
    def times(column):
        return (select(CallUp.volunteer_id, column.label("at"))
                .where(CallUp.volunteer_id.is_not(None), column >= since, column < period.end_at,
                       *([] if area.level == 0 else [CallUp.volunteer_id.in_(select(people.c.volunteer_id))])))

    acted = union_all(times(CallUp.responded_at), times(CallUp.attended_at)).subquery("acted")
    acts = (select(acted.c.volunteer_id, func.max(acted.c.at).label("last_at"))
            .group_by(acted.c.volunteer_id).subquery("acts"))

    # One pass over the area's people, their last act joined on: dormant = people - recent.
    def counted(group):
        return (select(*_group_cols(group), func.count().label("people"),
                       _count_if(acts.c.last_at >= period.start_at).label("active"),
                       _count_if(acts.c.last_at >= period.dormant_since).label("recent"))
                .select_from(people).outerjoin(acts, acts.c.volunteer_id == people.c.volunteer_id)
                .group_by(*([group] if group is not None else [])))

    total, by_child = _summed(counted, people.c.child_id)
    blank = {"people": 0, "active": 0, "recent": 0}
    rows = _rows(area, by_child, blank)
    for row in [total, *rows]:
        row["dormant"] = row["people"] - row.pop("recent", 0)
    return {"total": total, "rows": rows}


def hours_report(area: Grid, period: Period) -> dict:
    """Hours served (``reports.hours``) by grid, by the positions' required skills (a position needing two
    skills counts for both), by kind of campaign and by calendar month of the shift.

    One statement: the person-shifts are found once (a common table expression) and grouped five ways, the
    groupings stacked by UNION ALL, each row saying which one it belongs to."""
    hours = attended_hours_select(area, period).cte("attended_hours")
    total_minutes = summed_minutes(hours.c.minutes)
    nothing = {"child_id": hours.c.child_id.type, "kind": hours.c.kind.type, "month": String(), "code": Skill.code.type,
               "name": Skill.name.type, "name_en": Skill.name_en.type}

    def facet(name: str, keys: dict, sums, *, source=None, group=None):
        columns = [literal(name, String()).label("facet")]
        columns += [keys[key].label(key) if key in keys else type_coerce(null(), type_).label(key)
                    for key, type_ in nothing.items()]
        stmt = select(*columns, *sums)
        if source is not None:
            stmt = stmt.select_from(source)
        return stmt.group_by(*(group if group is not None else keys.values()))

    people = [total_minutes.label("minutes"), func.count().label("shifts_served"),
              func.count(func.distinct(hours.c.volunteer_id)).label("people")]
    just_minutes = [total_minutes.label("minutes"), literal(0).label("shifts_served"), literal(0).label("people")]
    months = period.months()
    month = case(*((and_(hours.c.start_at >= start, hours.c.start_at < end), literal(label))
                   for label, start, end in months), else_=literal(None))
    # Grouped through a subquery: PostgreSQL would not match the CASE's bound bounds in GROUP BY to the SELECT's.
    monthly = select(month.label("month"), hours.c.minutes).subquery()
    skill_source = (hours.outerjoin(PositionSkill, and_(PositionSkill.position_id == hours.c.position_id,
                                                        PositionSkill.preferred.is_(False)))
                    .outerjoin(Skill, Skill.id == PositionSkill.skill_id))
    stmt = union_all(
        facet("total", {}, people, source=hours, group=[]),
        facet("grid", {"child_id": hours.c.child_id}, people),
        facet("kind", {"kind": hours.c.kind}, just_minutes),
        facet("month", {"month": monthly.c.month},
              [summed_minutes(monthly.c.minutes).label("minutes"), literal(0).label("shifts_served"),
               literal(0).label("people")]),
        facet("skill", {"code": Skill.code, "name": Skill.name, "name_en": Skill.name_en}, just_minutes,
              source=skill_source))
    facets: dict[str, list] = {}
    for row in db.session.execute(stmt).mappings():
        facets.setdefault(row["facet"], []).append(row)

    def counts(row) -> dict:
        return _plain({"hours": row["minutes"], "shifts_served": row["shifts_served"], "people": row["people"]})

    total = counts(facets["total"][0])
    by_child = {row["child_id"]: counts(row) for row in facets.get("grid", [])}
    _keep_shared(("minutes by child", area.id, period), {child_id: row["hours"] for child_id, row in by_child.items()})
    kinds = {row["kind"]: row["minutes"] for row in facets.get("kind", [])}
    by_month = {row["month"]: row["minutes"] for row in facets.get("month", [])}
    skills = sorted(facets.get("skill", []), key=lambda row: -row["minutes"])
    blank = {"hours": 0.0, "shifts_served": 0, "people": 0}
    rows = _rows(area, by_child, blank)
    for row in [total, *rows]:
        row["hours"] = _tenths(row["hours"])
    return {
        "total": {**blank, **total}, "rows": rows,
        "by_skill": [{"code": row["code"] or "", "name": row["name"] or str(NO_SKILL),
                      "name_en": row["name_en"] or "No skill required", "hours": _tenths(row["minutes"])}
                     for row in skills],
        "by_kind": [{"code": kind.value, "name": KIND_LABELS[kind], "hours": _tenths(kinds.get(kind))}
                    for kind in CampaignKind if kinds.get(kind)],
        "by_month": [{"month": label, "hours": _tenths(by_month.get(label))} for label, *_ in months],
    }


def enterprise_report(area: Grid, period: Period) -> dict:
    """Partner enterprises' teams: members who served through a team answer, shifts and hours, per enterprise."""
    hours = attended_hours(area, period, teams_only=True)
    rows = db.session.execute(
        select(Enterprise.id, Enterprise.name, func.count(func.distinct(Team.id)).label("teams"),
               func.count(func.distinct(hours.c.volunteer_id)).label("people"), func.count().label("shifts_served"),
               summed_minutes(hours.c.minutes).label("minutes"))
        .select_from(hours).join(Team, Team.id == hours.c.team_id).join(Enterprise, Enterprise.id == Team.enterprise_id)
        .group_by(Enterprise.id, Enterprise.name).order_by(func.sum(hours.c.minutes).desc(), Enterprise.id)).all()
    items = [{"enterprise_id": row.id, "name": row.name, "teams": row.teams, "people": row.people,
              "shifts_served": row.shifts_served, "hours": _tenths(row.minutes)} for row in rows]
    return {"total": {"enterprises": len(items), "people": sum(i["people"] for i in items),
                      "shifts_served": sum(i["shifts_served"] for i in items),
                      "hours": round(sum(i["hours"] for i in items), 1)},
            "rows": items}
