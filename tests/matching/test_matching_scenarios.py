"""Scenario tests with hand-known optima: greedy traps, partial fills, reasons, escalation, fairness."""
from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pytest

from matching import Candidates, PositionSpec, Problem, Weights, solve, week_mask
from matching.problem import NO_EXPIRY, PARTY_MEMBER
from tests.matching import _oracle as oracle
from tests.matching._builders import DAY, GRIDS, ONLY_DISTANCE, T, people, position

KM_PER_DEG = 6371.0088 * math.pi / 180


def chosen(res, pid=None):
    return sorted(a.volunteer_id for a in res.assignments if pid is None or a.position_id == pid)


def reason_codes(res, j=0):
    return [r.code for r in res.positions[j].reasons]


def test_solve_beats_greedy_on_distance_trap():
    # On a meridian: A at 0 km, B at 2 km; x at 0.9 km, y at -1 km. Greedy takes x->A (0.9)
    # and then y->B (3.0) = 3.9; the optimum is y->A (1.0) + x->B (1.1) = 2.1.
    lat = 30 + np.array([0.9, -1.0]) / KM_PER_DEG
    cand = people(2, ids=np.array([1, 2]), lat=lat, lon=np.full(2, 120.0))
    pa = position(1, lat=30.0, lon=120.0)
    pb = position(2, lat=30 + 2 / KM_PER_DEG, lon=120.0)
    res = solve(Problem(cand, [pa, pb], weights=ONLY_DISTANCE))
    assert {(a.position_id, a.volunteer_id) for a in res.assignments} == {(1, 2), (2, 1)}
    assert res.total_cost == pytest.approx(2.1, abs=1e-3)


def test_solve_fills_more_slots_than_greedy_when_cheapest_pick_blocks():
    # x is closest to A but is the only one with skill 0 (needed by B): optimum sends x to B.
    levels = np.zeros((2, 4), dtype=np.int8)
    levels[0, 0] = 2
    ga = np.array([GRIDS[0], GRIDS[1]])
    cand = people(2, ids=np.array([1, 2]), skill_levels=levels, grid_ancestors=ga)
    pa = position(1, grid=0, radius_level=2)
    pb = position(2, grid=1, radius_level=2, required_skills=[(0, 2)])
    res = solve(Problem(cand, [pa, pb], weights=ONLY_DISTANCE))
    assert chosen(res, 2) == [1] and chosen(res, 1) == [2]
    assert res.total_cost == pytest.approx(2 + 2)  # both cross between sibling grids: 2 hops each


def test_partial_fill_takes_all_qualified_and_names_the_skill():
    levels = np.zeros((5, 4), dtype=np.int8)
    levels[[1, 3], 1] = 3
    res = solve(Problem(people(5, skill_levels=levels), [position(headcount=3, required_skills=[(1, 3)])]))
    out = res.positions[0]
    assert (out.filled, out.unfilled) == (2, 1)
    assert chosen(res) == [20, 40]
    assert out.reasons[0].code == "no_skill"
    assert out.reasons[0].params["after"] == 2 and out.reasons[0].params["skill"] == 1
    assert out.reasons[0].params["lost"] == 3 and out.reasons[0].params["level"] == 3


def test_reasons_no_skill_names_skill_level_and_radius():
    res = solve(Problem(people(4), [position(radius_level=2, required_skills=[(3, 3)])]))
    r = res.positions[0].reasons[0]
    assert r.code == "no_skill" and r.params == {**r.params, "skill": 3, "level": 3, "radius_level": 2}
    assert (r.params["before"], r.params["lost"], r.params["after"], r.params["needed"]) == (4, 4, 0, 1)


def test_reasons_all_busy_counts_the_qualified():
    n = 7
    cand = people(n, busy_person=np.arange(n), busy_start=np.full(n, T - 3600), busy_end=np.full(n, T + 600))
    res = solve(Problem(cand, [position(headcount=2)]))
    r = res.positions[0].reasons[0]
    assert res.positions[0].filled == 0
    assert r.code == "all_busy" and r.params["before"] == 7
    assert r.params["lost"] == 7 and r.params["rest_hours"] == 12.0


def test_reasons_party_minimum_when_too_few_party_members():
    ident = np.array([PARTY_MEMBER, 0, 0, 0, 0], dtype=np.int32)
    res = solve(Problem(people(5, identities=ident), [position(headcount=3, min_party_members=2)]))
    out = res.positions[0]
    assert (out.filled, out.unfilled) == (2, 1)
    r = [x for x in out.reasons if x.code == "party_minimum"][0]
    assert r.params["needed"] == 2 and r.params["after"] == 1
    assert sum(a.party_slot for a in res.assignments) == 1


def test_reasons_cap_reached_when_no_callups_left():
    res = solve(Problem(people(4, callups_left=np.zeros(4, np.int16)), [position()]))
    r = res.positions[0].reasons[0]
    assert res.positions[0].filled == 0
    assert r.code == "cap_reached" and (r.params["before"], r.params["lost"], r.params["after"]) == (4, 4, 0)


def test_reasons_radius_when_people_live_elsewhere():
    ga = np.array([GRIDS[2]] * 3)  # other community, same street office
    res = solve(Problem(people(3, grid_ancestors=ga), [position(radius_level=2)]))
    r = res.positions[0].reasons[0]
    assert r.code == "radius" and r.params["radius_level"] == 2 and r.params["after"] == 0
    wide = solve(Problem(people(3, grid_ancestors=ga), [position(radius_level=1)]))
    assert wide.positions[0].filled == 1


def test_reasons_taken_when_competing_positions_share_one_person():
    res = solve(Problem(people(1), [position(1), position(2, start=T + 86400 * 3)]))
    assert sorted(o.filled for o in res.positions) == [0, 1]
    loser = [o for o in res.positions if o.filled == 0][0]
    assert [r.code for r in loser.reasons] == ["taken"]


def test_escalation_widens_level_by_level_and_reports_steps():
    ga = np.array([GRIDS[0], GRIDS[1], GRIDS[2], GRIDS[4]])  # grid, community, street, other street
    cand = people(4, grid_ancestors=ga)
    pos = position(headcount=4, radius_level=3, max_radius_level=1, escalate=True)
    res = solve(Problem(cand, [pos]))
    out = res.positions[0]
    assert [(s.radius_level, s.filled) for s in out.steps] == [(3, 1), (2, 1), (1, 1)]
    assert {a.volunteer_id: a.radius_level for a in res.assignments} == {10: 3, 20: 2, 30: 1}
    assert out.unfilled == 1 and out.reasons[0].code == "radius"
    fixed = solve(Problem(cand, [position(headcount=4, radius_level=3, max_radius_level=1)]))
    assert [(s.radius_level, s.filled) for s in fixed.positions[0].steps] == [(3, 1)]


def test_escalation_skips_people_assigned_in_earlier_steps():
    ga = np.array([GRIDS[0], GRIDS[1], GRIDS[2]])
    cand = people(3, grid_ancestors=ga)
    p_other = position(1, grid=1, radius_level=3, start=T + 86400 * 2)  # takes person 20 at step 0
    p_esc = position(2, headcount=2, radius_level=3, max_radius_level=1, escalate=True)
    res = solve(Problem(cand, [p_other, p_esc]))
    assert chosen(res, 1) == [20]
    assert chosen(res, 2) == [10, 30]
    assert [(s.radius_level, s.filled) for s in res.positions[1].steps] == [(3, 1), (2, 0), (1, 1)]


def test_solve_is_deterministic():
    from tests.matching._builders import random_problem
    for seed in range(5):
        a, b = solve(random_problem(seed, 12, 6)), solve(random_problem(seed, 12, 6))
        key = lambda r: [(x.position_id, x.volunteer_id, x.cost, x.party_slot) for x in r.assignments]
        assert key(a) == key(b)
        assert [o.standby for o in a.positions] == [o.standby for o in b.positions]


def test_party_minimum_takes_expensive_party_members_over_cheap_others():
    ident = np.array([0, 0, 0, PARTY_MEMBER, PARTY_MEMBER], dtype=np.int32)
    calls = np.array([0, 1, 2, 5, 6], dtype=float)  # party members are the most "used" (costly)
    cand = people(5, identities=ident, callups_30d=calls)
    res = solve(Problem(cand, [position(headcount=3, min_party_members=2)]))
    assert chosen(res) == [10, 40, 50]
    assert sorted(a.volunteer_id for a in res.assignments if a.party_slot) == [40, 50]


def test_party_members_may_fill_ordinary_slots_too():
    ident = np.array([PARTY_MEMBER, PARTY_MEMBER, 0], dtype=np.int32)
    cand = people(3, identities=ident, callups_30d=np.array([0.0, 0.0, 3.0]))
    res = solve(Problem(cand, [position(headcount=2, min_party_members=1)]))
    assert chosen(res) == [10, 20]
    assert sum(a.party_slot for a in res.assignments) == 1


@pytest.mark.parametrize("busy_end_before_start_h, rest_h, ok", [
    (6, 12, False), (13, 12, True), (0, 0, True), (-1 / 3600, 0, False), (12, 12, True)])
def test_busy_overlap_respects_rest_period(busy_end_before_start_h, rest_h, ok):
    end = T - int(busy_end_before_start_h * 3600)
    cand = people(1, busy_person=[0], busy_start=[end - 7200], busy_end=[end])
    res = solve(Problem(cand, [position()], rest_hours=rest_h))
    assert res.positions[0].filled == int(ok)


def test_busy_after_the_shift_also_needs_rest():
    cand = people(1, busy_person=[0], busy_start=[T + 2 * 3600 + 5 * 3600], busy_end=[T + 9 * 3600 + 7200])
    assert solve(Problem(cand, [position()], rest_hours=12)).positions[0].filled == 0
    assert solve(Problem(cand, [position()], rest_hours=4)).positions[0].filled == 1


@pytest.mark.parametrize("expiry, ok", [(DAY - 1, False), (DAY, True), (NO_EXPIRY, True)])
def test_certificate_expiry_on_shift_date(expiry, ok):
    levels = np.full((1, 4), 3, dtype=np.int8)
    exp = np.full((1, 4), NO_EXPIRY, dtype=np.int32)
    exp[0, 2] = expiry
    res = solve(Problem(people(1, skill_levels=levels, skill_expiry=exp), [position(required_skills=[(2, 3)])]))
    assert res.positions[0].filled == int(ok)
    if not ok:
        assert res.positions[0].reasons[0].code == "certificate_expired"


def test_fair_rotation_everyone_once_before_anyone_twice():
    n = 10
    calls, hours = np.zeros(n), np.zeros(n)
    picks = []
    for k in range(2 * n):
        cand = people(n, callups_30d=calls.copy(), hours_30d=hours.copy())
        res = solve(Problem(cand, [position(pid=k + 1)]))
        (a,) = res.assignments
        i = a.volunteer_id // 10 - 1
        picks.append(i)
        calls[i] += 1
        hours[i] += 2
    assert sorted(picks[:n]) == list(range(n))
    assert sorted(picks[n:]) == list(range(n))


def test_pruning_certificate_forces_widening_and_matches_dense():
    # Both positions' two cheapest people are the same two; with prune_margin 0 the first
    # pruned solve leaves slots open, the certificate fails and k widens.
    calls = np.array([0, 0, 1, 2, 3, 4], dtype=float)
    ga = np.array([GRIDS[0]] * 3 + [GRIDS[1]] * 3)
    cand = people(6, callups_30d=calls, grid_ancestors=ga)
    ps = [position(1, headcount=2, radius_level=2), position(2, headcount=2, grid=1, radius_level=2, start=T + 86400)]
    pb = Problem(cand, ps, prune_margin=0)
    res = solve(pb)
    st = res.stats["steps"][0]
    assert st["rounds"] >= 2 and st["widened"] >= 1
    filled, total = oracle.dense_optimum(pb)
    assert len(res.assignments) == filled == 4
    assert res.total_cost == pytest.approx(total, abs=1e-4)


def test_pruning_matches_unpruned_dense_on_district_instance():
    from bench.matching_arrays import dense_groups, generate_instance
    from matching.solver import _solve, _solve_groups
    pb = generate_instance(300, 6000, seed=3)
    pb = Problem(pb.candidates, pb.positions, prune_margin=0)
    ours = _solve(pb, _solve_groups)
    dense = _solve(pb, dense_groups)
    assert len(ours.assignments) == len(dense.assignments)
    assert ours.total_cost == pytest.approx(dense.total_cost, abs=1e-6)
    assert any(s["rounds"] > 1 for s in ours.stats["steps"])


def test_week_mask_covers_touched_half_hours_and_wraps_the_week():
    m = np.unpackbits(week_mask(datetime(2026, 1, 5, 9, 15), datetime(2026, 1, 5, 10, 0)))  # Monday
    assert list(np.flatnonzero(m)) == [18, 19]
    m = np.unpackbits(week_mask(datetime(2026, 1, 11, 23, 0), datetime(2026, 1, 12, 1, 0)))  # Sun -> Mon
    assert list(np.flatnonzero(m)) == [0, 1, 334, 335]


def test_availability_must_cover_every_shift_slot():
    bits = np.ones((2, 336), dtype=bool)
    mask = np.unpackbits(week_mask(datetime(2026, 1, 5, 9, 0), datetime(2026, 1, 5, 11, 0))).astype(bool)
    bits[0, np.flatnonzero(mask)[-1]] = False  # person 10 misses the last half hour
    pos = position(week_slots=mask)
    res = solve(Problem(people(2, availability=bits), [pos]))
    assert chosen(res) == [20]


def test_excluded_pair_is_not_asked_again():
    cand = people(2, excluded_person=[0], excluded_position=[0], callups_30d=np.array([0.0, 5.0]))
    res = solve(Problem(cand, [position()]))
    assert chosen(res) == [20]


def test_required_identities_need_every_bit():
    ident = np.array([1 << 4, (1 << 4) | (1 << 5), 1 << 5], dtype=np.int32)
    res = solve(Problem(people(3, identities=ident), [position(headcount=3, required_identities=(1 << 4) | (1 << 5))]))
    assert chosen(res) == [20]
    assert res.positions[0].reasons[0].code == "no_identity"


def test_candidates_reject_bad_shapes():
    with pytest.raises(ValueError):
        Candidates(ids=[1, 2], grid_ancestors=np.zeros((2, 4)), skill_levels=np.zeros((2, 3)))
    with pytest.raises(ValueError):
        Candidates(ids=[1, 1], grid_ancestors=np.zeros((2, 5)), skill_levels=np.zeros((2, 3)))
    with pytest.raises(ValueError):
        PositionSpec(id=1, headcount=2, place_grid_ancestors=GRIDS[0], start=T, end=T + 1, min_party_members=3)


def test_weights_per_kind_override_defaults():
    cand = people(2, lat=np.array([30.0, np.nan]), lon=np.array([120.0, np.nan]))
    pos = position(kind=3, lat=30.0, lon=120.0)
    res = solve(Problem(cand, [pos], weights={3: Weights(distance=0, fairness=0, reliability=1, team=0, interest=0)}))
    assert res.assignments[0].breakdown["distance"] == 0.0
    assert res.assignments[0].breakdown["reliability"] == pytest.approx(0.75)


def _night_shift_people(n: int, **extra):
    """n people available only on Monday 09:00-12:00; the position is Monday 03:00-05:00."""
    bits = np.zeros((n, 336), dtype=bool)
    day = np.unpackbits(week_mask(datetime(2026, 1, 5, 9, 0), datetime(2026, 1, 5, 12, 0))).astype(bool)
    bits[:, day] = True
    return people(n, availability=bits, **extra)


def _night_position(**extra):
    mask = week_mask(datetime(2026, 1, 5, 3, 0), datetime(2026, 1, 5, 5, 0))
    return position(week_slots=mask, **extra)


def test_emergency_calls_people_outside_their_hours_unless_they_opted_out():
    any_hour = np.array([True, False, True])
    cand = _night_shift_people(3, emergency_any_hour=any_hour)
    routine = solve(Problem(cand, [_night_position(headcount=3)]))
    assert chosen(routine) == [] and reason_codes(routine) == ["unavailable"]
    emergency = solve(Problem(cand, [_night_position(headcount=3, soft_availability=True)]))
    assert sorted(chosen(emergency)) == [10, 30]  # 20 chose "only in my hours"
    assert all(a.breakdown["off_hours"] > 0 for a in emergency.assignments)


def test_emergency_prefers_people_in_their_hours_then_people_on_duty():
    bits = np.zeros((3, 336), dtype=bool)
    night = np.unpackbits(week_mask(datetime(2026, 1, 5, 3, 0), datetime(2026, 1, 5, 5, 0))).astype(bool)
    bits[0, night] = True  # person 10 is available at night
    pos = _night_position(headcount=1, soft_availability=True, kind=9)
    week = pos.week
    cand = people(3, availability=bits, duty_person=[2], duty_week=[week])
    weights = {9: Weights(distance=0, fairness=0, reliability=0, team=0, interest=0, off_hours=2.0, duty=1.0)}
    res = solve(Problem(cand, [pos], weights=weights))
    assert chosen(res) == [10]  # in their hours (cost 1: not on duty) beats on duty outside hours (cost 2)
    weights = {9: Weights(distance=0, fairness=0, reliability=0, team=0, interest=0, off_hours=1.0, duty=3.0)}
    res = solve(Problem(cand, [pos], weights=weights))
    assert chosen(res) == [30]  # on duty (cost 1) beats in hours but off duty (cost 3)
    off_week = solve(Problem(people(3, availability=bits, duty_person=[2], duty_week=[week + 1]), [pos],
                             weights=weights))
    assert chosen(off_week) == [10]  # the rota of another week does not count


def test_soft_availability_matches_the_dense_oracle():
    rng = np.random.default_rng(7)
    n = 12
    bits = rng.random((n, 336)) < 0.5
    cand = people(n, availability=bits, emergency_any_hour=rng.random(n) < 0.7,
                  duty_person=[1, 4, 7], duty_week=[_night_position().week] * 3)
    positions = [_night_position(headcount=3, soft_availability=True), position(2, headcount=2)]
    pb = Problem(cand, positions)
    res = solve(pb)
    filled, best = oracle.dense_optimum(pb)
    assert len(res.assignments) == filled
    assert res.total_cost == pytest.approx(best, abs=1e-6)
    for a in res.assignments:
        j = 0 if a.position_id == positions[0].id else 1
        i = int(np.flatnonzero(cand.ids == a.volunteer_id)[0])
        assert oracle.feasible(pb, j, i)
        assert a.cost == pytest.approx(oracle.cost(pb, j, i), abs=1e-3)
