"""Kinds shared across packages: campaign kinds (campaigns, and volunteers' stated interests) and people's
identities (volunteers, and the settings that name identities, config.py)."""
import enum


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


KIND_LABELS = {
    CampaignKind.GARBAGE_SORTING: "垃圾分类宣传",
    CampaignKind.GAS_SAFETY: "燃气安全入户",
    CampaignKind.FLOOD_EMERGENCY: "防汛应急",
    CampaignKind.EMERGENCY: "应急处置",
    CampaignKind.VISIT: "走访",
    CampaignKind.PATROL: "巡逻",
    CampaignKind.EPIDEMIC: "防疫",
    CampaignKind.OTHER: "其他",
}


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
