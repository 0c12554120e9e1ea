"""Bounded scoring (matching/ranking.py): the lists it reads are exactly the heads of the fully scored lists.

The instances are built so that skipping a pair is tempting and wrong: cells whose first member is far
from the place while another member stands on it (the radius bound), cheap people in far cells and
loaded people in near ones (the static part), and pair terms (preferred skills, team, off hours, duty)
that reorder people the lower bound cannot tell apart.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from matching import Candidates, PositionSpec, Problem, Weights, solve, week_mask_epoch, week_of_day
from matching import ranking
from matching.candidates import CandidateIndex
from matching.problem import NO_EXPIRY, PARTY_MEMBER
from matching.ranking import BoundedRanking, CellTable, score_sorted
from tests.matching import _oracle as oracle
from tests.matching._builders import DAY, GRIDS, T, random_problem


@pytest.fixture
def always_bounded(monkeypatch):
    """Every pool goes through the bounds, however small, and is never scored whole as a shortcut."""
    monkeypatch.setattr(ranking, "BOUND_MIN_POOL", 0)
    monkeypatch.setattr(ranking, "FULL_SHARE", float("inf"))


def adversarial_problem(seed: int, n: int, n_pos: int, margin: int = 8) -> Problem:
    rng = np.random.default_rng(seed)
    home = rng.integers(0, len(GRIDS), n)
    ga = np.array([GRIDS[h] for h in home], dtype=np.int64).reshape(n, 5)
    micro = rng.random(n) < 0.15  # some live in one of two micro-grids of their grid
    ga[micro, 4] = 7000 + 2 * home[micro] + rng.integers(0, 2, int(micro.sum()))
    # Grid centres 0-8 km apart; people either at the centre (radius 0), scattered (a wide radius,
    # sometimes very wide), or without coordinates (tree hops).
    centre = rng.random((len(GRIDS), 2)) * 0.07
    kind = rng.choice(3, n, p=[0.4, 0.4, 0.2])
    spread = np.where(rng.random(n) < 0.1, 0.08, 0.01)
    lat = 30.0 + centre[home, 0] + np.where(kind == 1, rng.normal(0, 1, n) * spread, 0.0)
    lon = 120.0 + centre[home, 1] + np.where(kind == 1, rng.normal(0, 1, n) * spread, 0.0)
    lat[kind == 2] = np.nan
    lon[kind == 2] = np.nan
    # Heavy-tailed load: a few people carry most, so static costs range widely within a cell.
    calls = np.where(rng.random(n) < 0.3, rng.integers(0, 12, n), 0).astype(float)
    levels = np.where(rng.random((n, 4)) < 0.6, rng.integers(1, 6, (n, 4)), 0).astype(np.int8)
    expiry = np.where(rng.random((n, 4)) < 0.2, DAY + rng.integers(-3, 4, (n, 4)), NO_EXPIRY).astype(np.int32)
    bits = np.ones((n, 336), dtype=bool)
    off = rng.random(n) < 0.3
    bits[off] = rng.random((int(off.sum()), 336)) < 0.9
    ent = rng.random(n) < 0.3
    duty = np.flatnonzero(rng.random(n) < 0.3)
    n_ex = int(rng.integers(0, n // 4 + 1))
    cand = Candidates(
        ids=rng.permutation(np.arange(1000, 1000 + 3 * n))[:n], grid_ancestors=ga, lat=lat, lon=lon,
        skill_levels=levels, skill_expiry=expiry,
        identities=np.where(rng.random(n) < 0.35, PARTY_MEMBER, 0).astype(np.int32),
        callups_left=np.ones(n, np.int16) * 2, availability=bits, callups_30d=calls,
        hours_30d=rng.integers(0, 3, n) * 4.0, accepted=rng.integers(0, 3, n), declined=rng.integers(0, 2, n),
        interests=rng.integers(0, 256, n).astype(np.int32),
        paired_person=np.flatnonzero(ent), paired_grid=ga[ent, 2],
        duty_person=duty, duty_week=np.full(duty.size, week_of_day(DAY)),
        excluded_person=rng.integers(0, n, n_ex), excluded_position=rng.integers(0, n_pos, n_ex),
    )
    pos = []
    for j in range(n_pos):
        g = int(rng.integers(0, len(GRIDS)))
        h = int(rng.integers(1, 6))
        start = T + int(rng.integers(-2, 3)) * 3600
        plat, plon = ((30.0 + centre[g, 0], 120.0 + centre[g, 1]) if rng.random() < 0.8 else (np.nan, np.nan))
        pref = [(int(s), int(rng.integers(1, 4))) for s in rng.choice(4, rng.integers(0, 3), replace=False)]
        pos.append(PositionSpec(
            id=10 + j, headcount=h, place_grid_ancestors=GRIDS[g], lat=plat, lon=plon, start=start,
            end=start + 2 * 3600, shift_day=DAY, week_slots=week_mask_epoch(start, start + 3600),
            preferred_skills=pref, min_party_members=int(rng.integers(0, h + 1)) if rng.random() < 0.5 else 0,
            radius_level=int(rng.integers(0, 3)), max_radius_level=0, escalate=bool(rng.random() < 0.3),
            soft_availability=bool(rng.random() < 0.4), kind=int(rng.integers(0, 8))))
    weights = Weights(distance=float(rng.choice([0.3, 1.0, 3.0])), km_per_hop=0.5, preferred=2.0,
                      fairness=float(rng.choice([0.25, 1.0])), reliability=2.0, team=0.5, interest=0.5,
                      off_hours=2.0, duty=3.0)
    return Problem(candidates=cand, positions=pos, weights=weights, prune_margin=margin)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(20, 400))
def test_bounded_head_is_exactly_the_head_of_the_full_list(always_bounded, seed, n):
    pb = adversarial_problem(seed, n, 4)
    rng = np.random.default_rng(seed + 1)
    index = CandidateIndex(pb.candidates, pb.rest_hours * 3600.0)
    taken = np.unique(rng.integers(0, n, int(rng.integers(0, n // 3 + 1))))
    for j, pos in enumerate(pb.positions):
        w = pb.weights_for(pos.kind)
        for party_bit in (None, pb.party_bit):
            c, lvl = index.feasible(pos, j, pos.radius_level, taken)
            if party_bit is not None:
                c = c[(pb.candidates.identities[c] & party_bit) != 0]
            full_p, full_c = score_sorted(index, pos, c, w, lvl)
            for k in (1, 2, 3, 7, max(full_p.size // 2, 1), full_p.size + 5):
                ranked, level = index.ranking(pos, j, pos.radius_level, w, taken, party_bit)
                assert isinstance(ranked, BoundedRanking) and level == lvl
                assert ranked.m == full_p.size
                p, cost = ranked.head(k)
                assert p.size >= min(k, ranked.m)
                np.testing.assert_array_equal(p, full_p[:p.size])
                np.testing.assert_array_equal(cost, full_c[:p.size])
                # Reading further extends the same list.
                p2, cost2 = ranked.head(2 * k + 1)
                np.testing.assert_array_equal(p2, full_p[:p2.size])
                if full_p.size:
                    assert ranked.max_cost() == full_c[-1]


def test_bounded_head_skips_most_of_a_large_pool(always_bounded):
    """The point of the bounds: the head of a large pool is read without scoring it all (people
    registered at 200 grids, located at their grid's centre, as the application passes them)."""
    rng = np.random.default_rng(3)
    n, grids = 20_000, 200
    rows = np.array([(1, 10 + g // 50, 100 + g // 10, 1000 + g, -1) for g in range(grids)], dtype=np.int64)
    xy = rng.random((grids, 2)) * 0.1
    home = rng.integers(0, grids, n)
    cand = Candidates(ids=np.arange(n) + 1, grid_ancestors=rows[home], skill_levels=np.zeros((n, 1), np.int8),
                      lat=30 + xy[home, 0], lon=120 + xy[home, 1], callups_30d=rng.integers(0, 4, n).astype(float))
    pos = PositionSpec(id=1, headcount=5, place_grid_ancestors=tuple(rows[17]), lat=30 + xy[17, 0],
                       lon=120 + xy[17, 1], start=T, end=T + 3600, radius_level=0)
    pb = Problem(cand, [pos])
    index = CandidateIndex(cand, pb.rest_hours * 3600.0)
    ranked, _ = index.ranking(pos, 0, 0, pb.weights_for(pos.kind), np.zeros(0, np.int64))
    p, cost = ranked.head(10)
    assert p.size >= 10 and index.scored < n // 20
    full_p, full_c = score_sorted(index, pos, np.arange(n), pb.weights_for(pos.kind), 0)
    np.testing.assert_array_equal(p, full_p[:p.size])
    assert ranked.max_cost() == full_c[-1]
    assert solve(pb).total_cost == pytest.approx(float(full_c[:5].sum()))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 14), n_pos=st.integers(1, 5),
       margin=st.sampled_from([0, 1, 8]))
def test_bounded_solve_matches_dense_optimum(always_bounded, seed, n, n_pos, margin):
    pb = adversarial_problem(seed, n, n_pos, margin) if seed % 2 else random_problem(seed, n, n_pos, margin=margin)
    res = solve(pb)
    filled, total = oracle.dense_optimum(pb) if not any(p.escalate for p in pb.positions) else (None, None)
    if filled is not None:
        assert len(res.assignments) == filled
        assert abs(res.total_cost - total) < 1e-3
    for a in res.assignments:
        j = next(k for k, p in enumerate(pb.positions) if p.id == a.position_id)
        i = int(np.flatnonzero(pb.candidates.ids == a.volunteer_id)[0])
        assert abs(a.cost - oracle.cost(pb, j, i)) < 1e-4


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(50, 600), n_pos=st.integers(1, 12),
       margin=st.sampled_from([0, 2, 8]))
def test_bounded_solve_equals_fully_scored_solve(monkeypatch, seed, n, n_pos, margin):
    """Same assignments, costs, standby lists and escalation steps with and without the bounds."""
    pb = adversarial_problem(seed, n, n_pos, margin)
    monkeypatch.setattr(ranking, "BOUND_MIN_POOL", 10**9)
    full = solve(pb)
    monkeypatch.setattr(ranking, "BOUND_MIN_POOL", 0)
    monkeypatch.setattr(ranking, "FULL_SHARE", float("inf"))
    bounded = solve(pb)
    assert bounded.total_cost == full.total_cost
    assert [(a.position_id, a.volunteer_id, a.cost, a.party_slot) for a in bounded.assignments] == \
        [(a.position_id, a.volunteer_id, a.cost, a.party_slot) for a in full.assignments]
    for a, b in zip(bounded.positions, full.positions):
        assert (a.standby, a.steps, a.reasons) == (b.standby, b.steps, b.reasons)


def test_bounded_solve_equals_fully_scored_solve_on_a_district(monkeypatch):
    from bench.matching_arrays import generate_instance
    pb = generate_instance(300, 20_000, seed=5)
    monkeypatch.setattr(ranking, "BOUND_MIN_POOL", 10**9)
    full = solve(pb)
    monkeypatch.setattr(ranking, "BOUND_MIN_POOL", 0)
    bounded = solve(pb)
    assert bounded.total_cost == full.total_cost
    assert [(a.position_id, a.volunteer_id) for a in bounded.assignments] == \
        [(a.position_id, a.volunteer_id) for a in full.assignments]


def test_cell_table_groups_equal_rows_and_bounds_their_spread():
    ga = np.array([GRIDS[0], GRIDS[1], GRIDS[0], GRIDS[0], GRIDS[1]], dtype=np.int64)
    lat = np.array([30.0, 30.101, 30.0, np.nan, 30.1025])
    lon = np.array([120.0, 120.0, 120.001, np.nan, 120.0])
    cells = CellTable(ga, lat, lon)
    # (grid 0, coords): persons 0 and 2; (grid 1, coords): 1 and 4; (grid 0, none): 3.
    assert cells.n_cells == 3
    assert cells.cell_of[0] == cells.cell_of[2] != cells.cell_of[3]
    assert cells.cell_of[1] == cells.cell_of[4]
    assert sorted(cells.rep) == [0, 1, 3] and all(cells.rep[cells.cell_of[i]] <= i for i in range(5))
    assert cells.radius[cells.cell_of[0]] >= 0.096  # 0.001 degree of longitude at 30N is about 0.0963 km
    assert cells.radius[cells.cell_of[1]] >= 0.16
    assert cells.radius[cells.cell_of[3]] == 0.0


@pytest.mark.parametrize("collide", [False, True])
def test_row_groups_partition_equal_rows_even_when_hashes_collide(monkeypatch, collide):
    if collide:  # every row hashes alike: the sorted fallback must still tell rows apart
        monkeypatch.setattr(ranking, "_MIX", np.zeros(8, dtype=np.uint64))
    rng = np.random.default_rng(1)
    key = rng.integers(-1, 3, (500, 4))
    group, first = ranking._row_groups([key[:, k].copy() for k in range(4)])
    for i in range(500):
        assert first[group[i]] <= i and (key[first[group[i]]] == key[i]).all()
    assert len(first) == len({tuple(r) for r in key.tolist()})
