"""Input and output dataclasses of the matcher, with shape validation and time-slot helpers."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping, Sequence

import numpy as np

LEVELS = 5  # 0 district, 1 street office, 2 community, 3 grid, 4 micro-grid
COMMUNITY_LEVEL = 2
WEEK_SLOTS = 336  # half-hour slots Monday 00:00 .. Sunday 24:00, local time
MASK_BYTES = WEEK_SLOTS // 8  # 42: availability is packed like numpy.packbits (big bit order)
NO_EXPIRY = np.iinfo(np.int32).max  # skill_expiry sentinel: no certificate needed, or it never expires
NO_CERTIFICATE = np.iinfo(np.int32).min  # skill_expiry sentinel: the skill needs a certificate the person lacks
CHINA_UTC_OFFSET = 8 * 3600  # China Standard Time has no daylight saving
_MONDAY_EPOCH = 4 * 86400  # 1970-01-05 was a Monday

# Identity bits (int32 bitmask). The party bit is configurable on Problem.
PARTY_MEMBER = 1 << 0
RESIDENT_VOLUNTEER = 1 << 1
SUNK_DOWN_CADRE = 1 << 2
POLICE = 1 << 3
DOCTOR = 1 << 4
BUILDING_LEADER = 1 << 5
PROPERTY_STAFF = 1 << 6
ENTERPRISE_TEAM = 1 << 7

# Campaign kind indexes, in the order of core.kinds.CampaignKind (bit = 1 << index);
# duplicated here because the library must not import the application.
KIND_GARBAGE_SORTING, KIND_GAS_SAFETY, KIND_FLOOD_EMERGENCY, KIND_EMERGENCY = 0, 1, 2, 3
KIND_VISIT, KIND_PATROL, KIND_EPIDEMIC, KIND_OTHER = 4, 5, 6, 7


def week_mask(local_start: datetime, local_end: datetime) -> np.ndarray:
    """Packed (42,) uint8 mask of the weekly half-hour slots that [local_start, local_end) touches.

    Wall-clock times in the place's time zone; any tzinfo is ignored. A slot counts when
    the shift overlaps it at all, so 09:15-10:00 needs 09:00-09:30 and 09:30-10:00.
    """
    base = datetime(1970, 1, 5)  # a Monday
    s = (local_start.replace(tzinfo=None) - base).total_seconds()
    e = (local_end.replace(tzinfo=None) - base).total_seconds()
    return _mask_from_seconds(s, e)


def week_mask_epoch(start: int, end: int, utc_offset: int = CHINA_UTC_OFFSET) -> np.ndarray:
    """Like week_mask, from epoch seconds UTC and a fixed offset (default UTC+8)."""
    return _mask_from_seconds(start + utc_offset - _MONDAY_EPOCH, end + utc_offset - _MONDAY_EPOCH)


def _mask_from_seconds(s: float, e: float) -> np.ndarray:
    if e <= s:
        raise ValueError("shift must end after it starts")
    first = math.floor(s / 1800)
    last = math.ceil(e / 1800)  # exclusive
    bits = np.zeros(WEEK_SLOTS, dtype=bool)
    if last - first >= WEEK_SLOTS:
        bits[:] = True
    else:
        bits[np.arange(first, last) % WEEK_SLOTS] = True
    return np.packbits(bits)


def week_of_day(day: int) -> int:
    """Monday-based week number of a day counted from 1970-01-01 (a Thursday): day 0 is in week 0,
    which began on Monday 1969-12-29."""
    return (int(day) + 3) // 7


def pack_availability(bits: np.ndarray) -> np.ndarray:
    """(n, 336) bool -> (n, 42) uint8, the packed form Candidates.availability keeps."""
    bits = np.asarray(bits, dtype=bool)
    if bits.ndim != 2 or bits.shape[1] != WEEK_SLOTS:
        raise ValueError(f"availability bits must be (n, {WEEK_SLOTS})")
    return np.packbits(bits, axis=1)


def _as_mask(week_slots: Any) -> np.ndarray:
    """Normalise a position's week slots: packed (42,) uint8, (336,) bool, or slot numbers."""
    a = np.asarray(week_slots)
    if a.dtype == np.uint8 and a.shape == (MASK_BYTES,):
        return a.copy()
    if a.dtype == bool and a.shape == (WEEK_SLOTS,):
        return np.packbits(a)
    a = a.astype(np.int64).ravel()
    if a.size and (a.min() < 0 or a.max() >= WEEK_SLOTS):
        raise ValueError("week slot numbers must be in 0..335")
    bits = np.zeros(WEEK_SLOTS, dtype=bool)
    bits[a] = True
    return np.packbits(bits)


def _arr(value: Any, dtype: Any, n: int, name: str, fill: Any = 0, shape: tuple = ()) -> np.ndarray:
    if value is None:
        return np.full((n, *shape), fill, dtype=dtype)
    a = np.ascontiguousarray(value, dtype=dtype)
    if a.shape != (n, *shape):
        raise ValueError(f"Candidates.{name} must have shape {(n, *shape)}, got {a.shape}")
    return a


@dataclass(frozen=True, eq=False)
class Candidates:
    """Volunteers as parallel numpy arrays, one row per person (row index = "person index").

    Optional arrays default to neutral values (active, no history, cap 1, always available).
    Sparse extras are parallel arrays: busy_* intervals (epoch seconds UTC, half-open),
    excluded_* pairs (person index, index into Problem.positions), paired_* pairs
    (person index, community grid id the person's enterprise team is paired with).
    busy_blackout (optional, parallel to busy_*) marks intervals that are a person's blackout
    days: they block only the shifts they overlap (no rest around them) and are reported apart.

    skill_expiry is the last valid day of the certificate behind a skill; a skill that needs a
    certificate the person does not hold is NO_CERTIFICATE, one that needs none NO_EXPIRY. The
    caller decides which skills need certificates, so the gate costs nothing beyond the expiry test.
    """

    ids: np.ndarray
    grid_ancestors: np.ndarray  # (n, 5) int64, -1 below the home grid's level
    skill_levels: np.ndarray  # (n, S) int8, 0 = lacks
    lat: np.ndarray | None = None  # float64, NaN unknown
    lon: np.ndarray | None = None
    skill_expiry: np.ndarray | None = None  # (n, S) int32 days since epoch, valid through that day
    identities: np.ndarray | None = None  # int32 bitmask
    active: np.ndarray | None = None  # bool
    callups_left: np.ndarray | None = None  # int16
    availability: np.ndarray | None = None  # (n, 42) uint8 packed, or (n, 336) bool
    hours_30d: np.ndarray | None = None
    hours_90d: np.ndarray | None = None
    callups_30d: np.ndarray | None = None
    accepted: np.ndarray | None = None
    declined: np.ndarray | None = None
    expired: np.ndarray | None = None
    no_shows: np.ndarray | None = None
    attended: np.ndarray | None = None
    interests: np.ndarray | None = None  # int32 bitmask over campaign kinds
    busy_person: np.ndarray | None = None
    busy_start: np.ndarray | None = None
    busy_end: np.ndarray | None = None
    busy_blackout: np.ndarray | None = None  # bool per busy interval: a blackout day, not a call-up
    excluded_person: np.ndarray | None = None
    excluded_position: np.ndarray | None = None
    paired_person: np.ndarray | None = None
    paired_grid: np.ndarray | None = None
    emergency_any_hour: np.ndarray | None = None  # bool: may be called in emergencies outside their hours
    duty_person: np.ndarray | None = None  # with duty_week: on the duty rota (值班) that week
    duty_week: np.ndarray | None = None  # weeks since 1969-12-29 (Mondays), see week_of_day

    def __post_init__(self) -> None:
        ids = np.ascontiguousarray(self.ids, dtype=np.int64)
        if ids.ndim != 1:
            raise ValueError("Candidates.ids must be 1-d")
        n = ids.shape[0]
        if n > 1 and not (ids[1:] > ids[:-1]).all() and np.unique(ids).size != n:  # ascending: unique
            raise ValueError("Candidates.ids must be unique")
        sl = np.asarray(self.skill_levels, dtype=np.int8)
        if sl.ndim != 2 or sl.shape[0] != n:
            raise ValueError("Candidates.skill_levels must be (n, S)")
        s = sl.shape[1]
        av = self.availability
        if av is None:
            av = np.full((n, MASK_BYTES), 0xFF, dtype=np.uint8)
        else:
            av = np.asarray(av)
            if av.dtype == bool:
                av = pack_availability(av)
        sets = {
            "ids": ids,
            "grid_ancestors": _arr(self.grid_ancestors, np.int64, n, "grid_ancestors", shape=(LEVELS,)),
            "skill_levels": np.ascontiguousarray(sl),
            "lat": _arr(self.lat, np.float64, n, "lat", np.nan),
            "lon": _arr(self.lon, np.float64, n, "lon", np.nan),
            "skill_expiry": _arr(self.skill_expiry, np.int32, n, "skill_expiry", NO_EXPIRY, (s,)),
            "identities": _arr(self.identities, np.int32, n, "identities"),
            "active": _arr(self.active, bool, n, "active", True),
            "callups_left": _arr(self.callups_left, np.int16, n, "callups_left", 1),
            "availability": _arr(av, np.uint8, n, "availability", shape=(MASK_BYTES,)),
            "interests": _arr(self.interests, np.int32, n, "interests"),
            "emergency_any_hour": _arr(self.emergency_any_hour, bool, n, "emergency_any_hour", True),
        }
        for name in ("hours_30d", "hours_90d", "callups_30d", "accepted", "declined",
                     "expired", "no_shows", "attended"):
            sets[name] = _arr(getattr(self, name), np.float64, n, name)
        for prefix, cols, dt in (("busy", ("person", "start", "end"), np.int64),
                                 ("excluded", ("person", "position"), np.int64),
                                 ("paired", ("person", "grid"), np.int64),
                                 ("duty", ("person", "week"), np.int64)):
            vals = [getattr(self, f"{prefix}_{c}") for c in cols]
            if all(v is None for v in vals):
                vals = [np.zeros(0, dtype=dt) for _ in cols]
            elif any(v is None for v in vals):
                raise ValueError(f"Candidates.{prefix}_* must be given together")
            vals = [np.ascontiguousarray(v, dtype=dt).ravel() for v in vals]
            if len({v.shape for v in vals}) != 1:
                raise ValueError(f"Candidates.{prefix}_* must have equal lengths")
            if vals[0].size and (vals[0].min() < 0 or vals[0].max() >= n):
                raise ValueError(f"Candidates.{prefix}_person must be person indexes 0..n-1")
            for c, v in zip(cols, vals):
                sets[f"{prefix}_{c}"] = v
        nb = sets["busy_person"].size
        if self.busy_blackout is None:
            sets["busy_blackout"] = np.zeros(nb, dtype=bool)
        else:
            sets["busy_blackout"] = np.ascontiguousarray(self.busy_blackout, dtype=bool).ravel()
            if sets["busy_blackout"].size != nb:
                raise ValueError("Candidates.busy_blackout must have the length of busy_person")
        for k, v in sets.items():
            object.__setattr__(self, k, v)

    @property
    def n(self) -> int:
        return int(self.ids.shape[0])

    @property
    def n_skills(self) -> int:
        return int(self.skill_levels.shape[1])


@dataclass(frozen=True, eq=False)
class PositionSpec:
    """One position of a shift: `headcount` identical slots sharing one cost row.

    week_slots: packed (42,) uint8 mask, (336,) bool, or slot numbers; None derives it from
    start/end in UTC+8. radius_level: candidates must share the place's ancestor at that
    level (clamped to the place's own level). Escalating positions widen from radius_level
    one level at a time down to max_radius_level (<= radius_level).
    """

    id: int
    headcount: int
    place_grid_ancestors: Sequence[int]
    start: int
    end: int
    shift_day: int | None = None  # days since epoch (local); None: derived from start in UTC+8
    lat: float = math.nan
    lon: float = math.nan
    week_slots: Any = None
    required_skills: Sequence[tuple[int, int]] = ()
    preferred_skills: Sequence[tuple[int, int]] = ()
    min_party_members: int = 0
    required_identities: int = 0
    radius_level: int = 2
    max_radius_level: int | None = None
    escalate: bool = False
    kind: int = 0
    # Emergencies: weekly availability ranks people (the off_hours term) instead of excluding them,
    # except those who chose to be called only in their hours; people on duty that week come first.
    soft_availability: bool = False

    def __post_init__(self) -> None:
        anc = tuple(int(a) for a in self.place_grid_ancestors)
        if len(anc) != LEVELS or anc[0] < 0:
            raise ValueError(f"position {self.id}: place_grid_ancestors needs {LEVELS} ids, level 0 set")
        if self.headcount < 0 or not 0 <= self.min_party_members <= self.headcount:
            raise ValueError(f"position {self.id}: need 0 <= min_party_members <= headcount")
        if self.end <= self.start:
            raise ValueError(f"position {self.id}: end must be after start")
        if not 0 <= self.radius_level < LEVELS:
            raise ValueError(f"position {self.id}: radius_level must be 0..4")
        mx = self.radius_level if self.max_radius_level is None else int(self.max_radius_level)
        if not 0 <= mx <= self.radius_level:
            raise ValueError(f"position {self.id}: max_radius_level must be 0..radius_level")
        ws = (week_mask_epoch(self.start, self.end) if self.week_slots is None
              else _as_mask(self.week_slots))
        day = ((self.start + CHINA_UTC_OFFSET) // 86400 if self.shift_day is None
               else int(self.shift_day))
        object.__setattr__(self, "place_grid_ancestors", anc)
        object.__setattr__(self, "max_radius_level", mx)
        object.__setattr__(self, "week_slots", ws)
        object.__setattr__(self, "shift_day", day)
        object.__setattr__(self, "required_skills", tuple((int(s), int(l)) for s, l in self.required_skills))
        object.__setattr__(self, "preferred_skills", tuple((int(s), int(l)) for s, l in self.preferred_skills))

    @property
    def week(self) -> int:
        """The shift's week (see week_of_day), to look up the duty rota."""
        return week_of_day(self.shift_day)

    @property
    def place_level(self) -> int:
        """Deepest level at which the place has an ancestor (its own grid level)."""
        return max(i for i, a in enumerate(self.place_grid_ancestors) if a >= 0)


@dataclass(frozen=True)
class Weights:
    """Weights of the cost terms; every raw term is >= 0, total = sum of weight * term.

    distance: per km (haversine when both ends have coordinates, else tree hops * km_per_hop);
    preferred: times the share of preferred skills missing; fairness: times
    callups_30d + hours_30d / fair_hours_30d + hours_90d / fair_hours_90d;
    reliability: times 1 - P(accept) * P(show) with Beta(1, 1) priors (newcomers 0.75);
    team: paid when the person's team is NOT paired with the place's community;
    interest: paid when the person did NOT declare interest in the campaign kind;
    off_hours: paid on soft-availability (emergency) positions by people outside their weekly hours;
    duty: paid on soft-availability (emergency) positions by people NOT on the duty rota that week.
    """

    distance: float = 1.0
    km_per_hop: float = 0.5
    preferred: float = 2.0
    fairness: float = 1.0
    fair_hours_30d: float = 8.0
    fair_hours_90d: float = 24.0
    reliability: float = 2.0
    team: float = 0.5
    interest: float = 0.5
    off_hours: float = 2.0
    duty: float = 3.0

    def __post_init__(self) -> None:
        for k, v in self.__dict__.items():
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"Weights.{k} must be a finite number >= 0")
        if self.fair_hours_30d <= 0 or self.fair_hours_90d <= 0:
            raise ValueError("fairness hour scales must be > 0")


# Per-kind defaults: emergencies favour nearby, reliable people over rotation.
DEFAULT_WEIGHTS: dict[int, Weights] = {
    KIND_GARBAGE_SORTING: Weights(),
    KIND_GAS_SAFETY: Weights(preferred=3.0),
    KIND_FLOOD_EMERGENCY: Weights(distance=3.0, fairness=0.25, reliability=4.0),
    KIND_EMERGENCY: Weights(distance=3.0, fairness=0.25, reliability=4.0),
    KIND_VISIT: Weights(fairness=1.5),
    KIND_PATROL: Weights(),
    KIND_EPIDEMIC: Weights(distance=2.0, fairness=0.5, reliability=3.0),
    KIND_OTHER: Weights(),
}


@dataclass(frozen=True, eq=False)
class Problem:
    """One solve: candidates, positions, weights (one Weights for all, or per kind index).

    prune_margin: extra candidates kept per slot group beyond its headcount in the first
    pruning round (the certificate widens as needed, so this only affects speed).
    """

    candidates: Candidates
    positions: Sequence[PositionSpec]
    weights: Weights | Mapping[int, Weights] | None = None
    rest_hours: float = 12.0
    party_bit: int = PARTY_MEMBER
    standby_size: int = 5
    prune_margin: int = 8

    def __post_init__(self) -> None:
        object.__setattr__(self, "positions", tuple(self.positions))
        ids = [p.id for p in self.positions]
        if len(set(ids)) != len(ids):
            raise ValueError("position ids must be unique")
        c = self.candidates
        s = c.n_skills
        for p in self.positions:
            for sk, lvl in (*p.required_skills, *p.preferred_skills):
                if not 0 <= sk < s or not 1 <= lvl <= 5:
                    raise ValueError(f"position {p.id}: skill ({sk}, {lvl}) out of range")
        if c.excluded_position.size and (c.excluded_position.min() < 0
                                         or c.excluded_position.max() >= len(self.positions)):
            raise ValueError("Candidates.excluded_position must index Problem.positions")
        if self.rest_hours < 0 or self.standby_size < 0 or self.prune_margin < 0 or self.party_bit <= 0:
            raise ValueError("rest_hours, standby_size, prune_margin must be >= 0, party_bit > 0")

    def weights_for(self, kind: int) -> Weights:
        w = self.weights
        if isinstance(w, Weights):
            return w
        if w is not None and kind in w:
            return w[kind]
        return DEFAULT_WEIGHTS.get(kind, Weights())


@dataclass(frozen=True)
class Reason:
    """Why slots stay open: a stable `code` and structured `params` (people before, lost at and left after the
    gate, the skill column, ...); the application says it in words, in its reader's language."""

    code: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Assignment:
    position_id: int
    volunteer_id: int
    cost: float
    breakdown: dict[str, float]
    radius_level: int
    party_slot: bool


@dataclass(frozen=True)
class EscalationStep:
    radius_level: int
    filled: int


@dataclass
class PositionOutcome:
    position_id: int
    headcount: int
    filled: int
    unfilled: int
    standby: list[tuple[int, float]] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)
    steps: list[EscalationStep] = field(default_factory=list)


@dataclass
class Result:
    assignments: list[Assignment]
    positions: list[PositionOutcome]
    total_cost: float
    stats: dict[str, Any]
