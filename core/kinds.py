"""Campaign kinds: shared by campaigns and by volunteers' stated interests."""
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
