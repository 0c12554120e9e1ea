"""The visit-round assignment: exact against brute force, balanced, continuous, and never worse than greedy."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from matching.visits import VisitProblem, VisitWeights, assign_visits, assign_visits_greedy, load_spread, pair_costs


def _objective(problem: VisitProblem, visitor: np.ndarray) -> float:
    """Pair costs plus the balancing term the solver minimises, per group."""
    total = 0.0
    for group in np.unique(problem.target_group):
        targets = np.flatnonzero(problem.target_group == group)
        visitors = np.flatnonzero(problem.visitor_group == group)
        cap = math.ceil(len(targets) / len(visitors))
        base = pair_costs(problem, targets, visitors)
        column = {v: k for k, v in enumerate(visitors)}
        total += sum(base[row, column[visitor[t]]] for row, t in enumerate(targets))
        loads = np.bincount([column[visitor[t]] for t in targets], minlength=len(visitors))
        total += sum(problem.weights.balance_weight * k / cap for load in loads for k in range(load))
    return total


def _random_problem(rng, n, m, groups=1, previous=False):
    tg = rng.integers(0, groups, n)
    vg = np.concatenate([np.arange(groups), rng.integers(0, groups, m - groups)])
    prev = np.where(rng.random(n) < 0.5, rng.integers(0, m, n), -1) if previous else np.full(n, -1)
    prev = np.where(prev >= 0, prev, -1)
    # Previous and linked visitors must be of the target's group to matter; others simply never match.
    return VisitProblem(rng.uniform(0, 500, (n, 2)), tg, rng.uniform(0, 500, (m, 2)), vg, prev,
                        np.where(rng.random(n) < 0.3, rng.integers(0, m, n), -1))


@pytest.mark.parametrize("seed", range(12))
def test_visits_assignment_is_optimal_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    problem = _random_problem(rng, n=7, m=3, previous=True)
    result = assign_visits(problem)
    cap = math.ceil(7 / 3)
    best = min(_objective(problem, np.array(choice)) for choice in itertools.product(range(3), repeat=7)
               if max(np.bincount(choice, minlength=3)) <= cap)
    assert _objective(problem, result.visitor) == pytest.approx(best)


def test_visits_load_is_even_within_each_grid():
    rng = np.random.default_rng(5)
    problem = _random_problem(rng, n=400, m=20, groups=4)
    result = assign_visits(problem)
    for group in range(4):
        visitors = np.flatnonzero(problem.visitor_group == group)
        loads = [int(np.sum(result.visitor == v)) for v in visitors]
        share = np.sum(problem.target_group == group) / len(visitors)
        assert max(loads) <= math.ceil(share) and min(loads) >= 0.8 * share, loads
        assert set(np.flatnonzero(problem.target_group == group)) == set(np.flatnonzero(np.isin(result.visitor, visitors)))


def test_visits_keep_last_cycles_visitor_and_the_linked_party_member():
    xy = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    visitors = np.array([[5.0, 5.0], [5.0, 5.0]])  # equally near: only continuity and links decide
    problem = VisitProblem(xy, np.zeros(4, int), visitors, np.zeros(2, int), previous=np.array([1, 0, -1, -1]),
                           linked=np.array([-1, -1, 0, 1]))
    assert assign_visits(problem).visitor.tolist() == [1, 0, 0, 1]


def test_visits_greedy_baseline_is_never_better():
    rng = np.random.default_rng(11)
    problem = _random_problem(rng, n=600, m=30, groups=5, previous=True)
    exact, greedy = assign_visits(problem), assign_visits_greedy(problem)
    assert _objective(problem, exact.visitor) <= _objective(problem, greedy.visitor) + 1e-9
    assert load_spread(exact.visitor, 30)[1] <= load_spread(greedy.visitor, 30)[1]


def test_visits_targets_of_a_grid_without_visitors_borrow_the_nearest():
    problem = VisitProblem(np.array([[0.0, 0.0], [100.0, 0.0]]), np.array([0, 1]), np.array([[90.0, 0.0]]),
                           np.array([1]), np.full(2, -1), np.full(2, -1), VisitWeights())
    result = assign_visits(problem)
    assert result.visitor.tolist() == [0, 0] and result.borrowed == 1


def test_visits_on_threads_give_the_same_assignment():
    problem = _random_problem(np.random.default_rng(3), n=500, m=25, groups=6, previous=True)
    assert assign_visits(problem, workers=2).visitor.tolist() == assign_visits(problem).visitor.tolist()
