"""Do the reasons for open slots count the people lost at every gate, tell a blackout day from a busy one, and leave
the words to the application (a code and numbers, no language)?"""
from __future__ import annotations

import dataclasses

import numpy as np

from matching import Problem, Reason, solve
from tests.matching._builders import DAY, T, people, position

DAY_START = DAY * 86400 - 8 * 3600  # local midnight (UTC+8) of the shift's day


def lost_by_gate(res, j=0):
    return {r.code: r.params["lost"] for r in res.positions[j].reasons}


def test_unfilled_reasons_count_the_people_lost_at_every_gate():
    n = 10
    levels = np.zeros((n, 4), dtype=np.int8)
    levels[2:, 1] = 2  # persons 0-1 lack sign language
    cap = np.ones(n, dtype=np.int16)
    cap[2] = 0  # person 2 has no call-ups left this month
    av = np.ones((n, 336), dtype=bool)
    av[3] = False  # person 3 is never available
    busy_person = np.array([4, 5, 6])
    busy_start = np.array([DAY_START, DAY_START, T + 4 * 3600])  # 4, 5: blackout day; 6: a call-up 2 h after the shift
    busy_end = np.array([DAY_START + 86400, DAY_START + 86400, T + 6 * 3600])
    blackout = np.array([True, True, False])
    cand = people(n, skill_levels=levels, callups_left=cap, availability=av, busy_person=busy_person,
                  busy_start=busy_start, busy_end=busy_end, busy_blackout=blackout)
    res = solve(Problem(cand, [position(headcount=5, required_skills=[(1, 2)])]))
    out = res.positions[0]
    assert (out.filled, out.unfilled) == (3, 2)
    assert lost_by_gate(res) == {"no_skill": 2, "cap_reached": 1, "unavailable": 1, "blackout": 2, "all_busy": 1}
    # In funnel order, each gate counted on the people who passed the ones before it.
    assert [(r.code, r.params["before"], r.params["after"]) for r in out.reasons] == [
        ("no_skill", 10, 8), ("cap_reached", 8, 7), ("unavailable", 7, 6), ("blackout", 6, 4), ("all_busy", 4, 3)]
    # The first gate that leaves fewer people than places is the binding one.
    assert [r.code for r in out.reasons if r.params["binding"]] == ["blackout"]


def test_unfilled_reasons_blackout_day_is_not_reported_as_busy_with_rest():
    cand = people(2, busy_person=[0, 1], busy_start=[DAY_START, DAY_START], busy_end=[DAY_START + 86400] * 2,
                  busy_blackout=[True, True])
    res = solve(Problem(cand, [position(headcount=1)]))
    [reason] = res.positions[0].reasons
    assert reason.code == "blackout" and reason.params["lost"] == 2
    assert "rest_hours" not in reason.params  # the rest around a call-up is all_busy's, not a blackout's


def test_unfilled_reasons_blackout_day_needs_no_rest_around_it():
    # A blackout the day before ends at local midnight; the shift starts at 17:00, inside 12 h rest of a call-up.
    cand = people(1, busy_person=[0], busy_start=[DAY_START - 86400], busy_end=[DAY_START], busy_blackout=[True])
    early = position(start=DAY_START + 3600)  # 01:00 on the shift day
    assert solve(Problem(cand, [early], rest_hours=12)).positions[0].filled == 1
    as_callup = people(1, busy_person=[0], busy_start=[DAY_START - 86400], busy_end=[DAY_START])
    assert solve(Problem(as_callup, [early], rest_hours=12)).positions[0].filled == 0


def test_unfilled_reasons_are_a_code_and_numbers_with_the_skill_column():
    res = solve(Problem(people(3), [position(required_skills=[(1, 1)])]))
    [reason] = res.positions[0].reasons
    assert reason == Reason("no_skill", {"skill": 1, "level": 1, "before": 3, "after": 0, "lost": 3, "binding": True,
                                         "radius_level": reason.params["radius_level"], "needed": 1, "open": 1})
    assert [f.name for f in dataclasses.fields(Reason)] == ["code", "params"]
