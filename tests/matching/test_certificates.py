"""Is a skill that needs a certificate a hard gate: valid on the shift date, explained when it bites, still exact?"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from matching import NO_CERTIFICATE, NO_EXPIRY, Problem, solve
from tests.matching import _oracle as oracle
from tests.matching._builders import DAY, people, position, random_problem

FIRST_AID = 2


def first_aiders(expiry_days):
    """One person per expiry value, all at level 3 in first aid."""
    n = len(expiry_days)
    levels = np.zeros((n, 4), dtype=np.int8)
    levels[:, FIRST_AID] = 3
    expiry = np.full((n, 4), NO_EXPIRY, dtype=np.int32)
    expiry[:, FIRST_AID] = expiry_days
    return people(n, skill_levels=levels, skill_expiry=expiry)


def chosen(res):
    return sorted(a.volunteer_id for a in res.assignments)


@pytest.mark.parametrize("expiry, ok", [(NO_CERTIFICATE, False), (DAY - 1, False), (DAY, True), (NO_EXPIRY, True)])
def test_certificates_gate_on_the_shift_date(expiry, ok):
    res = solve(Problem(first_aiders([expiry]), [position(required_skills=[(FIRST_AID, 1)])]))
    assert res.positions[0].filled == int(ok)


def test_certificates_person_without_one_is_never_picked_even_when_cheaper():
    # Person 10 holds no certificate and is listed first (cheapest tie-break); 20 holds a valid one.
    res = solve(Problem(first_aiders([NO_CERTIFICATE, DAY + 30]), [position(headcount=2, required_skills=[(FIRST_AID, 2)])]))
    assert chosen(res) == [20]
    out = res.positions[0]
    assert out.unfilled == 1
    [reason] = [r for r in out.reasons if r.code == "no_certificate"]
    assert (reason.params["before"], reason.params["lost"], reason.params["after"]) == (2, 1, 1)
    assert reason.params["binding"] is True


def test_certificates_reason_names_the_skill_and_splits_missing_from_expired():
    cand = first_aiders([NO_CERTIFICATE, NO_CERTIFICATE, DAY - 1, DAY + 1])
    res = solve(Problem(cand, [position(headcount=3, required_skills=[(FIRST_AID, 1)])]))
    assert chosen(res) == [40]
    by_code = {r.code: r for r in res.positions[0].reasons}
    missing, expired = by_code["no_certificate"], by_code["certificate_expired"]
    assert (missing.params["lost"], expired.params["lost"]) == (2, 1)
    assert (missing.params["before"], missing.params["after"], missing.params["needed"]) == (4, 2, 3)
    assert missing.params["skill"] == expired.params["skill"] == FIRST_AID


def test_certificates_not_needed_for_preferred_scoring_only_when_held():
    # As a preferred skill, a missing certificate counts as the skill not met (costlier), not as a gate.
    res = solve(Problem(first_aiders([NO_CERTIFICATE, DAY + 5]), [position(headcount=2, preferred_skills=[(FIRST_AID, 1)])]))
    by_person = {a.volunteer_id: a.breakdown["preferred"] for a in res.assignments}
    assert by_person[10] > 0 and by_person[20] == 0


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 10), n_pos=st.integers(1, 5))
def test_certificates_solve_matches_the_oracle_with_missing_certificates(seed, n, n_pos):
    pb = random_problem(seed, n, n_pos)
    rng = np.random.default_rng(seed)
    expiry = pb.candidates.skill_expiry.copy()
    expiry[rng.random(expiry.shape) < 0.3] = NO_CERTIFICATE
    pb = dataclasses.replace(pb, candidates=dataclasses.replace(pb.candidates, skill_expiry=expiry))
    res = solve(pb)
    filled, total = oracle.dense_optimum(pb)
    assert len(res.assignments) == filled and abs(res.total_cost - total) < 1e-3
    index = {int(v): i for i, v in enumerate(pb.candidates.ids)}
    pos_of = {p.id: j for j, p in enumerate(pb.positions)}
    for a in res.assignments:
        assert oracle.feasible(pb, pos_of[a.position_id], index[a.volunteer_id])
