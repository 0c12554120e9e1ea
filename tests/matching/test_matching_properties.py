"""Property tests: the matcher equals an independent optimum and never breaks a hard constraint."""
from __future__ import annotations

from collections import Counter

from hypothesis import given, settings, strategies as st

from matching import solve
from tests.matching import _oracle as oracle
from tests.matching._builders import random_problem


def check_hard_constraints(pb, res) -> None:
    ids = list(pb.candidates.ids)
    by_id = {v: i for i, v in enumerate(ids)}
    pos_by_id = {p.id: j for j, p in enumerate(pb.positions)}
    people = [a.volunteer_id for a in res.assignments]
    assert len(people) == len(set(people)), "a person got two slots"
    per_pos = Counter(a.position_id for a in res.assignments)
    party_slots = Counter(a.position_id for a in res.assignments if a.party_slot)
    for a in res.assignments:
        j, i = pos_by_id[a.position_id], by_id[a.volunteer_id]
        assert oracle.feasible(pb, j, i), (a, "infeasible")
        if a.party_slot:
            assert oracle.is_party(pb, i)
        assert abs(a.cost - oracle.cost(pb, j, i)) < 1e-4
        assert abs(sum(a.breakdown.values()) - a.cost) < 1e-4
    for j, p in enumerate(pb.positions):
        assert per_pos[p.id] <= p.headcount
        assert party_slots[p.id] <= p.min_party_members
        out = res.positions[j]
        assert out.filled == per_pos[p.id] and out.filled + out.unfilled == p.headcount
        if out.unfilled:
            assert out.reasons, "open slots need a reason"


@settings(max_examples=120, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 12), n_pos=st.integers(1, 6),
       margin=st.sampled_from([0, 1, 8]))
def test_solve_matches_dense_optimum_on_random_instances(seed, n, n_pos, margin):
    pb = random_problem(seed, n, n_pos, margin=margin)
    res = solve(pb)
    filled, total = oracle.dense_optimum(pb)
    assert len(res.assignments) == filled
    assert abs(res.total_cost - total) < 1e-3
    check_hard_constraints(pb, res)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 6), n_pos=st.integers(1, 3),
       margin=st.sampled_from([0, 8]))
def test_solve_matches_brute_force_on_tiny_instances(seed, n, n_pos, margin):
    pb = random_problem(seed, n, n_pos, margin=margin, max_head=2)
    res = solve(pb)
    filled, total = oracle.brute_optimum(pb)
    assert len(res.assignments) == filled
    assert abs(res.total_cost - total) < 1e-3
    check_hard_constraints(pb, res)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_solve_standby_is_feasible_unassigned_and_ranked(seed):
    pb = random_problem(seed, 12, 3)
    res = solve(pb)
    assigned = {a.volunteer_id for a in res.assignments}
    by_id = {v: i for i, v in enumerate(pb.candidates.ids)}
    for j, out in enumerate(res.positions):
        costs = [c for _, c in out.standby]
        assert costs == sorted(costs)
        for vid, c in out.standby:
            assert vid not in assigned
            assert oracle.feasible(pb, j, by_id[vid])
            assert abs(c - oracle.cost(pb, j, by_id[vid])) < 1e-4
