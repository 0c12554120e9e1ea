"""Cost terms of one position over its feasible candidates, vectorised; all terms are >= 0."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .problem import PositionSpec, Weights

if TYPE_CHECKING:  # the index calls into scoring, not the other way round
    from .candidates import CandidateIndex

EARTH_KM = 6371.0088
TERMS = ("distance", "preferred", "fairness", "reliability", "team", "interest", "off_hours", "duty")
# Costs are rounded to multiples of 2**-16 so that every sum the solver and the certificate
# form is exact in float64: ties are true ties and dual checks have no rounding slack.
QUANTUM = 2.0 ** -16


def quantise(x: np.ndarray, quantum: float = QUANTUM) -> np.ndarray:
    return np.round(np.asarray(x, dtype=np.float64) / quantum) * quantum


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: float, lon2: float) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def tree_hops(index: CandidateIndex, c: np.ndarray, pos: PositionSpec, shared: int = 0) -> np.ndarray:
    """Edges on the grid-tree path between each person's home grid and the place.

    `shared`: a level every person in c is known to share with the place (the radius),
    so only deeper levels need comparing.
    """
    place = pos.place_grid_ancestors
    pl = pos.place_level
    lca = np.full(c.size, shared, dtype=np.int64)  # deepest shared level
    same = np.ones(c.size, dtype=bool)
    for lvl in range(shared + 1, pl + 1):
        same &= index.c.grid_ancestors[c, lvl] == place[lvl]
        lca += same
    return (index.home_level[c] - lca) + (pl - lca)


def cost_terms(index: CandidateIndex, pos: PositionSpec, c: np.ndarray,
               w: Weights, shared: int | None = None) -> dict[str, np.ndarray]:
    """Weighted cost terms (name -> array over c). Total cost = sum of the terms.

    `shared`: a grid level all of c share with the place (None: compute from level 0).
    """
    cd = index.c
    m = c.size
    # Distance: metres where both ends have coordinates, otherwise hops in the grid tree.
    if shared is None:
        same = index.c.grid_ancestors[c, 0] == pos.place_grid_ancestors[0]
        if not same.all():  # people outside the district share nothing with the place
            lvl_hops = tree_hops(index, c, pos, 0).astype(np.float64)
            lvl_hops[~same] = index.home_level[c[~same]] + pos.place_level + 2
            dist = lvl_hops * w.km_per_hop
        else:
            dist = tree_hops(index, c, pos, 0).astype(np.float64) * w.km_per_hop
    else:
        dist = tree_hops(index, c, pos, shared).astype(np.float64) * w.km_per_hop
    if np.isfinite(pos.lat) and np.isfinite(pos.lon):
        lat, lon = cd.lat[c], cd.lon[c]
        known = np.isfinite(lat) & np.isfinite(lon)
        if known.any():
            dist[known] = haversine_km(lat[known], lon[known], pos.lat, pos.lon)
    terms = {"distance": w.distance * dist}
    if pos.preferred_skills:
        met = np.zeros(m, dtype=np.float64)
        for s, lvl in pos.preferred_skills:
            met += index.skill_ok(c, s, lvl, pos.shift_day)
        terms["preferred"] = w.preferred * (1.0 - met / len(pos.preferred_skills))
    else:
        terms["preferred"] = np.zeros(m)
    # Fairness grows with recent load, so people called up lately yield to others.
    terms["fairness"] = w.fairness * index.load(w.fair_hours_30d, w.fair_hours_90d)[c]
    # Reliability with Beta(1, 1) priors: a newcomer's P(accept) = P(show) = 1/2.
    terms["reliability"] = w.reliability * index.unreliability[c]
    terms["team"] = w.team * (~index.paired_with(c, pos)).astype(np.float64)
    interested = ((cd.interests[c] >> pos.kind) & 1).astype(bool) if 0 <= pos.kind < 31 else np.zeros(m, bool)
    terms["interest"] = w.interest * (~interested).astype(np.float64)
    if pos.soft_availability:
        # Emergencies call people outside their weekly hours too, but those inside them and those
        # on duty (值班) that week come first.
        terms["off_hours"] = w.off_hours * (~index.available(c, pos)).astype(np.float64)
        terms["duty"] = w.duty * (~index.on_duty(c, pos)).astype(np.float64)
    else:
        terms["off_hours"] = np.zeros(m)
        terms["duty"] = np.zeros(m)
    return terms


def total_cost(terms: dict[str, np.ndarray]) -> np.ndarray:
    tot = None
    for name in TERMS:
        tot = terms[name].copy() if tot is None else tot + terms[name]
    return tot
