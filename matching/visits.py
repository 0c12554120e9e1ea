"""Visit rounds (循环走访): every target to one visitor, exact per group, balancing load and keeping continuity.

The cost of target i visited by visitor j is

    distance_weight * |xy_i - xy_j|            (metres walked from the visitor's area)
  + change_cost      if target i had another visitor last cycle (stay with the same face)
  - linked_bonus     if visitor j is the household's linked party member (四级包联)

and load is balanced by giving every visitor ``cap = ceil(targets / visitors)`` numbered slots whose
cost rises with the slot number (``balance_weight * k / cap``): an exact linear assignment
(``scipy.optimize.linear_sum_assignment``) over targets × slots fills the cheapest slots, so nobody gets
slot k+1 while someone else could take slot k for less. Groups (grids) are solved independently, which
keeps every problem a few hundred rows wide at district scale. The same optimum is found as a min-cost flow
(targets → visitors → slots) by cancelling negative cycles of its residual graph contracted to the group's
few visitors (``_flow_assign``); the dense assignment over the expanded slots remains the fallback. Targets of a group without visitors go to
the nearest visitor anywhere (reported as ``borrowed``).
"""
from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree


@dataclass(frozen=True)
class VisitWeights:
    distance_weight: float = 0.01   # per metre: 100 m cost 1
    change_cost: float = 3.0
    linked_bonus: float = 2.0
    balance_weight: float = 1.0


@dataclass(frozen=True)
class VisitProblem:
    """Plain arrays: ``target_xy`` (n, 2) metres, ``target_group`` (n,), ``visitor_xy`` (m, 2),
    ``visitor_group`` (m,), ``previous`` and ``linked`` (n,) visitor indices or -1."""

    target_xy: np.ndarray
    target_group: np.ndarray
    visitor_xy: np.ndarray
    visitor_group: np.ndarray
    previous: np.ndarray
    linked: np.ndarray
    weights: VisitWeights = field(default_factory=VisitWeights)


@dataclass(frozen=True)
class VisitResult:
    visitor: np.ndarray        # (n,) visitor index per target, -1 when there is no visitor at all
    cost: float                # total pair cost (distance, change, linked), without the balancing term
    borrowed: int              # targets given to a visitor of another group


def pair_costs(problem: VisitProblem, targets: np.ndarray, visitors: np.ndarray) -> np.ndarray:
    """(len(targets), len(visitors)) cost matrix of the pairs, without the balancing term."""
    w = problem.weights
    diff = problem.target_xy[targets, None, :] - problem.visitor_xy[None, visitors, :]
    cost = w.distance_weight * np.sqrt((diff ** 2).sum(axis=2))
    previous = problem.previous[targets]
    had = previous >= 0
    cost += np.where(had[:, None] & (previous[:, None] != visitors[None, :]), w.change_cost, 0.0)
    cost -= np.where(problem.linked[targets][:, None] == visitors[None, :], w.linked_bonus, 0.0)
    return cost


def _groups(problem: VisitProblem):
    t_order = np.argsort(problem.target_group, kind="stable")
    v_order = np.argsort(problem.visitor_group, kind="stable")
    t_keys, t_starts = np.unique(problem.target_group[t_order], return_index=True)
    v_keys, v_starts = np.unique(problem.visitor_group[v_order], return_index=True)
    t_bounds = dict(zip(t_keys.tolist(), zip(t_starts.tolist(), list(t_starts[1:]) + [len(t_order)])))
    v_bounds = dict(zip(v_keys.tolist(), zip(v_starts.tolist(), list(v_starts[1:]) + [len(v_order)])))
    for key, (a, b) in t_bounds.items():
        targets = t_order[a:b]
        va, vb = v_bounds.get(key, (0, 0))
        yield targets, v_order[va:vb]


def _borrow(problem: VisitProblem, orphans: list[np.ndarray], visitor: np.ndarray) -> int:
    if not orphans or len(problem.visitor_xy) == 0:
        return 0
    targets = np.concatenate(orphans)
    _, nearest = cKDTree(problem.visitor_xy).query(problem.target_xy[targets])
    visitor[targets] = nearest
    return len(targets)


def _total(problem: VisitProblem, visitor: np.ndarray) -> float:
    assigned = np.flatnonzero(visitor >= 0)
    if len(assigned) == 0:
        return 0.0
    w = problem.weights
    chosen = visitor[assigned]
    cost = w.distance_weight * np.sqrt(((problem.target_xy[assigned] - problem.visitor_xy[chosen]) ** 2).sum(axis=1))
    previous = problem.previous[assigned]
    cost += np.where((previous >= 0) & (previous != chosen), w.change_cost, 0.0)
    cost -= np.where(problem.linked[assigned] == chosen, w.linked_bonus, 0.0)
    return float(cost.sum())


def _slot_prices(base: np.ndarray, slots: np.ndarray, sweeps: int) -> np.ndarray:
    """A warm start only: per visitor a price at which the targets that prefer them (at the other visitors'
    prices) about match the slots worth opening at that price. Jacobi sweeps; exactness comes later."""
    n, m = base.shape
    cap = len(slots)
    price = np.zeros(m)
    below = np.concatenate([[-np.inf], slots, [np.inf]])   # below[c] = slot c-1's cost
    cols = np.arange(m)
    pad_top, pad_bottom = np.full((1, m), np.inf), np.full((1, m), -np.inf)
    for _ in range(sweeps):
        priced = base + price
        part = np.partition(priced, 1, axis=1)
        best, second = part[:, :1], part[:, 1:2]
        rivals = np.where(priced == best, second, best)        # the cheapest other visitor per target
        want = np.concatenate([pad_top, -np.sort(base - rivals, axis=0), pad_bottom])  # descending, padded
        k = min(n, cap)
        taken = (want[1:k + 1] > slots[:k, None]).sum(axis=0)   # the c-th keenest target still pays slot c-1
        lo = np.maximum(below[taken], want[taken + 1, cols])
        hi = np.minimum(want[taken, cols], below[taken + 1])
        price = np.where(np.isfinite(lo), np.where(np.isfinite(hi), (lo + hi) / 2, lo), np.where(np.isfinite(hi), hi, 0.0))
    return price


def _negative_cycle(weight: np.ndarray, tol: float) -> list[int] | None:
    """A negative cycle of the small dense graph ``weight`` (inf = no edge) as a closed node list, or None
    when there is none (Bellman-Ford from a virtual source; a cycle of the predecessor graph is negative)."""
    v = len(weight)
    dist = np.zeros(v)
    pred = np.full(v + 1, v)
    nodes = np.arange(v)
    for rnd in range(3 * v):
        cand = dist[:, None] + weight
        via = cand.argmin(axis=0)
        new = cand[via, nodes]
        better = new < dist - tol
        if not better.any():
            return None
        dist[better] = new[better]
        pred[:v][better] = via[better]
        if rnd >= v - 2:
            end = nodes
            for _ in range(v):
                end = pred[end]
            inside = end[end < v]
            if len(inside):
                x = int(inside[0])
                cycle, z = [x], int(pred[x])
                while z != x:
                    cycle.append(z)
                    z = int(pred[z])
                cycle.reverse()
                cycle.append(cycle[0])
                if sum(weight[a, b] for a, b in zip(cycle[:-1], cycle[1:])) < -tol:
                    return cycle
    raise _NoCertificate


class _NoCertificate(Exception):
    """Bellman-Ford did not settle: the caller falls back to the dense assignment."""


def _flow_assign(base: np.ndarray, cap: int, balance: float, sweeps: int = 20) -> np.ndarray:
    """Column (visitor) per row of the optimal targets × slots assignment, as a min-cost flow over targets →
    visitors → slots. A warm start (prices, then each target to its cheapest priced visitor, loads over
    ``cap`` allowed at a prohibitive cost) is improved by cancelling negative cycles of the residual graph
    contracted to the visitors plus the sink: an edge i → j costs the cheapest move of one of i's targets to
    j, i → sink the next slot of i, sink → i minus i's last used slot. With no negative cycle left the flow
    is optimal (the Bellman-Ford distances are the dual certificate), so the total equals the dense
    ``linear_sum_assignment`` over the expanded slots."""
    n, m = base.shape
    slots = balance * np.arange(cap) / cap
    choice = np.argmin(base + _slot_prices(base, slots, sweeps), axis=1)
    load = np.bincount(choice, minlength=m)
    big = (m + 1) * (float(np.ptp(base)) + balance + 1.0)
    ladder = np.concatenate([slots, big * np.arange(1, n - cap + 2)])  # slot costs; overload is prohibitive
    tol = 1e-9 * max(1.0, float(np.abs(base).max()) + balance)
    weight = np.full((m + 1, m + 1), np.inf)
    mover = np.zeros((m, m), dtype=np.int64)
    dirty = range(m)
    while True:
        for i in dirty:
            rows = np.flatnonzero(choice == i)
            if len(rows) == 0:
                weight[i, :m] = np.inf
                continue
            delta = base[rows] - base[rows, i][:, None]
            pick = delta.argmin(axis=0)
            weight[i, :m] = delta[pick, np.arange(m)]
            weight[i, i] = np.inf
            mover[i] = rows[pick]
        weight[:m, m] = ladder[load]
        weight[m, :m] = np.where(load > 0, -ladder[np.maximum(load - 1, 0)], np.inf)
        cycle = _negative_cycle(weight, tol)
        if cycle is None:
            return choice
        moves = [(mover[a, b], b) for a, b in zip(cycle[:-1], cycle[1:]) if a < m and b < m]
        for a, b in zip(cycle[:-1], cycle[1:]):
            if a == m:
                load[b] -= 1
            elif b == m:
                load[a] += 1
        for row, to in moves:
            choice[row] = to
        dirty = {a for a in cycle if a < m} | {b for a, b in zip(cycle[:-1], cycle[1:]) if a < m and b < m}


def _solve_group(problem: VisitProblem, targets: np.ndarray, visitors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    cap = math.ceil(len(targets) / len(visitors))
    base = pair_costs(problem, targets, visitors)
    balance = problem.weights.balance_weight
    if len(visitors) == 1:
        return targets, np.repeat(visitors, len(targets))
    if balance >= 0 and balance >= 0:
        try:
            return targets, visitors[_flow_assign(base, cap, balance)]
        except _NoCertificate:
            pass
    slots = balance * np.arange(cap) / cap
    matrix = np.repeat(base, cap, axis=1) + np.tile(slots, len(visitors))[None, :]
    rows, cols = linear_sum_assignment(matrix)
    return targets[rows], visitors[cols // cap]


def assign_visits(problem: VisitProblem, *, workers: int = 1) -> VisitResult:
    """The exact per-group assignment described in the module docstring. ``workers`` > 1 solves groups on
    that many threads (the solver releases the GIL while it works)."""
    n = len(problem.target_group)
    visitor = np.full(n, -1, dtype=np.int64)
    orphans, jobs = [], []
    for targets, visitors in _groups(problem):
        if len(visitors) == 0:
            orphans.append(targets)
        else:
            jobs.append((targets, visitors))
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            solved = list(pool.map(lambda job: _solve_group(problem, *job), jobs))
    else:
        solved = [_solve_group(problem, *job) for job in jobs]
    for rows, chosen in solved:
        visitor[rows] = chosen
    borrowed = _borrow(problem, orphans, visitor)
    return VisitResult(visitor=visitor, cost=_total(problem, visitor), borrowed=borrowed)


def assign_visits_greedy(problem: VisitProblem) -> VisitResult:
    """The baseline: each target in turn to its cheapest visitor of the group with a free slot (same caps)."""
    n = len(problem.target_group)
    visitor = np.full(n, -1, dtype=np.int64)
    orphans = []
    for targets, visitors in _groups(problem):
        if len(visitors) == 0:
            orphans.append(targets)
            continue
        cap = math.ceil(len(targets) / len(visitors))
        base = pair_costs(problem, targets, visitors)
        load = np.zeros(len(visitors), dtype=np.int64)
        for row in range(len(targets)):
            costs = np.where(load < cap, base[row], np.inf)
            j = int(np.argmin(costs))
            load[j] += 1
            visitor[targets[row]] = visitors[j]
    borrowed = _borrow(problem, orphans, visitor)
    return VisitResult(visitor=visitor, cost=_total(problem, visitor), borrowed=borrowed)


def load_spread(visitor: np.ndarray, visitors: int) -> tuple[int, int, float]:
    """(fewest, most, standard deviation) of targets per visitor."""
    loads = np.bincount(visitor[visitor >= 0], minlength=visitors)
    return int(loads.min()) if visitors else 0, int(loads.max()) if visitors else 0, float(loads.std())
