"""Array-level benchmark of the matcher: pruned exact solve vs dense linear_sum_assignment vs greedy."""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from matching import Candidates, PositionSpec, Problem, Result, solve
from matching.candidates import Group
from matching.problem import (DOCTOR, ENTERPRISE_TEAM, MASK_BYTES, NO_EXPIRY, PARTY_MEMBER,
                              RESIDENT_VOLUNTEER, SUNK_DOWN_CADRE, WEEK_SLOTS)
from matching.solver import _solve

N_STREETS, N_COMMUNITIES, N_GRIDS, N_SKILLS = 14, 157, 934, 30
T0 = 1_767_225_600 - 8 * 3600  # 2026-01-01 00:00 in UTC+8 (a Thursday)
DAY0 = (T0 + 8 * 3600) // 86400


def _tree(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(grid -> (street, community)) and grid centres for a district of 14/157/934 units."""
    comm_street = np.sort(np.concatenate((np.arange(N_STREETS), rng.integers(0, N_STREETS, N_COMMUNITIES - N_STREETS))))
    grid_comm = np.sort(np.concatenate((np.arange(N_COMMUNITIES), rng.integers(0, N_COMMUNITIES, N_GRIDS - N_COMMUNITIES))))
    street_xy = rng.normal(0, 4.0, (N_STREETS, 2))  # km around the district centre
    comm_xy = street_xy[comm_street] + rng.normal(0, 1.0, (N_COMMUNITIES, 2))
    grid_xy = comm_xy[grid_comm] + rng.normal(0, 0.3, (N_GRIDS, 2))
    anc = np.stack([np.ones(N_GRIDS, np.int64), 100 + comm_street[grid_comm], 1000 + grid_comm,
                    10000 + np.arange(N_GRIDS)], axis=1)
    return anc, grid_xy


def _km_to_latlon(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return 30.27 + xy[..., 1] / 111.0, 120.15 + xy[..., 0] / (111.0 * np.cos(np.radians(30.27)))


def _templates() -> np.ndarray:
    """Weekly availability patterns, packed: evenings, weekends, retirees' daytime, always, mornings."""
    t = np.zeros((5, WEEK_SLOTS), dtype=bool)
    for d in range(5):
        t[0, d * 48 + 36:d * 48 + 44] = True  # weekday 18:00-22:00
    for d in (5, 6):
        t[1, d * 48 + 16:d * 48 + 36] = True  # weekend 08:00-18:00
    for d in range(7):
        t[2, d * 48 + 16:d * 48 + 34] = True  # daily 08:00-17:00
        t[4, d * 48 + 14:d * 48 + 24] = True  # daily 07:00-12:00
    t[3] = True
    return np.packbits(t, axis=1)


def generate_instance(slots: int, volunteers: int, seed: int = 0) -> Problem:
    """A realistic district: 14 street offices, 157 communities, 934 grids (+ micro-grids)."""
    rng = np.random.default_rng(seed)
    n = volunteers
    anc_g, grid_xy = _tree(rng)
    home = rng.integers(0, N_GRIDS, n)
    ga = np.full((n, 5), -1, dtype=np.int64)
    ga[:, :4] = anc_g[home]
    micro = rng.random(n) < 0.3
    ga[micro, 4] = 100000 + home[micro] * 4 + rng.integers(0, 4, micro.sum())
    xy = grid_xy[home] + rng.normal(0, 0.3, (n, 2))
    lat, lon = _km_to_latlon(xy)
    nocoord = rng.random(n) < 0.4
    lat[nocoord] = np.nan
    lon[nocoord] = np.nan
    # Skills: a few per person, popular ones more common (Zipf-like), levels skewed low.
    levels = np.zeros((n, N_SKILLS), dtype=np.int8)
    expiry = np.full((n, N_SKILLS), NO_EXPIRY, dtype=np.int32)
    pop = 1.0 / np.arange(1, N_SKILLS + 1)
    pop /= pop.sum()
    k = rng.poisson(1.5, n).clip(0, 6)
    rows = np.repeat(np.arange(n), k)
    cols = rng.choice(N_SKILLS, rows.size, p=pop)
    levels[rows, cols] = rng.choice([1, 2, 3, 4, 5], rows.size, p=[.35, .3, .2, .1, .05])
    cert = rng.random(rows.size) < 0.3
    expiry[rows[cert], cols[cert]] = DAY0 + rng.integers(-200, 700, cert.sum())
    ident = np.zeros(n, dtype=np.int32)
    for bit, p in ((PARTY_MEMBER, .2), (RESIDENT_VOLUNTEER, .6), (SUNK_DOWN_CADRE, .03), (1 << 3, .01),
                   (DOCTOR, .02), (1 << 5, .05), (1 << 6, .03), (ENTERPRISE_TEAM, .1)):
        ident |= np.where(rng.random(n) < p, bit, 0).astype(np.int32)
    tmpl = _templates()
    avail = tmpl[rng.choice(5, n, p=[.35, .25, .2, .1, .1])]
    busy_mask = rng.random(n) < 0.2
    bp = np.flatnonzero(busy_mask)
    bs = T0 + rng.integers(0, 7 * 48, bp.size) * 1800
    be = bs + rng.integers(2, 9, bp.size) * 1800
    bl = np.flatnonzero(rng.random(n) < 0.02)  # blackout days
    bls = T0 + rng.integers(0, 7, bl.size) * 86400
    busy_p, busy_s, busy_e = np.concatenate((bp, bl)), np.concatenate((bs, bls)), np.concatenate((be, bls + 86400))
    ent = np.flatnonzero(ident & ENTERPRISE_TEAM)
    cand = Candidates(
        ids=rng.permutation(n).astype(np.int64) + 1, grid_ancestors=ga, lat=lat, lon=lon,
        skill_levels=levels, skill_expiry=expiry, identities=ident,
        active=rng.random(n) < 0.95, callups_left=rng.choice([0, 1, 2, 3, 4], n, p=[.1, .2, .3, .2, .2]).astype(np.int16),
        availability=avail, hours_30d=rng.gamma(1.0, 4.0, n), hours_90d=rng.gamma(2.0, 6.0, n),
        callups_30d=rng.poisson(1.0, n).astype(float), accepted=rng.poisson(3, n).astype(float),
        declined=rng.poisson(1, n).astype(float), expired=rng.poisson(.5, n).astype(float),
        no_shows=rng.poisson(.3, n).astype(float), attended=rng.poisson(3, n).astype(float),
        interests=rng.integers(0, 256, n).astype(np.int32),
        busy_person=busy_p, busy_start=busy_s, busy_end=busy_e,
        paired_person=ent, paired_grid=ga[ent, 2] + rng.choice([0, 1], ent.size, p=[.7, .3]),
    )
    # Shift patterns matching the availability templates: (weekday, start slot, length in slots).
    shifts = [(d, 38, 4) for d in range(5)] + [(d, 18, 6) for d in (5, 6)] + [(d, 18, 4) for d in range(7)]
    positions: list[PositionSpec] = []
    total = 0
    while total < slots:
        h = int(min(slots - total, rng.integers(1, 21)))
        g = int(rng.integers(0, N_GRIDS))
        d, s0, ln = shifts[rng.integers(0, len(shifts))]
        start = T0 + ((d - 3) % 7) * 86400 + s0 * 1800  # T0 is a Thursday
        r = rng.random()
        radius, mx, esc = (2, 2, False) if r < .5 else (3, 3, False) if r < .75 else (1, 1, False) if r < .9 else (3, 1, True)
        nreq = rng.choice([0, 1, 2], p=[.5, .4, .1])
        req = [(int(sk), int(rng.integers(1, 3))) for sk in rng.choice(N_SKILLS // 2, nreq, replace=False)]
        pref = [(int(sk), int(rng.integers(1, 4))) for sk in rng.choice(N_SKILLS, rng.integers(0, 3), replace=False)]
        xy = grid_xy[g]
        plat, plon = _km_to_latlon(xy)
        positions.append(PositionSpec(
            id=len(positions) + 1, headcount=h, place_grid_ancestors=(*anc_g[g], -1),
            lat=float(plat), lon=float(plon), start=int(start), end=int(start + ln * 1800),
            required_skills=req, preferred_skills=pref,
            min_party_members=int(min(h, rng.integers(1, 4))) if rng.random() < .3 else 0,
            required_identities=DOCTOR if rng.random() < .03 else 0,
            radius_level=radius, max_radius_level=mx, escalate=esc, kind=int(rng.integers(0, 8))))
        total += h
    return Problem(candidates=cand, positions=positions)


# Alternative per-step group solvers: same candidates, same costs, different assignment step.
def dense_groups(groups: list[Group], ids: np.ndarray, margin: int
                 ) -> tuple[list[tuple[np.ndarray, np.ndarray]], dict[str, Any]]:
    """linear_sum_assignment on the full slots x (all volunteers + one dummy per slot) matrix."""
    n = ids.size
    live = [i for i, g in enumerate(groups) if g.slots > 0]
    S = sum(groups[i].slots for i in live)
    res: list[tuple[np.ndarray, np.ndarray]] = [(np.zeros(0, np.int64), np.zeros(0))] * len(groups)
    if S == 0:
        return res, {"slots": 0}
    maxc = max((float(g.cost[-1]) for g in groups if g.m), default=0.0)
    big = (maxc + 1.0) * (S + 1)
    mat = np.full((S, n + S), np.inf)
    mat[np.arange(S), n + np.arange(S)] = big
    r = 0
    spans = []
    for i in live:
        g = groups[i]
        mat[r:r + g.slots, g.persons] = g.cost
        spans.append((i, r, r + g.slots))
        r += g.slots
    rows, cols = linear_sum_assignment(mat)
    for i, r0, r1 in spans:
        cc = cols[r0:r1]
        cc = cc[cc < n]
        cst = mat[r0, cc]
        o = np.lexsort((ids[cc], cst))
        res[i] = (cc[o], cst[o])
    return res, {"slots": S, "matrix_bytes": mat.nbytes}


def greedy_groups(groups: list[Group], ids: np.ndarray, margin: int
                  ) -> tuple[list[tuple[np.ndarray, np.ndarray]], dict[str, Any]]:
    """Cheapest feasible (slot, person) pair first; party-only slots win ties."""
    live = [i for i, g in enumerate(groups) if g.slots > 0 and g.m > 0]
    res: list[tuple[np.ndarray, np.ndarray]] = [(np.zeros(0, np.int64), np.zeros(0))] * len(groups)
    if not live:
        return res, {}
    gi = np.concatenate([np.full(groups[i].m, i) for i in live])
    pp = np.concatenate([groups[i].persons for i in live])
    cc = np.concatenate([groups[i].cost for i in live])
    party = np.concatenate([np.full(groups[i].m, not groups[i].party) for i in live])
    order = np.lexsort((ids[pp], party, cc))
    left = {i: groups[i].slots for i in live}
    open_total = sum(left.values())
    used: set[int] = set()
    got: dict[int, list[tuple[int, float]]] = {i: [] for i in live}
    for g, p, c in zip(gi[order].tolist(), pp[order].tolist(), cc[order].tolist()):
        if left[g] and p not in used:
            used.add(p)
            left[g] -= 1
            got[g].append((p, c))
            open_total -= 1
            if not open_total:
                break
    for i in live:
        res[i] = (np.array([p for p, _ in got[i]], dtype=np.int64), np.array([c for _, c in got[i]]))
    return res, {}


def _summary(res: Result) -> tuple[float, int]:
    return res.total_cost, len(res.assignments)


def _child(slots: int, volunteers: int, seed: int) -> None:
    """Subprocess body: peak RSS of the whole process, and tracemalloc's peak during the solve."""
    import tracemalloc
    prob = generate_instance(slots, volunteers, seed)
    tracemalloc.start()
    solve(prob)
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(json.dumps({"peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                      "solve_traced_kib": traced // 1024}))


def peak_memory(slots: int, volunteers: int, seed: int) -> dict[str, int]:
    out = subprocess.run([sys.executable, "-m", "bench.matching_arrays", "--child", "--slots", str(slots),
                          "--volunteers", str(volunteers), "--seed", str(seed)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(slots: int, volunteers: int, seed: int = 0, dense_limit_bytes: int = 8 << 30,
        repeats: int = 3, memory: bool = True) -> list[dict[str, Any]]:
    """Rows for the contenders on a generated instance: ours (pruned exact), dense, greedy."""
    prob = generate_instance(slots, volunteers, seed)
    mem = peak_memory(slots, volunteers, seed) if memory else {}
    return contenders(prob, dense_limit_bytes, repeats, mem)


def contenders(prob: Problem, dense_limit_bytes: int = 8 << 30, repeats: int = 3,
               mem: dict[str, int] | None = None) -> list[dict[str, Any]]:
    """Rows for ours, dense linear_sum_assignment and greedy, all on the same ``prob``."""
    mem = mem or {}
    volunteers = prob.candidates.n
    S = sum(p.headcount for p in prob.positions)
    rows: list[dict[str, Any]] = []
    times, ours = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        ours = solve(prob)
        times.append(time.perf_counter() - t)
    assert ours is not None
    cost, filled = _summary(ours)
    st0 = ours.stats["steps"][0]
    rows.append({"contender": "ours (pruned sparse + certificate)", "time_s": statistics.median(times),
                 "total_cost": cost, "filled": filled, "slots": S,
                 "peak_mib": mem.get("peak_kib", 0) / 1024 or None,
                 "note": (f"solve allocations peak {mem.get('solve_traced_kib', 0) / 1024:.0f} MiB (tracemalloc); "
                          if mem else "")
                 + f"rounds {st0['rounds']}, widened {st0['widened']}, edges {st0['edges']}, "
                 f"kept {st0.get('kept', 0):,} of {st0['candidates']:,} candidates, "
                 f"scored {ours.stats.get('scored', 0):,} pairs"})
    need = S * (volunteers + S) * 8
    if need <= dense_limit_bytes:
        t = time.perf_counter()
        dense = _solve(prob, dense_groups)
        dt = time.perf_counter() - t
        dcost, dfilled = _summary(dense)
        rows.append({"contender": "dense linear_sum_assignment", "time_s": dt, "total_cost": dcost,
                     "filled": dfilled, "slots": S, "peak_mib": None,
                     "note": f"matrix {need / 2**30:.1f} GiB; ours/dense cost diff {cost - dcost:+.6f}; "
                     f"speed-up x{dt / statistics.median(times):.1f}"})
    else:
        rows.append({"contender": "dense linear_sum_assignment", "time_s": None, "total_cost": None,
                     "filled": None, "slots": S, "peak_mib": None,
                     "note": f"skipped: matrix would need {need / 2**30:.1f} GiB > limit"})
    t = time.perf_counter()
    gr = _solve(prob, greedy_groups)
    dt = time.perf_counter() - t
    gcost, gfilled = _summary(gr)
    if gfilled == filled and cost:
        worse = f"{(gcost - cost) / cost * 100:+.2f}% cost vs ours"
    else:
        worse = f"fills {abs(filled - gfilled)} {'fewer' if gfilled < filled else 'more'} slots than ours"
    rows.append({"contender": "greedy (cheapest pair first)", "time_s": dt, "total_cost": gcost,
                 "filled": gfilled, "slots": S, "peak_mib": None, "note": worse})
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    def f(v: Any, fmt: str) -> str:
        return "-" if v is None else format(v, fmt)
    out = ["| contender | time (s) | total cost | filled / slots | peak RSS (MiB) | note |",
           "|---|---:|---:|---:|---:|---|"]
    for r in rows:
        out.append(f"| {r['contender']} | {f(r['time_s'], '.3f')} | {f(r['total_cost'], '.4f')} | "
                   f"{f(r['filled'], 'd')} / {r['slots']} | {f(r['peak_mib'], '.0f')} | {r['note']} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--slots", type=int, default=2000)
    ap.add_argument("--volunteers", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--dense-limit-gib", type=float, default=8.0)
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        _child(a.slots, a.volunteers, a.seed)
        return
    rows = run(a.slots, a.volunteers, a.seed, int(a.dense_limit_gib * 2**30), a.repeats, not a.no_memory)
    print(markdown(rows))


if __name__ == "__main__":
    main()
