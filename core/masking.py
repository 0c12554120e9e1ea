"""Masking of personal data for lists and logs (138****1234)."""
from __future__ import annotations

import re

from core.scope import Role, Scope

# A mainland mobile number: the one format the schemas, forms and services accept.
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


def mask_mobile(mobile: str | None) -> str | None:
    """Keep the first three and last four digits of a mobile number."""
    if not mobile:
        return mobile
    if len(mobile) < 8:
        return "*" * len(mobile)
    return f"{mobile[:3]}****{mobile[-4:]}"


def mask_name(name: str | None) -> str | None:
    """Keep the family name (first character) of a Chinese name: 张**."""
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1)


# SR-3: who may see the fields a list or a stranger never gets. The API schemas ask these with the caller's scope.
def sees_full_contact(scope: Scope | None, volunteer_id: int | None) -> bool:
    """The full mobile number: the admin, office staff (kept in scope by the access layer) and the person."""
    if scope is None:
        return False
    if scope.role in (Role.ADMIN, Role.OFFICE):
        return True
    return scope.role is Role.VOLUNTEER and volunteer_id is not None and scope.volunteer_id == volunteer_id


def sees_party_membership(scope: Scope | None, volunteer_id: int | None) -> bool:
    """Party membership (the identity and the branch) goes to the same callers as the full mobile number."""
    return sees_full_contact(scope, volunteer_id)


def sees_team_members(scope: Scope | None, enterprise_id: int | None) -> bool:
    """A team's members by name (mobile masked, no identities): the admin and the team's own enterprise."""
    if scope is None:
        return False
    return scope.is_admin or (scope.role is Role.ENTERPRISE and enterprise_id is not None
                              and scope.enterprise_id == enterprise_id)
