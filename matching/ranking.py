"""A slot group's candidates in (cost, volunteer id) order, scored only as far as the solver reads.

The solver reads a group's list from the top: its `keep` cheapest candidates, the cost of the next
one (the certificate's threshold), how many cost at most a dual value (widening), and the dearest
cost (the dummy's price). At city scale a position may draw on most of the district, so scoring
every feasible pair dominates; `BoundedRanking` scores only the pairs that can reach the top.

A cost splits into parts that depend on the person alone (fairness, reliability, interest in the
campaign kind: "static", shared by every position of the same weights and kind) and parts that depend
on the pair. Of those, distance is bounded per cell: people with the same home grid ancestors and
either no coordinates (an exact tree-hop count) or coordinates in the same small square (a centre and
a radius: the great-circle distance, a metric, stays within centre distance ± radius; the application
places people at their home grid's centroid, so there the radius is 0 and the bound exact). The rest (preferred skills, team, off hours, duty) is between 0
and its weight. So for every person p of cell x

    LB(p) = w.distance * lower(x) + static(p)  <=  cost(p)  <=  w.distance * upper(x) + static(p) + extra.

The k cheapest: take tau0, the k-th smallest LB among the valid people (read from the cheapest cells),
and tau = tau0 + extra; score exactly every valid person with LB <= tau (found cell by cell: a cell
whose least LB exceeds tau is skipped whole). Everyone else costs more than tau. Every scored person with
cost <= tau is therefore in its true place in the full (cost, id) order, and the list returned is
exactly that prefix. If fewer than k scored people cost <= tau (a loose radius), tau grows to the k-th
scored cost and the step repeats. The dearest cost: any exact cost is a lower bound M on it, and only
people whose upper bound reaches M can hold it.
"""
from __future__ import annotations

import numpy as np

from .problem import PositionSpec, Weights
from .scoring import QUANTUM, cost_terms, haversine_km, quantise, total_cost, tree_hops

# Pools smaller than this are scored whole: the bounds would save less than they cost.
BOUND_MIN_POOL = 4096
# When the bounded set would hold more than this share of a pool, score the pool whole.
FULL_SHARE = 0.5
# Where the bounds keep giving up (people spread out, pair terms as large as distance), a solve stops
# trying them: after this many give-ups, once they outnumber prunings GIVE_UP_RATIO to one.
GIVE_UP_AFTER = 8
GIVE_UP_RATIO = 1

# Side of the squares that split people with coordinates into cells (about 440 m north-south).
SQUARE_DEG = 0.004
# Bounds are compared with this much room for float rounding and cost quantisation (2**-17).
_SLACK_ABS = 1e-5
_SLACK_REL = 1e-9


def bounds_worthwhile(outcomes: list[int]) -> bool:
    """Go on bounding, given [prunings, give-ups] so far in this solve (a speed choice, never exactness)."""
    pruned, gave_up = outcomes
    return gave_up < GIVE_UP_AFTER or gave_up <= GIVE_UP_RATIO * pruned


def ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Concatenation of arange(s, e) for every pair, without a Python loop."""
    lens = ends - starts
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offs = np.cumsum(lens) - lens
    return np.arange(total, dtype=np.int64) + np.repeat(starts - offs, lens)


class CellTable:
    """People grouped by home grid ancestors and, for those with coordinates, the square they are in
    (one solve's cells; see the module docstring)."""

    def __init__(self, ancestors: np.ndarray, lat: np.ndarray, lon: np.ndarray, square: float = SQUARE_DEG) -> None:
        known = np.isfinite(lat) & np.isfinite(lon)
        # People with coordinates are split further into squares of `square` degrees, so a cell's
        # radius stays small even where everyone has their own coordinates.
        with np.errstate(invalid="ignore"):
            qlat = np.where(known, np.floor(lat / square), -1).astype(np.int64)
            qlon = np.where(known, np.floor(lon / square), -1).astype(np.int64)
        cols = [ancestors[:, k] for k in range(ancestors.shape[1])] + [qlat, qlon]
        cell_of, rep = _row_groups(cols)
        self.n_cells = int(rep.size)
        self.cell_of = cell_of
        self.rep = rep  # a member of each cell (its first)
        self.known = known[rep]
        self.lat = np.where(self.known, lat[rep], np.nan)
        self.lon = np.where(self.known, lon[rep], np.nan)
        # Radius: the farthest member from the representative (0 when members share coordinates).
        self.radius = np.zeros(self.n_cells)
        if known.any():
            who = np.flatnonzero(known)
            c = cell_of[who]
            d = haversine_km(lat[who], lon[who], self.lat[c], self.lon[c])
            np.maximum.at(self.radius, c, d)
        self.radius[self.radius > 0] *= 1.0 + 1e-9


_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
                 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x2545F4914F6CDD1D, 0x94D049BB133111EB], dtype=np.uint64)


def _row_groups(cols: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(group of every row, first row of every group) for the distinct rows of int64 columns."""
    n = cols[0].size
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    # A hash of the row, confirmed below: equal rows share it; a collision falls back to sorting.
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k, col in enumerate(cols):
            h ^= col.view(np.uint64)
            h *= _MIX[k % _MIX.size]
            h ^= h >> np.uint64(29)
    uniq, inverse = np.unique(h, return_inverse=True)
    inverse = inverse.ravel().astype(np.int64)
    first = np.full(uniq.size, n, dtype=np.int64)
    np.minimum.at(first, inverse, np.arange(n))
    back = first[inverse]
    if all(np.array_equal(col, col[back]) for col in cols):
        return inverse, first
    key = np.stack(cols, axis=1)
    o = np.lexsort(key.T[::-1])
    ks = key[o]
    new = np.ones(n, dtype=bool)
    new[1:] = (ks[1:] != ks[:-1]).any(axis=1)
    group_sorted = np.cumsum(new) - 1
    g = np.empty(n, dtype=np.int64)
    g[o] = group_sorted
    firsts = np.full(int(group_sorted[-1]) + 1, n, dtype=np.int64)
    np.minimum.at(firsts, g, np.arange(n))
    return g, firsts


class Pool:
    """The feasible people of one filter key (before exclusions and people already placed), with the
    static cost of one weights-and-kind, grouped by cell, with each cell's least and greatest static cost."""

    def __init__(self, persons: np.ndarray, static: np.ndarray, cells: CellTable) -> None:
        cell = cells.cell_of[persons]
        o = np.argsort(cell, kind="stable")
        self.persons = persons[o]
        self.static = static[o]
        cell = cell[o]
        cut = np.flatnonzero(np.r_[True, cell[1:] != cell[:-1]]) if cell.size else np.zeros(0, np.int64)
        self.cells = cell[cut]
        self.starts = np.r_[cut, cell.size].astype(np.int64)
        self.smin = np.minimum.reduceat(self.static, cut) if cut.size else np.zeros(0)
        self.smax = np.maximum.reduceat(self.static, cut) if cut.size else np.zeros(0)
        self.cell_index = np.repeat(np.arange(cut.size), np.diff(self.starts))

    @property
    def size(self) -> int:
        return int(self.persons.size)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.persons, self.static, self.cells, self.starts, self.smin,
                                      self.smax, self.cell_index))


def static_cost(index, persons: np.ndarray, w: Weights, kind: int) -> np.ndarray:
    """The person-only part of the cost (fairness, reliability, interest), as cost_terms computes it."""
    cd = index.c
    fair = w.fairness * index.load(w.fair_hours_30d, w.fair_hours_90d)[persons]
    rel = w.reliability * index.unreliability[persons]
    interested = (((cd.interests[persons] >> kind) & 1).astype(bool) if 0 <= kind < 31
                  else np.zeros(persons.size, bool))
    return fair + rel + w.interest * (~interested).astype(np.float64)


class Ranking:
    """A group's candidates in (cost, id) order: `m` of them; `head(k)` the first k or more."""

    m: int

    def head(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def max_cost(self) -> float:
        raise NotImplementedError

    def full(self) -> tuple[np.ndarray, np.ndarray]:
        return self.head(self.m)


class ScoredRanking(Ranking):
    """Every candidate scored and sorted up front."""

    def __init__(self, persons: np.ndarray, cost: np.ndarray) -> None:
        self.persons, self.cost = persons, cost
        self.m = int(persons.size)

    def head(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        return self.persons, self.cost

    def max_cost(self) -> float:
        return float(self.cost[-1]) if self.m else 0.0


def score_sorted(index, pos: PositionSpec, c: np.ndarray, w: Weights, level: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Exact quantised costs of c, sorted by (cost, volunteer id)."""
    index.scored += int(c.size)
    # Quantised once here so every consumer (solver, certificate, report) sees equal numbers.
    cost = quantise(total_cost(cost_terms(index, pos, c, w, level)))
    order = sort_by_cost(c, cost, index.id_rank, QUANTUM)
    return c[order], cost[order]


class BoundedRanking(Ranking):
    """The candidates of a pool minus `invalid` people, scored only where the bounds say they may matter."""

    def __init__(self, index, pos: PositionSpec, w: Weights, level: int, persons: np.ndarray,
                 invalid: np.ndarray, pool_key: tuple) -> None:
        # persons: the feasible people (ascending) before `invalid`, the unique person indexes
        # excluded for this position or already placed.
        self.index, self.pos, self.w, self.level = index, pos, w, level
        self.persons, self.pool_key = persons, pool_key
        self.invalid = invalid[_member(persons, invalid)] if invalid.size else invalid
        self.m = int(persons.size - self.invalid.size)
        self._pool: Pool | None = None
        self.extra = (w.team + (w.preferred if pos.preferred_skills else 0.0)
                      + (w.off_hours + w.duty if pos.soft_availability else 0.0))
        self._lb = self._ub = None
        self._p = np.zeros(0, dtype=np.int64)
        self._c = np.zeros(0)
        self._complete = False
        self._max: float | None = None
        self._outcome: bool | None = None  # did the bounds prune (True) or give up (False)

    def _pruned(self) -> None:
        if self._outcome is None:
            self._outcome = True
            self.index.bounds_outcomes[0] += 1

    def _gave_up(self) -> None:
        if self._outcome is None:
            self._outcome = False
            self.index.bounds_outcomes[1] += 1

    @property
    def pool(self) -> Pool:
        if self._pool is None:
            self._pool = self.index.pool(self.pool_key, self.persons, self.w, self.pos.kind)
        return self._pool

    def _bounds_off(self) -> bool:
        """Score whole when bounds have kept giving up in this solve (decided at first read)."""
        if self._outcome is None and not bounds_worthwhile(self.index.bounds_outcomes):
            self._score_all()
            return True
        return False

    # Bounds per cell of the pool.
    def _cell_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        if self._lb is None:
            pool, cells, pos, w = self.pool, self.index.cells(), self.pos, self.w
            cid = pool.cells
            hops = tree_hops(self.index, cells.rep[cid], pos, self.level).astype(np.float64) * w.km_per_hop
            lo, hi = hops.copy(), hops.copy()
            if np.isfinite(pos.lat) and np.isfinite(pos.lon):
                k = cells.known[cid]
                if k.any():
                    d = haversine_km(cells.lat[cid[k]], cells.lon[cid[k]], pos.lat, pos.lon)
                    r = cells.radius[cid[k]]
                    lo[k] = np.maximum(d - r, 0.0)
                    hi[k] = d + r
            self._lb, self._ub = w.distance * lo, w.distance * hi
        return self._lb, self._ub

    def _valid(self, persons: np.ndarray) -> np.ndarray:
        return ~self.index.marked_in(persons, self.invalid)

    def _slack(self, x: np.ndarray | float) -> np.ndarray | float:
        return _SLACK_ABS + _SLACK_REL * np.abs(x)

    def _gather(self, cell_pos: np.ndarray) -> np.ndarray:
        """Pool positions (indexes into pool.persons) of the given pool cells."""
        return ranges(self.pool.starts[cell_pos], self.pool.starts[cell_pos + 1])

    def _score_all(self) -> None:
        c = self.persons
        if self.invalid.size:
            c = c[self._valid(c)]
        self._p, self._c = score_sorted(self.index, self.pos, c, self.w, self.level)
        self._complete = True

    def head(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(int(k), self.m)
        if self._complete or self._p.size >= k:
            return self._p, self._c
        if k <= 0 or self._bounds_off():
            return self._p, self._c
        pool = self.pool
        lb_cell, _ = self._cell_bounds()
        cell_low = lb_cell + pool.smin
        order = np.argsort(cell_low, kind="stable")
        sizes = np.diff(pool.starts)[order]
        csum = np.cumsum(sizes)
        # tau0: the k-th smallest lower bound among valid people, read from the cheapest cells.
        want = k
        while True:
            take = int(min(np.searchsorted(csum, want) + 1, order.size))
            idx = self._gather(order[:take])
            persons = pool.persons[idx]
            ok = self._valid(persons) if self.invalid.size else np.ones(idx.size, bool)
            if int(ok.sum()) >= k or take == order.size:
                break
            want *= 2
        lbs = (lb_cell[pool.cell_index[idx]] + pool.static[idx])[ok]
        if lbs.size < k:  # fewer valid people than asked: they are all of them
            self._score_all()
            return self._p, self._c
        tau = float(np.partition(lbs, k - 1)[k - 1]) + self.extra
        for _ in range(3):
            tau += float(self._slack(tau))
            got = self._bounded(tau, lb_cell, cell_low)
            if got is None:
                return self._p, self._c  # scored whole
            p, c = got
            if c.size >= k and c[k - 1] <= tau:
                self._pruned()
                cut = int(np.searchsorted(c, tau, side="right"))
                self._p, self._c = p[:cut], c[:cut]
                if cut == self.m:
                    self._complete = True
                return self._p, self._c
            # A loose bound: at least k scored people cost <= c[k-1], so the next round succeeds.
            tau = float(c[k - 1])
        self._score_all()
        return self._p, self._c

    def _bounded(self, tau: float, lb_cell: np.ndarray, cell_low: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray] | None:
        """Exact scores, sorted, of every valid person whose lower bound (with slack) is <= tau."""
        pool = self.pool
        near = np.flatnonzero(cell_low - self._slack(cell_low) <= tau)
        idx = self._gather(near)
        if idx.size > FULL_SHARE * pool.size:
            self._gave_up()
            self._score_all()
            return None
        lb = lb_cell[pool.cell_index[idx]] + pool.static[idx]
        idx = idx[lb - self._slack(lb) <= tau]
        persons = pool.persons[idx]
        if self.invalid.size:
            persons = persons[self._valid(persons)]
        return score_sorted(self.index, self.pos, persons, self.w, self.level)

    def max_cost(self) -> float:
        if self._max is not None:
            return self._max
        if self.m == 0:
            self._max = 0.0
            return 0.0
        if self._complete or self._bounds_off():
            self._max = float(self._c[-1])
            return self._max
        pool = self.pool
        lb_cell, ub_cell = self._cell_bounds()
        cell_high = ub_cell + pool.smax + self.extra
        cell_high = cell_high + self._slack(cell_high)
        order = np.argsort(-cell_high, kind="stable")
        sizes = np.diff(pool.starts)[order]
        csum = np.cumsum(sizes)
        want = 16
        while True:
            take = int(min(np.searchsorted(csum, want) + 1, order.size))
            idx = self._gather(order[:take])
            persons = pool.persons[idx]
            ok = self._valid(persons) if self.invalid.size else np.ones(idx.size, bool)
            if ok.any() or take == order.size:
                break
            want *= 4
        # M <= the dearest cost: the largest lower bound of a valid person.
        lbs = (lb_cell[pool.cell_index[idx]] + pool.static[idx])[ok]
        M = float(lbs.max()) - float(self._slack(lbs.max()))
        far = np.flatnonzero(cell_high >= M)
        idx = self._gather(far)
        if idx.size > FULL_SHARE * pool.size:
            self._gave_up()
            self._score_all()
            self._max = float(self._c[-1])
            return self._max
        ub = ub_cell[pool.cell_index[idx]] + pool.static[idx] + self.extra
        idx = idx[ub + self._slack(ub) >= M]
        persons = pool.persons[idx]
        if self.invalid.size:
            persons = persons[self._valid(persons)]
        self.index.scored += int(persons.size)
        cost = quantise(total_cost(cost_terms(self.index, self.pos, persons, self.w, self.level)))
        self._max = float(cost.max())
        return self._max

    def full(self) -> tuple[np.ndarray, np.ndarray]:
        if not self._complete:
            self._score_all()
        return self._p, self._c


def _member(sorted_arr: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Boolean over x: is the value in sorted_arr."""
    if sorted_arr.size == 0:
        return np.zeros(x.size, dtype=bool)
    i = np.searchsorted(sorted_arr, x)
    i[i == sorted_arr.size] = 0
    return sorted_arr[i] == x


def sort_by_cost(persons: np.ndarray, cost: np.ndarray, id_rank: np.ndarray, quantum: float) -> np.ndarray:
    """Order of persons by (cost, volunteer id): the deterministic tie-break.

    Costs are multiples of `quantum`, so (cost, id rank) packs exactly into one int64 key
    and a single argsort replaces a two-key lexsort; falls back to lexsort when it would not fit.
    """
    if cost.size == 0:
        return np.zeros(0, dtype=np.int64)
    units = np.rint(cost / quantum)
    bits = max(int(id_rank.size).bit_length(), 1)
    if float(units.max()) < 2.0 ** (62 - bits):
        key = (units.astype(np.int64) << bits) | id_rank[persons]
        return np.argsort(key, kind="stable")
    return np.lexsort((id_rank[persons], cost))
