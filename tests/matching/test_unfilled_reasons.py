"""Do the reasons for open slots count the people lost at every gate, tell a blackout day from a busy one, and speak each language?"""
from __future__ import annotations

import numpy as np

from matching import Problem, solve
from tests.matching._builders import DAY, T, people, position

NAMES = {"en": ["Gas safety", "Sign language", "First aid", "Publicity"], "zh": ["燃气安全检查", "手语", "急救", "宣传"]}
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
    res = solve(Problem(cand, [position(headcount=5, required_skills=[(1, 2)])], skill_names=NAMES))
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
    assert "rest" not in reason.text and "休息" not in reason.texts["zh"]


def test_unfilled_reasons_blackout_day_needs_no_rest_around_it():
    # A blackout the day before ends at local midnight; the shift starts at 17:00, inside 12 h rest of a call-up.
    cand = people(1, busy_person=[0], busy_start=[DAY_START - 86400], busy_end=[DAY_START], busy_blackout=[True])
    early = position(start=DAY_START + 3600)  # 01:00 on the shift day
    assert solve(Problem(cand, [early], rest_hours=12)).positions[0].filled == 1
    as_callup = people(1, busy_person=[0], busy_start=[DAY_START - 86400], busy_end=[DAY_START])
    assert solve(Problem(as_callup, [early], rest_hours=12)).positions[0].filled == 0


def test_unfilled_reasons_name_skills_in_the_readers_language():
    res = solve(Problem(people(3), [position(required_skills=[(1, 1)])], skill_names=NAMES))
    [reason] = res.positions[0].reasons
    assert reason.text == "3 of 3 people lack Sign language at level 1 or above; 0 left for 1 place"
    assert reason.texts["zh"] == "3 人中有 3 人不具备“手语”1级及以上，剩 0 人，需 1 人"
    assert "sign_language" not in reason.texts["zh"] and "#1" not in reason.texts["zh"]
