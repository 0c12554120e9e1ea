"""双报到: party members record the party organisation of their workplace, which hears of their community service."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from core.errors import ValidationFailed
from core.i18n import _l
from extensions import db
from volunteers.models import PartyOrganisation, Volunteer
from volunteers.services import get_volunteer

MAX_NAME = 100


def list_party_orgs() -> Select:
    """Every workplace party organisation, by name (people pick theirs from it)."""
    return select(PartyOrganisation).order_by(PartyOrganisation.name, PartyOrganisation.id)


def _find_or_add(name: str, *, now: datetime) -> PartyOrganisation:
    """The organisation of this exact name, added when new; two people adding it at once get the same row."""
    found = db.session.scalar(select(PartyOrganisation).where(PartyOrganisation.name == name))
    if found is not None:
        return found
    try:
        with db.session.begin_nested():
            org = PartyOrganisation(name=name, created_at=now)
            db.session.add(org)
    except IntegrityError:
        return db.session.scalar(select(PartyOrganisation).where(PartyOrganisation.name == name))
    return org


def set_party_org(volunteer_id: int, name: str | None, *, now: datetime) -> Volunteer:
    """Record (or, with an empty name, clear) a party member's workplace party organisation."""
    volunteer = get_volunteer(volunteer_id)
    name = " ".join((name or "").split())
    if not name:
        volunteer.party_org_id = None
        db.session.commit()
        return volunteer
    if not volunteer.is_party_member:
        raise ValidationFailed({"party_org": [_l("Only party members report to a party organisation.")]})
    if len(name) > MAX_NAME:
        raise ValidationFailed({"party_org": [_l("At most %(max_name)s characters.", max_name=MAX_NAME)]})
    volunteer.party_org_id = _find_or_add(name, now=now).id
    db.session.commit()
    return volunteer
