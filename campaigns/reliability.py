"""A person's record for the matcher and the district's show-up prior.

``person_history``: per person, how they answered (accepted, declined, expired), whether they came (attended,
no-shows) from the call-up history, and the hours they served lately from the hours ledger (campaigns/hours.py),
which the matcher's reliability and fairness terms read (campaigns/recruitment.py passes them on as arrays).

The show-up prior: a Beta distribution fitted to attendance history, for expected attendance. A person's chance
of showing up is (attended + alpha) / (attended + no-shows + alpha + beta): a newcomer counts as the district's
ordinary rate, alpha / (alpha + beta), and their own record moves them from it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select

from campaigns.models import CallUp, CallUpStatus, HoursEntry
from extensions import db

# Call-ups that keep a person busy for their shift (and count against the monthly cap).
BUSY_STATES = (CallUpStatus.SCHEDULED, CallUpStatus.SENT, CallUpStatus.ACCEPTED, CallUpStatus.ATTENDED)
COUNTED_STATES = BUSY_STATES + (CallUpStatus.DECLINED, CallUpStatus.EXPIRED, CallUpStatus.NO_SHOW)
HISTORY = ("hours_30d", "hours_90d", "callups_30d", "accepted", "declined", "expired", "no_shows", "attended",
           "month_used")


def person_history(*, now: datetime, timezone_name: str) -> dict[int, dict[str, float]]:
    """Per person: hours served over 30 and 90 days (the ledger, by the shift's local day), call-ups over 30 days
    and this month, and every answer and attendance mark ever. Two grouped queries for the whole district."""
    zone = ZoneInfo(timezone_name)
    local = now.astimezone(zone)
    month_start = datetime(local.year, local.month, 1, tzinfo=zone).astimezone(timezone.utc)
    day30, day90 = now - timedelta(days=30), now - timedelta(days=90)

    def total(condition, value=1):
        return func.coalesce(func.sum(case((condition, value), else_=0)), 0)

    counted = CallUp.status.in_(COUNTED_STATES)
    stmt = (select(CallUp.volunteer_id,
                   total(and_(counted, CallUp.created_at >= day30)).label("callups_30d"),
                   total(CallUp.status.in_((CallUpStatus.ACCEPTED, CallUpStatus.ATTENDED,
                                            CallUpStatus.NO_SHOW))).label("accepted"),
                   total(CallUp.status == CallUpStatus.DECLINED).label("declined"),
                   total(CallUp.status == CallUpStatus.EXPIRED).label("expired"),
                   total(CallUp.status == CallUpStatus.NO_SHOW).label("no_shows"),
                   total(CallUp.status == CallUpStatus.ATTENDED).label("attended"),
                   total(and_(counted, CallUp.created_at >= month_start)).label("month_used"))
            .where(CallUp.volunteer_id.is_not(None)).group_by(CallUp.volunteer_id))
    history: dict[int, dict[str, float]] = {}
    for row in db.session.execute(stmt):
        history[row.volunteer_id] = {k: float(v) for k, v in row._asdict().items() if k != "volunteer_id"}
    first30, first90 = day30.astimezone(zone).date(), day90.astimezone(zone).date()
    hours = db.session.execute(
        select(HoursEntry.volunteer_id,
               total(HoursEntry.served_on >= first30, HoursEntry.minutes).label("m30"),
               func.coalesce(func.sum(HoursEntry.minutes), 0).label("m90"))
        .where(HoursEntry.served_on >= first90).group_by(HoursEntry.volunteer_id))
    for vid, m30, m90 in hours:
        counts = history.setdefault(vid, {name: 0.0 for name in HISTORY})
        counts["hours_30d"], counts["hours_90d"] = max(float(m30), 0.0) / 60, max(float(m90), 0.0) / 60
    for counts in history.values():
        counts.setdefault("hours_30d", 0.0)
        counts.setdefault("hours_90d", 0.0)
    return history

# Too little history to fit: a newcomer counts as 0.85 (what community volunteering typically sees),
# weighing as much as four marks of their own.
FALLBACK_MEAN = 0.85
FALLBACK_STRENGTH = 4.0
# A fit needs this many people with at least MIN_MARKS marks (attended or no-show) each.
MIN_PEOPLE = 30
MIN_MARKS = 2
# alpha + beta stays in this range, so a person's own record always moves them, and one mark never decides.
MIN_STRENGTH, MAX_STRENGTH = 2.0, 50.0


@dataclass(frozen=True)
class ShowUpPrior:
    alpha: float
    beta: float
    fitted: bool  # False: the fallback constant

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    @classmethod
    def of(cls, mean: float, strength: float, fitted: bool) -> "ShowUpPrior":
        mean = min(max(mean, 0.05), 0.99)
        strength = min(max(strength, MIN_STRENGTH), MAX_STRENGTH)
        return cls(mean * strength, (1.0 - mean) * strength, fitted)


FALLBACK = ShowUpPrior.of(FALLBACK_MEAN, FALLBACK_STRENGTH, fitted=False)


def fit_show_up_prior(people: int, marks: float, attended: float, rate_sum: float, rate_square_sum: float,
                      inverse_marks_sum: float) -> ShowUpPrior:
    """Beta prior by the method of moments for beta-binomial counts, from sums over people with marks.

    Per person i with n_i >= MIN_MARKS marks and rate r_i = attended_i / n_i: the mean is
    mu = sum(attended) / sum(n); the spread of the rates is mu(1 - mu) * (mean(1/n) + (1 - mean(1/n)) * rho),
    binomial noise plus the true difference between people, where rho = 1 / (alpha + beta + 1).
    Solving for rho gives the strength alpha + beta. Thin history gives FALLBACK.
    """
    if people < MIN_PEOPLE or marks <= 0:
        return FALLBACK
    mu = attended / marks
    if mu <= 0.0 or mu >= 1.0:
        # Everyone always came (or never did): no spread to measure; trust the rate, weakly.
        return ShowUpPrior.of(mu, MAX_STRENGTH if mu >= 1.0 else MIN_STRENGTH, fitted=True)
    mean_rate = rate_sum / people
    spread = max(rate_square_sum / people - mean_rate ** 2, 0.0) * people / (people - 1)
    inv_n = inverse_marks_sum / people
    rho = (spread / (mu * (1.0 - mu)) - inv_n) / (1.0 - inv_n) if inv_n < 1.0 else 0.0
    strength = 1.0 / rho - 1.0 if rho > 0 else MAX_STRENGTH
    return ShowUpPrior.of(mu, strength, fitted=True)


def show_up_prior() -> ShowUpPrior:
    """The district's prior, fitted to every recorded attendance and no-show (one aggregate query)."""
    attended = func.sum(case((CallUp.status == CallUpStatus.ATTENDED, 1), else_=0))
    marks = func.count()
    per_person = (select(attended.label("attended"), marks.label("marks"))
                  .where(CallUp.volunteer_id.is_not(None),
                         CallUp.status.in_((CallUpStatus.ATTENDED, CallUpStatus.NO_SHOW)))
                  .group_by(CallUp.volunteer_id).having(marks >= MIN_MARKS).subquery())
    rate = per_person.c.attended * 1.0 / per_person.c.marks
    row = db.session.execute(select(
        func.count(), func.coalesce(func.sum(per_person.c.marks), 0),
        func.coalesce(func.sum(per_person.c.attended), 0), func.coalesce(func.sum(rate), 0.0),
        func.coalesce(func.sum(rate * rate), 0.0), func.coalesce(func.sum(1.0 / per_person.c.marks), 0.0))).one()
    return fit_show_up_prior(int(row[0]), *(float(value) for value in row[1:]))
