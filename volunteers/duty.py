"""The duty rota (值班): people of the identities the district designates, on duty for whole weeks.

Emergencies call people on duty that week first (the matcher's ``duty`` term); outside emergencies
the rota changes nothing.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, select

from core.errors import ValidationFailed
from extensions import db
from volunteers.models import DutyRota, Identity
from volunteers.services import get_volunteer

MAX_WEEKS = 60


def duty_weeks(volunteer_id: int) -> list[date]:
    """The Mondays of the weeks the person is on duty, oldest first."""
    get_volunteer(volunteer_id)
    return list(db.session.scalars(select(DutyRota.week_start).where(DutyRota.volunteer_id == volunteer_id)
                                   .order_by(DutyRota.week_start)))


def set_duty_weeks(volunteer_id: int, weeks: list[date], *, designated: frozenset[str], actor: str,
                   now: datetime) -> list[date]:
    """Replace the person's rota with ``weeks`` (each a Monday); only designated identities may be on it."""
    volunteer = get_volunteer(volunteer_id)
    wanted = sorted(set(weeks))
    errors = [f"{day.isoformat()} is not a Monday." for day in wanted if day.weekday() != 0]
    if len(wanted) > MAX_WEEKS:
        errors.append(f"At most {MAX_WEEKS} weeks.")
    if wanted and not {identity.value for identity in volunteer.identities} & designated:
        names = ", ".join(sorted(designated)) or "none"
        errors.append(f"Only people with one of these identities can be on the duty rota: {names}.")
    if errors:
        raise ValidationFailed({"weeks": errors})
    db.session.execute(delete(DutyRota).where(DutyRota.volunteer_id == volunteer.id))
    db.session.add_all(DutyRota(volunteer_id=volunteer.id, week_start=week, created_by=actor[:100], created_at=now)
                       for week in wanted)
    db.session.commit()
    return wanted


__all__ = ["duty_weeks", "set_duty_weeks", "Identity"]
