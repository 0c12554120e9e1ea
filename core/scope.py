"""Who is asking: the caller's role and the part of the grid tree, person or enterprise they may see.

Every service that lists or resolves rows for a caller takes a ``Scope`` and filters in SQL with
it; nothing is loaded first and hidden afterwards. The API, the web pages, the CLI and the
scheduler build a scope in one place each (the CLI and scheduler act as ``Scope.system()``).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import false, true


class Role(enum.Enum):
    ADMIN = "admin"            # district administrator: everything
    OFFICE = "office"          # street-office or community staff: their grid subtree
    VOLUNTEER = "volunteer"    # one person: their own record, call-ups and messages
    ENTERPRISE = "enterprise"  # a partner enterprise: its own record and teams
    GATEWAY = "gateway"        # an SMS gateway: delivers inbound replies, nothing else
    PARTY_ORG = "party_org"    # a workplace party organisation's contact: its members' 双报到 report, nothing else


# Accounts that run campaigns: they coordinate them and keep contact details for coordinator notices.
STAFF_ROLES = frozenset({Role.OFFICE, Role.ADMIN})


@dataclass(frozen=True)
class Scope:
    """The caller; ``grid_path`` None means the whole district (admin and system)."""

    role: Role
    actor: str
    grid_id: int | None = None
    grid_path: str | None = None
    grid_level: int | None = None
    volunteer_id: int | None = None
    enterprise_id: int | None = None
    party_org_id: int | None = None
    # The signed-in account behind the request (a web session or a sign-in token); None for integrations.
    user_id: int | None = None

    @classmethod
    def system(cls, actor: str = "system") -> "Scope":
        """The CLI and the scheduler: unrestricted, named in audit rows."""
        return cls(role=Role.ADMIN, actor=actor)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def sees_grid_tree(self) -> bool:
        """Admin and office staff see a subtree of the grid; the other roles see no grid rows."""
        return self.role in (Role.ADMIN, Role.OFFICE)

    def covers(self, path: str | None) -> bool:
        """True when a grid ``path`` lies inside this caller's subtree."""
        if self.is_admin:
            return True
        if self.role is not Role.OFFICE or path is None or self.grid_path is None:
            return False
        return path.startswith(self.grid_path)

    def grid_clause(self, path_column):
        """SQL: rows whose grid path lies in the caller's subtree (false for non-grid roles)."""
        if self.is_admin:
            return true()
        if self.role is not Role.OFFICE or self.grid_path is None:
            return false()
        return path_column.startswith(self.grid_path, autoescape=True)

    @property
    def may_open_override(self) -> bool:
        """District admins and street offices may let a campaign recruit from sibling communities."""
        return self.is_admin or (self.role is Role.OFFICE and self.grid_level is not None and self.grid_level <= 1)
