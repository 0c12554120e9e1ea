"""Pairing agreements (共建协议): when a partner enterprise signed with a street office or community, and until when.

The office that signed records it (a street office or community in its own area; the district any); the
enterprise and every office read them. Rows are never edited: a renewal is a new agreement, and the latest per
community says whether the pairing stands (valid, ending within ``ENDING_SOON_DAYS``, or ended).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.errors import Conflict, ValidationFailed
from core.i18n import _l
from core.scope import Scope
from extensions import db
from grids.services import resolve_grid
from volunteers.models import EnterpriseStatus, PairingAgreement
from volunteers.teams import get_enterprise

ENDING_SOON_DAYS = 30
# Agreements are signed by a street office (1) or a community (2).
SIGNING_LEVELS = (1, 2)


@dataclass(frozen=True)
class AgreementState:
    agreement: PairingAgreement
    state: str  # "valid", "ending" (within ENDING_SOON_DAYS), "ended" or "superseded"
    days_left: int


def record_agreement(enterprise_id: int, data: dict, *, scope: Scope, now: datetime) -> PairingAgreement:
    """Record a signed agreement; refused for an enterprise not approved, a grid outside the caller's area or
    not a street office or community, an end before the signing, and the same agreement twice."""
    enterprise = get_enterprise(enterprise_id)
    if enterprise.status != EnterpriseStatus.APPROVED.value:
        raise Conflict(_l("Only an approved enterprise signs agreements."),
                       {"enterprise_id": [_l("Not approved yet.")]}, code="not_approved")
    grid = resolve_grid(data["grid_id"], "grid_id", scope)
    if grid.level not in SIGNING_LEVELS:
        raise ValidationFailed.field("grid_id", _l("Choose a street office or a community."))
    if data["valid_until"] < data["signed_on"]:
        raise ValidationFailed.field("valid_until", _l("Must not be before the signing day."))
    agreement = PairingAgreement(enterprise_id=enterprise.id, grid_id=grid.id, signed_on=data["signed_on"],
                                 valid_until=data["valid_until"], note=(data.get("note") or "").strip() or None,
                                 recorded_by=scope.actor[:100], recorded_at=now)
    db.session.add(agreement)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(_l("This agreement is already recorded."),
                       {"signed_on": [_l("Already recorded for this community and day.")]}, code="duplicate") from None
    return agreement


def agreements_of(enterprise_id: int, *, today: date) -> list[AgreementState]:
    """The enterprise's agreements, newest first, each with its state on ``today``."""
    get_enterprise(enterprise_id)
    rows = db.session.scalars(select(PairingAgreement).where(PairingAgreement.enterprise_id == enterprise_id)
                              .order_by(PairingAgreement.signed_on.desc(), PairingAgreement.id.desc())).all()
    latest: set[int] = set()
    states = []
    for agreement in rows:
        days_left = (agreement.valid_until - today).days
        if agreement.grid_id in latest:
            state = "superseded"
        elif days_left < 0:
            state = "ended"
        elif days_left <= ENDING_SOON_DAYS:
            state = "ending"
        else:
            state = "valid"
        latest.add(agreement.grid_id)
        states.append(AgreementState(agreement, state, days_left))
    return states


def standing_pairings(enterprise_id: int, *, today: date) -> list[AgreementState]:
    """The communities the enterprise is paired with by an agreement in force today."""
    return [s for s in agreements_of(enterprise_id, today=today) if s.state in ("valid", "ending")]
