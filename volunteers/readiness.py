"""Whether a person can be called up, and for what: the matcher's hard rules read back from their own record."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_

from volunteers.availability import SLOTS_PER_DAY, SLOT_MINUTES, format_hhmm, mask_slots
from volunteers.models import EmergencyCalls, Volunteer, VolunteerStatus

# Why routine call-ups cannot reach a person (each blocks on its own), in the order a page lists them.
NOT_ACTIVE = "not_active"            # paused or left: the matcher reads active people only
NO_HOURS = "no_hours"                # no weekly hours: a routine shift is never inside them
NO_CALLUPS_LEFT = "no_callups"       # a monthly cap of 0


@dataclass(frozen=True)
class SkillHeld:
    code: str
    name: str
    name_en: str | None
    level: int
    certified: bool
    expired: bool


@dataclass(frozen=True)
class Readiness:
    """What the matcher will see: reasons that stop routine call-ups, and what the person offers."""

    blockers: list[str] = field(default_factory=list)
    skills: list[SkillHeld] = field(default_factory=list)
    # (weekday Monday = 0, "HH:MM", "HH:MM"), adjacent windows merged
    hours: list[tuple[int, str, str]] = field(default_factory=list)
    emergency_any_hour: bool = True
    max_callups_per_month: int = 0

    @property
    def callable(self) -> bool:
        """Routine and urgent call-ups can reach the person."""
        return not self.blockers

    @property
    def emergency_callable(self) -> bool:
        """Emergencies can reach the person: weekly hours only rank them unless they asked otherwise."""
        blockers = set(self.blockers) - ({NO_HOURS} if self.emergency_any_hour else set())
        return not blockers


NO_WEEKLY_HOURS = bytes(42)


def callable_clause():
    """SQL for ``Readiness.callable`` (no blocker): active, some weekly hours, a monthly cap above 0."""
    return and_(Volunteer.status == VolunteerStatus.ACTIVE, Volunteer.max_callups_per_month > 0,
                Volunteer.availability_mask != NO_WEEKLY_HOURS)


def weekly_hours(mask: bytes) -> list[tuple[int, str, str]]:
    """The weekly mask as merged windows per weekday, e.g. (5, "08:00", "13:00")."""
    windows: list[tuple[int, int, int]] = []
    for slot in mask_slots(mask):
        day, start = divmod(slot, SLOTS_PER_DAY)
        if windows and windows[-1][0] == day and windows[-1][2] == start:
            windows[-1] = (day, windows[-1][1], start + 1)
        else:
            windows.append((day, start, start + 1))
    return [(day, format_hhmm(start * SLOT_MINUTES), format_hhmm(end * SLOT_MINUTES)) for day, start, end in windows]


def readiness_of(volunteer: Volunteer, *, today: date) -> Readiness:
    """What can call ``volunteer`` up on ``today``'s record: the same rules the matcher applies as hard constraints."""
    blockers = []
    if volunteer.status is not VolunteerStatus.ACTIVE:
        blockers.append(NOT_ACTIVE)
    hours = weekly_hours(volunteer.availability_mask or NO_WEEKLY_HOURS)
    if not hours:
        blockers.append(NO_HOURS)
    if not volunteer.max_callups_per_month:
        blockers.append(NO_CALLUPS_LEFT)
    skills = [SkillHeld(code=row.skill.code, name=row.skill.name, name_en=row.skill.name_en, level=row.level,
                        certified=row.skill.certified,
                        expired=row.certificate_expires_on is not None and row.certificate_expires_on < today)
              for row in volunteer.skills]
    return Readiness(blockers=blockers, skills=skills, hours=hours,
                     emergency_any_hour=volunteer.emergency_calls == EmergencyCalls.ANY_HOUR.value,
                     max_callups_per_month=volunteer.max_callups_per_month or 0)
