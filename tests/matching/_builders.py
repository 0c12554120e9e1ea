"""Small instance builders shared by the matching tests."""
from __future__ import annotations

from typing import Any

import numpy as np

from matching import Candidates, PositionSpec, Problem, Weights, week_mask_epoch
from matching.problem import NO_EXPIRY, PARTY_MEMBER

DAY = 20_000  # days since epoch of the test shifts
T = DAY * 86400 + 9 * 3600  # 17:00 local (UTC+8) on DAY
# A tiny district: 2 street offices x 2 communities x 2 grids.
GRIDS = [(1, 10 + s, 100 + 10 * s + c, 1000 + 100 * s + 10 * c + g, -1)
         for s in range(2) for c in range(2) for g in range(2)]
ONLY_DISTANCE = Weights(distance=1.0, km_per_hop=1.0, preferred=0, fairness=0, reliability=0, team=0, interest=0)


def people(n: int, **arrays: Any) -> Candidates:
    """n people in grid GRIDS[0], able and free, no history; override any column by keyword."""
    base: dict[str, Any] = dict(
        ids=np.arange(1, n + 1) * 10,
        grid_ancestors=np.array([GRIDS[0]] * n, dtype=np.int64).reshape(n, 5),
        skill_levels=np.zeros((n, 4), dtype=np.int8),
    )
    base.update(arrays)
    return Candidates(**base)


def position(pid: int = 1, headcount: int = 1, grid: int = 0, **kw: Any) -> PositionSpec:
    kw.setdefault("start", T)
    kw.setdefault("end", kw["start"] + 2 * 3600)
    kw.setdefault("radius_level", 3)
    return PositionSpec(id=pid, headcount=headcount, place_grid_ancestors=GRIDS[grid], shift_day=DAY, **kw)


def random_problem(seed: int, n: int, n_pos: int, margin: int = 8, max_head: int = 3) -> Problem:
    """A random small instance exercising every hard constraint and cost term."""
    rng = np.random.default_rng(seed)
    home = rng.integers(0, len(GRIDS), n)
    ga = np.array([GRIDS[h] for h in home], dtype=np.int64).reshape(n, 5)
    micro = rng.random(n) < 0.2
    ga[micro, 4] = 5000 + home[micro]
    comm_home = rng.random(n) < 0.1  # some people registered at community level only
    ga[comm_home, 3:] = -1
    coords = rng.random(n) < 0.5
    lat = np.where(coords, 30.0 + rng.random(n) * 0.05, np.nan)
    lon = np.where(coords, 120.0 + rng.random(n) * 0.05, np.nan)
    levels = np.where(rng.random((n, 4)) < 0.5, rng.integers(1, 6, (n, 4)), 0).astype(np.int8)
    expiry = np.where(rng.random((n, 4)) < 0.3, DAY + rng.integers(-3, 4, (n, 4)), NO_EXPIRY).astype(np.int32)
    ident = (rng.random((n, 3)) < [0.4, 0.3, 0.2]) @ np.array([PARTY_MEMBER, 1 << 4, 1 << 5])
    bits = np.ones((n, 336), dtype=bool)
    off = rng.random(n) < 0.2
    bits[off, 9 * 48 + 0:] = False  # unusable pattern for some: only a part of the week
    bits[off] = rng.random((int(off.sum()), 336)) < 0.98
    nb = int(rng.integers(0, n + 1))
    bp = rng.integers(0, n, nb)
    bs = T + rng.integers(-30, 30, nb) * 3600
    be = bs + rng.integers(1, 6, nb) * 3600
    ne = int(rng.integers(0, 4))
    cand = Candidates(
        ids=rng.permutation(np.arange(100, 100 + 3 * n))[:n], grid_ancestors=ga, lat=lat, lon=lon,
        skill_levels=levels, skill_expiry=expiry, identities=ident.astype(np.int32),
        active=rng.random(n) < 0.92, callups_left=rng.integers(0, 3, n).astype(np.int16),
        availability=bits, hours_30d=rng.integers(0, 20, n), hours_90d=rng.integers(0, 60, n),
        callups_30d=rng.integers(0, 4, n), accepted=rng.integers(0, 5, n), declined=rng.integers(0, 3, n),
        expired=rng.integers(0, 2, n), no_shows=rng.integers(0, 2, n), attended=rng.integers(0, 5, n),
        interests=rng.integers(0, 256, n).astype(np.int32),
        busy_person=bp, busy_start=bs, busy_end=be,
        excluded_person=rng.integers(0, n, ne), excluded_position=rng.integers(0, n_pos, ne),
        paired_person=rng.integers(0, n, 2), paired_grid=np.array([GRIDS[0][2], GRIDS[3][2]]),
    )
    pos = []
    for j in range(n_pos):
        h = int(rng.integers(1, max_head + 1))
        g = int(rng.integers(0, len(GRIDS)))
        start = T + int(rng.integers(-4, 5)) * 3600
        plat, plon = (30.0 + rng.random() * 0.05, 120.0 + rng.random() * 0.05) if rng.random() < .6 else (np.nan, np.nan)
        req = [(int(s), int(rng.integers(1, 4))) for s in rng.choice(4, rng.integers(0, 2), replace=False)]
        pref = [(int(s), int(rng.integers(1, 4))) for s in rng.choice(4, rng.integers(0, 3), replace=False)]
        pos.append(PositionSpec(
            id=100 + j, headcount=h, place_grid_ancestors=GRIDS[g], lat=plat, lon=plon, start=start,
            end=start + int(rng.integers(1, 4)) * 3600, shift_day=DAY, week_slots=week_mask_epoch(start, start + 3600),
            required_skills=req, preferred_skills=pref, min_party_members=int(rng.integers(0, h + 1)) if rng.random() < .4 else 0,
            required_identities=(1 << 4) if rng.random() < .1 else 0,
            radius_level=int(rng.integers(0, 4)), kind=int(rng.integers(0, 8))))
    return Problem(candidates=cand, positions=pos, prune_margin=margin)
