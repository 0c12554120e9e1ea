"""The district's show-up prior: a Beta distribution fitted to attendance history, for expected attendance.

A person's chance of showing up is (attended + alpha) / (attended + no-shows + alpha + beta): a newcomer
counts as the district's ordinary rate, alpha / (alpha + beta), and their own record moves them from it.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select

from campaigns.models import CallUp, CallUpStatus
from extensions import db

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
