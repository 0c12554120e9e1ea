"""Visit-round assignment on a seeded district: the exact per-grid solver against a greedy baseline.

A district of 934 grids (the seeds' count) on 20 km x 15 km, buildings in each grid, households in the
buildings, visitors living in the grids (grid leader, grid members, linked party members, about one for
every 60 households). Two cycles are assigned: the first from nothing, the second with last cycle's
visitors and 3 % of the visitors gone, so continuity counts.

    python -m bench.visit_rounds [--households 300000] [--visitors 5000] [--grids 934] [--workers 2] [--cycles 2]

Wall seconds depend on what else the machine runs; CPU seconds are the solver's own work (with two
threads the wall time of an otherwise idle machine is about half the CPU time).
"""
from __future__ import annotations

import argparse
import time
from functools import partial

import numpy as np

from matching.visits import VisitProblem, assign_visits, assign_visits_greedy, load_spread


def seed_district(households: int, visitors: int, grids: int, seed: int):
    """Arrays of a plausible district: (target_xy, target_group, visitor_xy, visitor_group, linked)."""
    rng = np.random.default_rng(seed)
    centre = rng.uniform((0, 0), (20_000, 15_000), (grids, 2))
    share = rng.gamma(8.0, 1.0, grids)
    per_grid = np.maximum(rng.multinomial(households - grids, share / share.sum()) + 1, 1)
    group = np.repeat(np.arange(grids), per_grid)
    # Buildings of 24-ish households around the grid's centre; a household stands at its building.
    building_of = np.concatenate([rng.integers(0, max(n // 24, 1), n) for n in per_grid])
    offsets = rng.normal(0, 180, (grids, 64, 2))
    xy = centre[group] + offsets[group, np.minimum(building_of, 63)] + rng.normal(0, 5, (households, 2))
    # Visitors by households: every grid has its leader, the rest in proportion (largest remainders).
    quota = per_grid / per_grid.sum() * (visitors - grids)
    extra = np.floor(quota).astype(int)
    extra[np.argsort(extra - quota)[: visitors - grids - extra.sum()]] += 1
    vgroup = np.repeat(np.arange(grids), extra + 1)
    vxy = centre[vgroup] + rng.normal(0, 150, (visitors, 2))
    # 四级包联: about a third of the households have a linked party member among their grid's visitors.
    starts = np.concatenate([[0], np.cumsum(extra + 1)[:-1]])
    pick = starts[group] + rng.integers(0, 1 << 30, households) % (extra + 1)[group]
    linked = np.where(rng.random(households) < 0.33, pick, -1)
    return xy, group, vxy, vgroup, linked


def _row(name: str, seconds: tuple[float, float], problem: VisitProblem, visitor: np.ndarray) -> str:
    assigned = visitor >= 0
    metres = np.sqrt(((problem.target_xy[assigned] - problem.visitor_xy[visitor[assigned]]) ** 2).sum(axis=1))
    had = problem.previous >= 0
    kept = float(np.mean(visitor[had] == problem.previous[had])) if had.any() else float("nan")
    linked = problem.linked >= 0
    served = float(np.mean(visitor[linked] == problem.linked[linked]))
    least, most, spread = load_spread(visitor, len(problem.visitor_group))
    cost = _objective(problem, visitor)
    return (f"| {name} | {seconds[0]:.2f} | {seconds[1]:.2f} | {cost:,.0f} | {metres.mean():.0f} | "
            f"{'-' if np.isnan(kept) else f'{kept:.1%}'} | {served:.1%} | {least}-{most} | {spread:.1f} |")


def _objective(problem: VisitProblem, visitor: np.ndarray) -> float:
    from matching.visits import _total  # the pair costs the solvers report, without the balancing term
    return _total(problem, visitor)


def _timed(solver, problem: VisitProblem):
    """The solver's result with its (wall, CPU) seconds: CPU time is what the solver costs on a shared machine."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = solver(problem)
    return result, (time.perf_counter() - wall, time.process_time() - cpu)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=300_000)
    parser.add_argument("--visitors", type=int, default=5_000)
    parser.add_argument("--grids", type=int, default=934)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2, help="threads for the exact solver (default 2)")
    parser.add_argument("--cycles", type=int, default=2, choices=(1, 2))
    args = parser.parse_args(argv)
    xy, group, vxy, vgroup, linked = seed_district(args.households, args.visitors, args.grids, args.seed)
    header = ("| solver | wall s | CPU s | total cost | mean walk (m) | same visitor as last cycle | linked member visits |"
              " load min-max | load std |\n|---|---|---|---|---|---|---|---|---|")
    print(f"{args.households:,} households, {args.visitors:,} visitors, {args.grids} grids\n")
    first = VisitProblem(xy, group, vxy, vgroup, np.full(len(group), -1), linked)
    print("cycle 1 (no previous cycle)\n" + header)
    exact, took = _timed(partial(assign_visits, workers=args.workers), first)
    print(_row("exact (min-cost flow per grid)", took, first, exact.visitor))
    greedy, took = _timed(assign_visits_greedy, first)
    print(_row("greedy (cheapest free visitor)", took, first, greedy.visitor))
    if args.cycles == 1:
        return
    # Cycle 2: 3 % of the visitors left; their households have no previous visitor to keep.
    rng = np.random.default_rng(args.seed + 1)
    gone = rng.random(len(vgroup)) < 0.03
    previous = np.where(gone[exact.visitor], -1, exact.visitor)
    keep = np.flatnonzero(~gone)
    renumber = np.full(len(vgroup), -1)
    renumber[keep] = np.arange(len(keep))
    second = VisitProblem(xy, group, vxy[keep], vgroup[keep], np.where(previous >= 0, renumber[previous], -1),
                          np.where(linked >= 0, renumber[np.maximum(linked, 0)], -1))
    print("\ncycle 2 (last cycle's visitors, 3 % of them gone)\n" + header)
    exact2, took = _timed(partial(assign_visits, workers=args.workers), second)
    print(_row("exact (min-cost flow per grid)", took, second, exact2.visitor))
    greedy2, took = _timed(assign_visits_greedy, second)
    print(_row("greedy (cheapest free visitor)", took, second, greedy2.visitor))


if __name__ == "__main__":
    main()
