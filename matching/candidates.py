"""Candidate generation: subtree ranges from sorted grid ancestors and vectorised hard-constraint filters."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import ranking as ranking_mod
from .problem import COMMUNITY_LEVEL, Candidates, PositionSpec, Weights
from .ranking import BoundedRanking, CellTable, Pool, Ranking, ScoredRanking, score_sorted, static_cost


SHARED_FILTER_BYTES = 256 << 20


class CandidateIndex:
    """Indexes over one Candidates table, built lazily and reused for every position of a solve."""

    def __init__(self, cand: Candidates, rest_seconds: float) -> None:
        self.c = cand
        self.n = cand.n
        self.rest = float(rest_seconds)
        self._level_order: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        # Static eligibility that does not depend on the position: cheap to fold in once.
        self.base_ok = cand.active & (cand.callups_left >= 1) & (cand.grid_ancestors[:, 0] >= 0)
        self.home_level = (cand.grid_ancestors >= 0).sum(axis=1).astype(np.int8) - 1
        # A reusable scratch mark avoids allocating n booleans per position.
        self._mark = np.zeros(self.n, dtype=bool)
        self.id_rank = np.empty(self.n, dtype=np.int64)
        self.id_rank[np.argsort(cand.ids, kind="stable")] = np.arange(self.n)
        # Busy intervals grouped by person (CSR): a position checks only its candidates'
        # own intervals, so the cost is independent of how many intervals others have.
        o = np.lexsort((cand.busy_start, cand.busy_person))
        self.busy_s = cand.busy_start[o]
        self.busy_e = cand.busy_end[o]
        # Rest applies around call-ups only: a blackout day blocks just the shifts it overlaps.
        self.busy_blackout = cand.busy_blackout[o]
        self.busy_rest = np.where(self.busy_blackout, 0.0, self.rest)
        self.busy_ptr = np.searchsorted(cand.busy_person[o], np.arange(self.n + 1))
        # Position-independent parts of the cost, computed once per solve.
        p_acc = (cand.accepted + 1.0) / (cand.accepted + cand.declined + cand.expired + 2.0)
        p_show = (cand.attended + 1.0) / (cand.attended + cand.no_shows + 2.0)
        self.unreliability = 1.0 - p_acc * p_show
        self._load: dict[tuple[float, float], np.ndarray] = {}
        # Positions that share a place scope, requirements and time window share the result of
        # the expensive filters (a district-wide campaign has hundreds of positions but only a
        # few distinct requirement sets); bounded so a city-scale solve cannot hoard memory.
        self._shared: dict[tuple, np.ndarray] = {}
        self._shared_bytes = 0
        # Pools of the lazy rankings (ranking.py), per filter key, weights, kind and party split.
        self._pools: dict[tuple, Pool] = {}
        self._pool_bytes = 0
        self._cells: CellTable | None = None
        self.scored = 0  # candidate pairs scored exactly in this solve
        self.bounds_outcomes = [0, 0]  # lazy rankings that pruned, and that gave up and scored all
        # Excluded pairs grouped by position index.
        ex: dict[int, np.ndarray] = {}
        if cand.excluded_person.size:
            o = np.lexsort((cand.excluded_person, cand.excluded_position))
            pos, per = cand.excluded_position[o], cand.excluded_person[o]
            cuts = np.flatnonzero(np.diff(pos)) + 1
            for chunk_pos, chunk_per in zip(np.split(pos, cuts), np.split(per, cuts)):
                ex[int(chunk_pos[0])] = chunk_per
        self.excluded = ex
        pr: dict[int, np.ndarray] = {}
        if cand.paired_person.size:
            o = np.lexsort((cand.paired_person, cand.paired_grid))
            g, per = cand.paired_grid[o], cand.paired_person[o]
            cuts = np.flatnonzero(np.diff(g)) + 1
            for cg, cp in zip(np.split(g, cuts), np.split(per, cuts)):
                pr[int(cg[0])] = cp
        self.paired = pr
        du: dict[int, np.ndarray] = {}
        if cand.duty_person.size:
            o = np.lexsort((cand.duty_person, cand.duty_week))
            wk, per = cand.duty_week[o], cand.duty_person[o]
            cuts = np.flatnonzero(np.diff(wk)) + 1
            for cw, cp in zip(np.split(wk, cuts), np.split(per, cuts)):
                du[int(cw[0])] = cp
        self.duty = du

    def subtree(self, level: int, grid_id: int) -> np.ndarray:
        """Person indexes (ascending) whose ancestor at `level` is `grid_id`: one searchsorted range."""
        if level not in self._level_order:
            col = self.c.grid_ancestors[:, level]
            order = np.argsort(col, kind="stable")  # stable: ascending person index within a key
            self._level_order[level] = (order, col[order])
        order, keys = self._level_order[level]
        lo = np.searchsorted(keys, grid_id, side="left")
        hi = np.searchsorted(keys, grid_id, side="right")
        return order[lo:hi]

    def in_radius(self, pos: PositionSpec, radius_level: int) -> tuple[np.ndarray, int]:
        """People sharing the place's ancestor at the radius level (clamped to the place's level)."""
        lvl = min(radius_level, pos.place_level)
        return self.subtree(lvl, pos.place_grid_ancestors[lvl]), lvl

    def load(self, fair_hours_30d: float, fair_hours_90d: float) -> np.ndarray:
        """Recent-load fairness term per person (cached per pair of hour scales)."""
        key = (fair_hours_30d, fair_hours_90d)
        if key not in self._load:
            c = self.c
            self._load[key] = np.maximum(c.callups_30d + c.hours_30d / fair_hours_30d
                                         + c.hours_90d / fair_hours_90d, 0.0)
        return self._load[key]

    def busy_mask(self, c: np.ndarray, start: int, end: int, blackout: bool | None = None) -> np.ndarray:
        """Boolean over c: has a busy interval overlapping [start - rest, end + rest) (open overlap).

        Blackout days count without rest; `blackout` True/False looks at only them / only call-ups.
        """
        lo, hi = self.busy_ptr[c], self.busy_ptr[c + 1]
        cnt = hi - lo
        out = np.zeros(c.size, dtype=bool)
        has = np.flatnonzero(cnt)
        if has.size == 0:
            return out
        k = cnt[has]
        owner = np.repeat(has, k)
        first = np.repeat(lo[has] - (np.cumsum(k) - k), k)
        iv = first + np.arange(owner.size)
        rest = self.busy_rest[iv]
        hit = (self.busy_s[iv] < end + rest) & (self.busy_e[iv] > start - rest)
        if blackout is not None:
            hit &= self.busy_blackout[iv] == blackout
        out[owner[hit]] = True
        return out

    def drop_marked(self, c: np.ndarray, marked: np.ndarray) -> np.ndarray:
        """c minus the persons in `marked`, using the scratch mark (O(len(c) + len(marked)))."""
        if marked.size == 0 or c.size == 0:
            return c
        self._mark[marked] = True
        out = c[~self._mark[c]]
        self._mark[marked] = False
        return out

    def marked_in(self, c: np.ndarray, marked: np.ndarray) -> np.ndarray:
        """Boolean over c: is the person in `marked`."""
        if marked.size == 0 or c.size == 0:
            return np.zeros(c.size, dtype=bool)
        self._mark[marked] = True
        out = self._mark[c]
        self._mark[marked] = False
        return out

    # Individual filters, shared by the fast path and the explanation funnel.
    def f_identity(self, c: np.ndarray, pos: PositionSpec) -> np.ndarray:
        req = pos.required_identities
        return c[(self.c.identities[c] & req) == req] if req else c

    def skill_ok(self, c: np.ndarray, skill: int, level: int, day: int,
                 check_expiry: bool = True) -> np.ndarray:
        """Boolean over c: level reached and, with `check_expiry`, a certificate valid on `day`.

        One comparison covers both certificate rules: the expiry date is the last valid day, and a
        missing certificate is NO_CERTIFICATE, below every day (see Candidates.skill_expiry).
        """
        ok = self.c.skill_levels[c, skill] >= level
        if check_expiry:
            ok &= self.c.skill_expiry[c, skill] >= day
        return ok

    def f_skills(self, c: np.ndarray, pos: PositionSpec) -> np.ndarray:
        for s, lvl in pos.required_skills:
            c = c[self.skill_ok(c, s, lvl, pos.shift_day)]
        return c

    def available(self, c: np.ndarray, pos: PositionSpec) -> np.ndarray:
        """Boolean over c: the person's weekly hours cover the whole shift."""
        mask = pos.week_slots
        cols = np.flatnonzero(mask)
        if cols.size == 0 or c.size == 0:
            return np.ones(c.size, dtype=bool)
        av = self.c.availability[np.ix_(c, cols)]
        return ((av & mask[cols]) == mask[cols]).all(axis=1)

    def f_available(self, c: np.ndarray, pos: PositionSpec) -> np.ndarray:
        """People whose hours cover the shift; on soft-availability positions also everyone callable any hour."""
        ok = self.available(c, pos)
        if pos.soft_availability:
            ok |= self.c.emergency_any_hour[c]
        return c[ok]

    def on_duty(self, c: np.ndarray, pos: PositionSpec) -> np.ndarray:
        """Boolean over c: on the duty rota in the shift's week."""
        arr = self.duty.get(pos.week)
        return self.marked_in(c, arr) if arr is not None else np.zeros(c.size, dtype=bool)

    def f_busy(self, c: np.ndarray, pos: PositionSpec) -> np.ndarray:
        return c[~self.busy_mask(c, pos.start, pos.end)]

    def f_excluded(self, c: np.ndarray, pos_index: int) -> np.ndarray:
        ex = self.excluded.get(pos_index)
        return c if ex is None else self.drop_marked(c, ex)

    def _filter_key(self, pos: PositionSpec, lvl: int) -> tuple:
        return (lvl, pos.place_grid_ancestors[lvl], pos.required_identities, pos.required_skills,
                pos.shift_day, pos.week_slots.tobytes(), pos.soft_availability, pos.start, pos.end)

    def feasible_base(self, pos: PositionSpec, radius_level: int) -> tuple[np.ndarray, int, tuple]:
        """Hard constraints that do not depend on the position's index or the solve so far:
        (person indexes ascending, effective radius level, the filter key positions share)."""
        lvl = min(radius_level, pos.place_level)
        key = self._filter_key(pos, lvl)
        c = self._shared.get(key)
        if c is None:
            c, lvl = self.in_radius(pos, radius_level)
            c = c[self.base_ok[c]]
            c = self.f_identity(c, pos)
            c = self.f_skills(c, pos)
            c = self.f_available(c, pos)
            c = self.f_busy(c, pos)
            if self._shared_bytes + c.nbytes <= SHARED_FILTER_BYTES:
                self._shared[key] = c
                self._shared_bytes += c.nbytes
        return c, lvl, key

    def feasible(self, pos: PositionSpec, pos_index: int, radius_level: int,
                 taken: np.ndarray) -> tuple[np.ndarray, int]:
        """All hard constraints except the party split; cheapest filters first."""
        c, lvl, _ = self.feasible_base(pos, radius_level)
        c = self.f_excluded(c, pos_index)
        c = self.drop_marked(c, taken)
        return c, lvl

    def cells(self) -> CellTable:
        """People grouped by home grid ancestors and coordinates (built on first use)."""
        if self._cells is None:
            self._cells = CellTable(self.c.grid_ancestors, self.c.lat, self.c.lon)
        return self._cells

    def ranking(self, pos: PositionSpec, pos_index: int, radius_level: int, w: Weights,
                taken: np.ndarray, party_bit: int | None = None) -> tuple[Ranking, int]:
        """The feasible candidates of a position in (cost, volunteer id) order, scored lazily where the
        pool is large (see ranking.py); `party_bit` keeps only people with that identity bit."""
        base, lvl, key = self.feasible_base(pos, radius_level)
        ex = self.excluded.get(pos_index)
        invalid = taken if ex is None else np.concatenate((taken, ex))
        if base.size < ranking_mod.BOUND_MIN_POOL or not ranking_mod.bounds_worthwhile(self.bounds_outcomes):
            c = base
            if party_bit is not None:
                c = c[(self.c.identities[c] & party_bit) != 0]
            c = self.drop_marked(c, invalid)
            return ScoredRanking(*score_sorted(self, pos, c, w, lvl)), lvl
        persons = base if party_bit is None else base[(self.c.identities[base] & party_bit) != 0]
        invalid = np.unique(invalid) if invalid.size else invalid
        return BoundedRanking(self, pos, w, lvl, persons, invalid, (key, w, pos.kind, party_bit)), lvl

    def pool(self, key: tuple, persons: np.ndarray, w: Weights, kind: int) -> Pool:
        """The pool of a filter key, weights, kind and party split (shared by the positions alike)."""
        pool = self._pools.get(key)
        if pool is None:
            pool = Pool(persons, static_cost(self, persons, w, kind), self.cells())
            if self._pool_bytes + pool.nbytes <= SHARED_FILTER_BYTES:
                self._pools[key] = pool
                self._pool_bytes += pool.nbytes
        return pool

    def paired_with(self, c: np.ndarray, pos: PositionSpec) -> np.ndarray:
        lvl = min(COMMUNITY_LEVEL, pos.place_level)
        arr = self.paired.get(pos.place_grid_ancestors[lvl])
        return self.marked_in(c, arr) if arr is not None else np.zeros(c.size, dtype=bool)


@dataclass
class Group:
    """A block of identical slots (a position's party-only or ordinary slots) and its ranked candidates."""

    pos_index: int
    party: bool
    slots: int
    radius_level: int
    ranked: Ranking  # candidates in (cost, volunteer id) order, scored as far as read
    keep: int = 0  # the first `keep` persons are in the pruned problem

    @property
    def m(self) -> int:
        return int(self.ranked.m)

    @property
    def persons(self) -> np.ndarray:
        """Every candidate, sorted by (cost, volunteer id) (scores the whole list)."""
        return self.ranked.full()[0]

    @property
    def cost(self) -> np.ndarray:
        """Quantised costs, same order as `persons`."""
        return self.ranked.full()[1]
