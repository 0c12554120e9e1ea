"""Recurring campaigns: a campaign with a cron expression is a template; each occurrence becomes its own campaign.

An occurrence copies the template's shifts (moved so the first shift starts at the cron
fire time), positions and skills, and is published through ``publish_campaign``, all in
one transaction. ``UNIQUE(template_id, occurrence_at)`` makes it exist at most once,
however many schedulers run at the same time.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from campaigns.models import Campaign, CampaignStatus, Position, PositionSkill, Shift
from campaigns.services import publish_campaign
from core.clock import ensure_utc
from core.i18n import LOCALES, language
from extensions import db

log = logging.getLogger(__name__)

# A template recurs once it is published, while it is open; its own staffing status does not stop it.
# A draft never recurs: nobody has reviewed it, and its occurrences would go out with call-ups.
TEMPLATE_STATES = (CampaignStatus.PUBLISHED, CampaignStatus.STAFFED, CampaignStatus.PARTLY_STAFFED,
                   CampaignStatus.RUNNING)
# Weekly and monthly are the real use; a rule firing twice within this floods people with call-ups.
# 23 hours, not 24: a daily rule read in a zone with summer time is 23 hours apart once a year.
MIN_GAP = timedelta(hours=23)
# The window a rule is judged over when it is stored: four years and a day hold a 29 February, every
# weekday of every date and every month's last days, so a rule firing twice in a day shows it.
CHECK_FROM = datetime(2024, 1, 1, tzinfo=timezone.utc)
CHECK_DAYS = 4 * 365 + 2
# A last guard (rules stored before the gap check): at most this many new occurrences per template per run.
MAX_NEW_PER_RUN = 100


def _fire_times(expression: str, *, timezone_name: str, after: datetime, until: datetime) -> Iterator[datetime]:
    from apscheduler.triggers.cron import CronTrigger

    trigger = CronTrigger.from_crontab(expression, timezone=ZoneInfo(timezone_name))
    fire = trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
    while fire is not None and fire <= until:
        yield ensure_utc(fire)
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))


def occurrence_times(expression: str, *, timezone_name: str, after: datetime, until: datetime) -> list[datetime]:
    """Fire times (UTC) of a five-field cron read in the office time zone, within (after, until]."""
    return list(_fire_times(expression, timezone_name=timezone_name, after=after, until=until))


def shortest_gap(expression: str, *, timezone_name: str = "UTC", after: datetime = CHECK_FROM,
                 until: datetime = CHECK_FROM + timedelta(days=CHECK_DAYS)) -> timedelta | None:
    """The shortest time between consecutive fire times within (after, until] (None: fewer than two).

    Stops at the first gap shorter than MIN_GAP, so "* * * * *" is judged after two fire times.
    """
    shortest = previous = None
    for fire in _fire_times(expression, timezone_name=timezone_name, after=after, until=until):
        if previous is not None and (shortest is None or fire - previous < shortest):
            shortest = fire - previous
            if shortest < MIN_GAP:
                break
        previous = fire
    return shortest


def too_frequent(expression: str, **window) -> bool:
    """Whether the rule fires more often than once a day (MIN_GAP) somewhere in the window."""
    gap = shortest_gap(expression, **window)
    return gap is not None and gap < MIN_GAP


def _template_ids() -> list[int]:
    return list(db.session.scalars(
        select(Campaign.id).where(Campaign.recurrence_cron.is_not(None), Campaign.template_id.is_(None),
                                  Campaign.status.in_(TEMPLATE_STATES)).order_by(Campaign.id)).all())


def _lock_template(template_id: int) -> Campaign | None:
    """The template, still recurring, locked for this transaction (PostgreSQL; SQLite holds the write lock)."""
    template = db.session.scalars(
        select(Campaign).where(Campaign.id == template_id, Campaign.recurrence_cron.is_not(None),
                               Campaign.status.in_(TEMPLATE_STATES))
        .with_for_update(of=Campaign).execution_options(populate_existing=True)).unique().first()
    return template


def _existing_occurrence(template_id: int, at: datetime) -> int | None:
    return db.session.scalar(select(Campaign.id).where(Campaign.template_id == template_id,
                                                       Campaign.occurrence_at == at))


def _occurrence_title(title: str, local: datetime) -> str:
    """The template's title and the day ("… 12月5日"), in the language spoken (the office's, for the scheduler)."""
    suffix = f" {format_skeleton('MMMd', local.date(), locale=LOCALES[language()])}"
    return title[:200 - len(suffix)] + suffix


def _copy_shifts(template: Campaign, offset: timedelta) -> list[Shift]:
    return [Shift(start_at=ensure_utc(shift.start_at) + offset, end_at=ensure_utc(shift.end_at) + offset,
                  grid_id=shift.grid_id, place=shift.place,
                  positions=[Position(role=p.role, headcount=p.headcount, min_party_members=p.min_party_members,
                                      required_identities=p.required_identities, accepted_count=0,
                                      skills=[PositionSkill(skill_id=s.skill_id, min_level=s.min_level,
                                                            preferred=s.preferred) for s in p.skills])
                             for p in shift.positions])
            for shift in template.shifts]


def _materialise_one(template_id: int, at: datetime, *, now: datetime, timezone_name: str,
                     actor: str) -> Campaign | None:
    """One occurrence, one transaction: the copy as a draft, then published. ``None`` when it exists already."""
    template = _lock_template(template_id)
    if template is None or not template.shifts:
        db.session.rollback()
        return None
    if _existing_occurrence(template_id, at) is not None:
        db.session.rollback()
        return None
    first_start = ensure_utc(template.shifts[0].start_at)
    local = at.astimezone(ZoneInfo(timezone_name))
    policy = {key: value for key, value in (template.policy or {}).items() if key != "send_at"}
    occurrence = Campaign(title=_occurrence_title(template.title, local), description=template.description,
                          kind=template.kind, priority=template.priority, status=CampaignStatus.DRAFT,
                          office_grid_id=template.office_grid_id, contact_name=template.contact_name,
                          contact_phone=template.contact_phone, policy=policy, recurrence_cron=None,
                          template_id=template.id, occurrence_at=at, created_by=actor,
                          coordinator_user_id=template.coordinator_user_id, created_at=now, updated_at=now)
    occurrence.shifts = _copy_shifts(template, at - first_start)
    db.session.add(occurrence)
    try:
        db.session.flush()
    except IntegrityError:
        # Another scheduler materialised this occurrence first.
        db.session.rollback()
        return None
    # publish_campaign commits the draft and its call-ups together.
    return publish_campaign(occurrence.id, actor=actor, now=now, timezone_name=timezone_name)


def materialise_recurring_campaigns(*, now: datetime, timezone_name: str, days_ahead: int = 7,
                                    actor: str = "scheduler") -> list[Campaign]:
    """Create and publish every occurrence of every open template due within (now, now + days_ahead].

    The template's policy ``materialise_days_ahead`` overrides ``days_ahead``. Idempotent:
    occurrences that exist are skipped, and a racing duplicate is rolled back by the unique key.
    """
    created: list[Campaign] = []
    ids = _template_ids()
    db.session.rollback()
    for template_id in ids:
        template = db.session.get(Campaign, template_id)
        if template is None or not template.shifts:
            db.session.rollback()
            continue
        days = int((template.policy or {}).get("materialise_days_ahead") or days_ahead)
        first_start = ensure_utc(template.shifts[0].start_at)
        if too_frequent(template.recurrence_cron, timezone_name=timezone_name, after=now,
                        until=now + timedelta(days=days)):
            # Stored before rules were checked (services._check_cron refuses it now): it makes nothing.
            log.warning("template %s recurs more often than daily (%s); skipped", template_id,
                        template.recurrence_cron)
            db.session.rollback()
            continue
        times = occurrence_times(template.recurrence_cron, timezone_name=timezone_name, after=now,
                                 until=now + timedelta(days=days))
        existing = set()
        if times:
            existing = {ensure_utc(at) for at in db.session.scalars(
                select(Campaign.occurrence_at).where(Campaign.template_id == template_id,
                                                     Campaign.occurrence_at.in_(times))).all()}
        db.session.rollback()
        # A published template is itself the campaign of its own first date.
        due = [at for at in times if at not in existing and at != first_start][:MAX_NEW_PER_RUN]
        for at in due:
            try:
                occurrence = _materialise_one(template_id, at, now=now, timezone_name=timezone_name, actor=actor)
            except Exception:  # one broken occurrence must not block the others; retried next run
                db.session.rollback()
                log.exception("materialising template %s at %s failed", template_id, at.isoformat())
                continue
            if occurrence is not None:
                created.append(occurrence)
    return created


__all__ = ["materialise_recurring_campaigns", "occurrence_times", "shortest_gap", "too_frequent"]
