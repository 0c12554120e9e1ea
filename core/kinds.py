"""Kinds shared across packages: campaign kinds (campaigns, and volunteers' stated interests) and people's
identities (volunteers, and the settings that name identities, config.py)."""
import enum
from collections.abc import Iterator, Mapping

from core.i18n import _l


class CampaignKind(enum.Enum):
    GARBAGE_SORTING = "garbage_sorting"
    GAS_SAFETY = "gas_safety"
    FLOOD_EMERGENCY = "flood_emergency"
    EMERGENCY = "emergency"
    VISIT = "visit"
    PATROL = "patrol"
    EPIDEMIC = "epidemic"
    OTHER = "other"

    @property
    def bit(self) -> int:
        return 1 << list(CampaignKind).index(self)


class SpokenNames(Mapping):
    """Names marked with ``_l``, read as plain text in the language being spoken: what a report writes to JSON or
    a spreadsheet must be a ``str``, not a lazy string."""

    def __init__(self, names: Mapping) -> None:
        self._names = dict(names)

    def __getitem__(self, key) -> str:
        return str(self._names[key])

    def __iter__(self) -> Iterator:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


# What each kind is called on pages and in reports, in the reader's language.
KIND_LABELS = SpokenNames({
    CampaignKind.GARBAGE_SORTING: _l("Garbage sorting outreach"),
    CampaignKind.GAS_SAFETY: _l("Gas safety home visits"),
    CampaignKind.FLOOD_EMERGENCY: _l("Flood emergency"),
    CampaignKind.EMERGENCY: _l("Emergency response"),
    CampaignKind.VISIT: _l("Visits"),
    CampaignKind.PATROL: _l("Patrol"),
    CampaignKind.EPIDEMIC: _l("Epidemic prevention"),
    CampaignKind.OTHER: _l("Other"),
})


class Identity(enum.Enum):
    """Who a person is, beyond being a volunteer; several at once (a bit each)."""

    PARTY_MEMBER = "party_member"
    RESIDENT_VOLUNTEER = "resident_volunteer"
    SUNK_DOWN_CADRE = "sunk_down_cadre"
    LAW_ENFORCEMENT = "law_enforcement"
    POLICE = "police"
    DOCTOR = "doctor"
    BUILDING_LEADER = "building_leader"
    PROPERTY_STAFF = "property_staff"
    ENTERPRISE_MEMBER = "enterprise_member"
    GRID_WORKER = "grid_worker"

    @property
    def bit(self) -> int:
        return 1 << list(Identity).index(self)

    @classmethod
    def to_mask(cls, values) -> int:
        mask = 0
        for value in values:
            mask |= cls(value).bit
        return mask

    @classmethod
    def from_mask(cls, mask: int) -> list["Identity"]:
        return [identity for identity in cls if (mask or 0) & identity.bit]
