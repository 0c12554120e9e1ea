"""Exact recruitment: pruned sparse assignment with a dual certificate, slot expansion and radius escalation."""
from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from .candidates import CandidateIndex, Group
from .explain import explain_position
from .problem import Assignment, EscalationStep, PositionOutcome, Problem, Result
from .ranking import Ranking, ScoredRanking
from .scoring import QUANTUM, cost_terms, quantise

_EXACT_LIMIT = 2.0 ** 50  # keep every (quantised) sum below 2**53 quanta: float64 stays exact


class CertificateError(RuntimeError):
    """The dual propagation did not converge: the sparse solver's answer was not optimal."""


def solve(problem: Problem) -> Result:
    """Recruit best-fit volunteers for every position. A person fills at most one slot per solve.

    Per escalation step, slots are filled to the maximum number possible and, among maximum
    fillings, at least total cost; the answer is exact for the full candidate set (see
    `_solve_groups`). Escalating positions then widen one radius level for their open slots,
    excluding everyone already assigned.
    """
    return _solve(problem, _solve_groups)


GroupSolver = Callable[[list[Group], np.ndarray, int], tuple[list[tuple[np.ndarray, np.ndarray]], dict[str, Any]]]


def _solve(problem: Problem, group_solver: GroupSolver) -> Result:
    """The step loop of `solve` with a pluggable per-step group solver (benchmarks swap it)."""
    t_start = time.perf_counter()
    cand = problem.candidates
    P = len(problem.positions)
    stats: dict[str, Any] = {"volunteers": cand.n, "positions": P,
                             "slots": int(sum(p.headcount for p in problem.positions)),
                             "steps": [], "time": {}}
    t = time.perf_counter()
    index = CandidateIndex(cand, problem.rest_hours * 3600.0)
    stats["time"]["index"] = time.perf_counter() - t

    party_open = np.array([p.min_party_members for p in problem.positions], dtype=np.int64)
    ord_open = np.array([p.headcount - p.min_party_members for p in problem.positions], dtype=np.int64)
    # Effective radius levels each position will try, narrowest first.
    plans: list[list[int]] = []
    for p in problem.positions:
        first = min(p.radius_level, p.place_level)
        last = min(p.max_radius_level, first) if p.escalate else first
        plans.append(list(range(first, last - 1, -1)))
    taken_list: list[np.ndarray] = []
    taken = np.zeros(0, dtype=np.int64)
    assigned: list[tuple[int, int, float, int, bool]] = []  # (pos, person, cost, level, party)
    steps: list[list[EscalationStep]] = [[] for _ in range(P)]
    last_pool: dict[int, tuple[Ranking, int]] = {}
    t_cand = t_solve = 0.0

    step = 0
    while True:
        todo = [j for j in range(P) if step < len(plans[j])
                and (step == 0 or party_open[j] + ord_open[j] > 0)]
        if not todo:
            break
        groups: list[Group] = []
        for j in todo:
            pos = problem.positions[j]
            w = problem.weights_for(pos.kind)
            t = time.perf_counter()
            # Rankings score lazily: only as far as the group solver reads them (ranking.py).
            ranked, level = index.ranking(pos, j, plans[j][step], w, taken)
            last_pool[j] = (ranked, level)
            if ord_open[j] > 0:
                groups.append(Group(j, False, int(ord_open[j]), level, ranked))
            if party_open[j] > 0:
                if isinstance(ranked, ScoredRanking):  # already scored: keep the party members, in order
                    is_party = (cand.identities[ranked.persons] & problem.party_bit) != 0
                    party = ScoredRanking(ranked.persons[is_party], ranked.cost[is_party])
                else:
                    party, _ = index.ranking(pos, j, plans[j][step], w, taken, problem.party_bit)
                groups.append(Group(j, True, int(party_open[j]), level, party))
            t_cand += time.perf_counter() - t
        t = time.perf_counter()
        matched, st = group_solver(groups, cand.ids, problem.prune_margin)
        t_solve += time.perf_counter() - t
        st["step"] = step
        stats["steps"].append(st)
        filled_now: dict[int, int] = {}
        for g, (persons, costs) in zip(groups, matched):
            for person, cst in zip(persons.tolist(), costs.tolist()):
                assigned.append((g.pos_index, person, cst, g.radius_level, g.party))
            if g.party:
                party_open[g.pos_index] -= persons.size
            else:
                ord_open[g.pos_index] -= persons.size
            filled_now[g.pos_index] = filled_now.get(g.pos_index, 0) + int(persons.size)
            if persons.size:
                taken_list.append(persons)
        for j in todo:
            steps[j].append(EscalationStep(plans[j][step], filled_now.get(j, 0)))
        taken = np.concatenate(taken_list) if taken_list else taken
        step += 1

    t = time.perf_counter()
    # Breakdowns are recomputed for the chosen people only: storing terms for every
    # candidate would cost memory proportional to all candidate lists.
    by_pos: dict[int, list[int]] = {}
    for k, a in enumerate(assigned):
        by_pos.setdefault(a[0], []).append(k)
    breakdowns: dict[int, dict[str, float]] = {}
    for j, ks in by_pos.items():
        pos = problem.positions[j]
        persons = np.array([assigned[k][1] for k in ks], dtype=np.int64)
        terms = cost_terms(index, pos, persons, problem.weights_for(pos.kind))
        for r, k in enumerate(ks):
            breakdowns[k] = {name: float(v[r]) for name, v in terms.items()}
    assignments = [Assignment(problem.positions[j].id, int(cand.ids[person]), cst, breakdowns[k], lvl, party)
                   for k, (j, person, cst, lvl, party) in enumerate(assigned)]
    assignments.sort(key=lambda a: (a.position_id, not a.party_slot, a.cost, a.volunteer_id))

    outcomes: list[PositionOutcome] = []
    for j, pos in enumerate(problem.positions):
        filled = sum(s.filled for s in steps[j])
        out = PositionOutcome(pos.id, pos.headcount, filled, pos.headcount - filled, steps=steps[j])
        if j in last_pool and problem.standby_size:
            ranked, _ = last_pool[j]
            k = 2 * problem.standby_size + 16
            while True:
                c, cost = ranked.head(k)
                free = ~index.marked_in(c, taken)
                if int(free.sum()) >= problem.standby_size or c.size >= ranked.m:
                    break
                k = max(4 * k, c.size + 1)
            sc, scost = c[free][:problem.standby_size], cost[free][:problem.standby_size]
            out.standby = [(int(cand.ids[p]), float(x)) for p, x in zip(sc, scost)]
        if out.unfilled > 0:
            mine = np.array([a[1] for a in assigned if a[0] == j], dtype=np.int64)
            others = index.drop_marked(taken, mine) if mine.size else taken
            level = plans[j][min(len(steps[j]), len(plans[j])) - 1] if steps[j] else plans[j][0]
            out.reasons = explain_position(index, pos, j, level, others, int(party_open[j]),
                                           int(ord_open[j]), problem.party_bit, problem.rest_hours)
        outcomes.append(out)
    stats["time"]["explain"] = time.perf_counter() - t
    stats["time"].update(candidates=t_cand, solve=t_solve, total=time.perf_counter() - t_start)
    # Pairs scored exactly (the rest were bounded out), of all feasible pairs the steps offered.
    stats["scored"] = index.scored
    stats["filled"] = len(assignments)
    total = float(sum(a.cost for a in assignments))
    return Result(assignments, outcomes, total, stats)


def _solve_groups(groups: list[Group], ids: np.ndarray, margin: int
                  ) -> tuple[list[tuple[np.ndarray, np.ndarray]], dict[str, Any]]:
    """Exact max-fill, min-cost assignment of the groups' slots, solved on pruned candidate lists.

    The full problem: every slot s of group g may take any person p of g's list at cost
    c_g(p), or its own dummy at cost BIG > S * max cost (so filling a slot always wins).
    We solve it on each group's `keep` cheapest candidates only, then prove the answer
    optimal for the full lists with LP duality: dual variables u_s (slots) and w_p >= 0
    (persons) with u_s - w_p <= c_g(p) on every edge certify optimality. We take the
    smallest such duals consistent with the pruned optimum (least fixed point of the
    complementary-slackness difference constraints, computed below). Any excluded edge
    (s, p) has c_g(p) >= t_g (the cheapest excluded cost of g) and w_p >= 0, so if
    A_g = max_s u_s <= t_g the duals are feasible for the full problem too and the pruned
    optimum is a full optimum. Otherwise g keeps more candidates and we re-solve.
    """
    res: list[tuple[np.ndarray, np.ndarray]] = [(np.zeros(0, np.int64), np.zeros(0))] * len(groups)
    live = [i for i, g in enumerate(groups) if g.slots > 0 and g.m > 0]
    st: dict[str, Any] = {"groups": len(groups), "slots": int(sum(g.slots for g in groups)),
                          "candidates": int(sum(g.m for g in groups)), "rounds": 0, "widened": 0,
                          "edges": 0, "dual_iterations": 0}
    if not live:
        return res, st
    G = [groups[i] for i in live]
    slots = np.array([g.slots for g in G], dtype=np.int64)
    S = int(slots.sum())
    for g in G:
        g.keep = int(min(g.m, g.slots + margin))
        g.ranked.head(g.keep + 1)  # lazy rankings learn first whether their bounds prune
    maxc = max(g.ranked.max_cost() for g in G)  # the dearest candidate of any group
    big = (maxc + 1.0) * (S + 1)
    q = QUANTUM
    while (big + 1.0) * (S + 1) / q > _EXACT_LIMIT:
        q *= 2.0
    big = float(quantise(np.array(big), q)) + q
    m = [g.m for g in G]
    # The head of each group's ranked list read so far: persons and costs (quantised at q).
    heads: list[tuple[np.ndarray, np.ndarray]] = [(np.zeros(0, np.int64), np.zeros(0))] * len(G)

    def read(i: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """At least the first min(k, m) candidates of group i."""
        if heads[i][0].size < min(k, m[i]):
            p, c = G[i].ranked.head(k)
            heads[i] = (p, c if q == QUANTUM else quantise(c, q))
        return heads[i]

    row_start = np.concatenate(([0], np.cumsum(slots)[:-1]))

    while True:
        st["rounds"] += 1
        # Each kept list plus the next candidate, whose cost is the certificate's threshold.
        for i, g in enumerate(G):
            read(i, g.keep + 1)
        keep = np.array([g.keep for g in G], dtype=np.int64)
        ge_g = np.repeat(np.arange(len(G)), keep)
        ge_p = np.concatenate([heads[i][0][:g.keep] for i, g in enumerate(G)])
        ge_c = np.concatenate([heads[i][1][:g.keep] for i, g in enumerate(G)])
        # Columns ordered by volunteer id so the solver's tie handling follows ids.
        us = np.unique(ge_p)
        id_order = np.argsort(ids[us], kind="stable")
        uniq = us[id_order]
        colpos = np.empty(us.size, dtype=np.int64)
        colpos[id_order] = np.arange(us.size)
        ge_col = colpos[np.searchsorted(us, ge_p)]
        n_cols = uniq.size
        # Expand group edges to slot edges: every slot of g shares g's candidate row.
        rep = slots[ge_g]
        tot = int(rep.sum())
        first = np.repeat(np.cumsum(rep) - rep, rep)
        rows = np.repeat(row_start[ge_g], rep) + (np.arange(tot) - first)
        cols = np.repeat(ge_col, rep)
        data = np.repeat(ge_c, rep) + 1.0  # +1: the solver treats stored zeros as non-edges
        rows = np.concatenate((rows, np.arange(S)))
        cols = np.concatenate((cols, n_cols + np.arange(S)))
        data = np.concatenate((data, np.full(S, big + 1.0)))
        graph = csr_matrix((data, (rows, cols)), shape=(S, n_cols + S))
        st["edges"] = int(graph.nnz)
        r_idx, c_idx = min_weight_full_bipartite_matching(graph)
        col_of_row = np.empty(S, dtype=np.int64)
        col_of_row[r_idx] = c_idx
        matched = col_of_row < n_cols
        row_cost = np.asarray(graph[np.arange(S), col_of_row]).ravel() - 1.0

        # Least dual solution: w_p >= u_s - c_g(p) for p kept by g, u_s = c + w of s's partner.
        order = np.argsort(ge_col, kind="stable")
        col_sorted = ge_col[order]
        col_starts = np.flatnonzero(np.r_[True, col_sorted[1:] != col_sorted[:-1]])
        present = col_sorted[col_starts]
        w = np.zeros(n_cols)
        mcol = np.where(matched, col_of_row, 0)
        for it in range(S + n_cols + 2):
            u = np.where(matched, row_cost + w[mcol], big)
            A = np.maximum.reduceat(u, row_start)
            lb = (A[ge_g] - ge_c)[order]
            w_new = np.zeros(n_cols)
            w_new[present] = np.maximum(np.maximum.reduceat(lb, col_starts), 0.0)
            if np.array_equal(w_new, w):
                break
            w = w_new
        else:
            raise CertificateError("dual propagation did not converge")
        st["dual_iterations"] += it + 1
        used = np.zeros(n_cols, dtype=bool)
        used[col_of_row[matched]] = True
        # Sanity: complementary slackness of the pruned optimum (free people and unused
        # dummies carry zero duals). Only a non-optimal sparse answer could trip these.
        if np.any(w[~used] > 0) or np.any(u[matched] > big):
            raise CertificateError("pruned assignment is not optimal (dual check failed)")
        t_g = np.array([heads[i][1][g.keep] if g.keep < g.m else np.inf for i, g in enumerate(G)])
        fail = np.flatnonzero(A > t_g)
        if fail.size == 0:
            break
        st["widened"] += int(fail.size)
        for i in fail:
            g = G[i]
            costs = heads[i][1]
            need = int(np.searchsorted(costs, A[i], side="right"))
            if need >= costs.size and costs.size < g.m:
                # Only min(need + slots, 4 * keep) matters below: read that far.
                costs = read(i, 4 * g.keep)[1]
                need = int(np.searchsorted(costs, A[i], side="right"))
            # Grow geometrically (2x-4x): a slot left on its dummy has a huge dual, and taking
            # every candidate below it would keep the whole district (measured: 5.2M of 51M
            # candidates kept, 31 s, at 10,000 slots x 1M people). The check repeats each round.
            g.keep = int(min(g.m, max(2 * g.keep, min(need + g.slots, 4 * g.keep))))

    person_of_col = uniq
    for gi, i in enumerate(live):
        r0, r1 = row_start[gi], row_start[gi] + slots[gi]
        mm = matched[r0:r1]
        persons = person_of_col[col_of_row[r0:r1][mm]]
        cst = row_cost[r0:r1][mm]
        o = np.lexsort((ids[persons], cst))
        res[i] = (persons[o], cst[o])
    st["kept"] = int(sum(g.keep for g in G))
    return res, st

