"""Independent reference for the tests: plain-Python feasibility and cost, dense / brute-force optimum."""
from __future__ import annotations

import itertools
import math

import numpy as np
from scipy.optimize import linear_sum_assignment

from matching import Problem

R_KM = 6371.0088


def _bit(mask: np.ndarray, slot: int) -> bool:
    return bool(mask[slot // 8] & (0x80 >> (slot % 8)))


def feasible(pb: Problem, j: int, i: int, radius: int | None = None) -> bool:
    """Every hard constraint for person i on position j (party split aside), written naively."""
    c, pos = pb.candidates, pb.positions[j]
    place = pos.place_grid_ancestors
    lvl = min(pos.radius_level if radius is None else radius,
              max(k for k in range(5) if place[k] >= 0))
    if c.grid_ancestors[i][lvl] != place[lvl] or c.grid_ancestors[i][0] < 0:
        return False
    if not c.active[i] or c.callups_left[i] < 1:
        return False
    if int(c.identities[i]) & pos.required_identities != pos.required_identities:
        return False
    for s, lv in pos.required_skills:
        if c.skill_levels[i][s] < lv or c.skill_expiry[i][s] < pos.shift_day:
            return False
    if not (pos.soft_availability and c.emergency_any_hour[i]) and not _covers(pos, c, i):
        return False
    for p, s, e, blackout in zip(c.busy_person, c.busy_start, c.busy_end, c.busy_blackout):
        rest = 0 if blackout else pb.rest_hours * 3600  # a blackout day needs no rest around it
        if p == i and s < pos.end + rest and e > pos.start - rest:
            return False
    for p, q in zip(c.excluded_person, c.excluded_position):
        if p == i and q == j:
            return False
    return True


def _covers(pos, c, i: int) -> bool:
    return all(_bit(c.availability[i], slot) for slot in range(336) if _bit(pos.week_slots, slot))


def is_party(pb: Problem, i: int) -> bool:
    return bool(int(pb.candidates.identities[i]) & pb.party_bit)


def cost(pb: Problem, j: int, i: int) -> float:
    """The documented cost formula, term by term, without numpy vectorisation."""
    c, pos = pb.candidates, pb.positions[j]
    w = pb.weights_for(pos.kind)
    place = pos.place_grid_ancestors
    if all(math.isfinite(v) for v in (pos.lat, pos.lon, c.lat[i], c.lon[i])):
        p1, p2 = math.radians(c.lat[i]), math.radians(pos.lat)
        a = (math.sin((p2 - p1) / 2) ** 2
             + math.cos(p1) * math.cos(p2) * math.sin(math.radians(pos.lon - c.lon[i]) / 2) ** 2)
        dist = 2 * R_KM * math.asin(math.sqrt(min(1.0, a)))
    else:
        home = [int(x) for x in c.grid_ancestors[i]]
        hl = max(k for k in range(5) if home[k] >= 0)
        pl = max(k for k in range(5) if place[k] >= 0)
        lca = -1
        for k in range(5):
            if home[k] == place[k] and place[k] >= 0:
                lca = k
            else:
                break
        dist = ((hl - lca) + (pl - lca)) * w.km_per_hop
    total = w.distance * dist
    if pos.preferred_skills:
        met = sum(1 for s, lv in pos.preferred_skills
                  if c.skill_levels[i][s] >= lv and c.skill_expiry[i][s] >= pos.shift_day)
        total += w.preferred * (1 - met / len(pos.preferred_skills))
    total += w.fairness * (c.callups_30d[i] + c.hours_30d[i] / w.fair_hours_30d + c.hours_90d[i] / w.fair_hours_90d)
    pa = (c.accepted[i] + 1) / (c.accepted[i] + c.declined[i] + c.expired[i] + 2)
    ps = (c.attended[i] + 1) / (c.attended[i] + c.no_shows[i] + 2)
    total += w.reliability * (1 - pa * ps)
    comm = place[min(2, max(k for k in range(5) if place[k] >= 0))]
    paired = any(p == i and g == comm for p, g in zip(c.paired_person, c.paired_grid))
    total += 0.0 if paired else w.team
    total += 0.0 if (int(c.interests[i]) >> pos.kind) & 1 else w.interest
    if pos.soft_availability:
        total += 0.0 if _covers(pos, c, i) else w.off_hours
        on_duty = any(p == i and wk == pos.week for p, wk in zip(c.duty_person, c.duty_week))
        total += 0.0 if on_duty else w.duty
    return float(total)


def slots_of(pb: Problem) -> list[tuple[int, bool]]:
    out = []
    for j, p in enumerate(pb.positions):
        out += [(j, True)] * p.min_party_members + [(j, False)] * (p.headcount - p.min_party_members)
    return out


def dense_optimum(pb: Problem) -> tuple[int, float]:
    """(max slots filled, least total cost among those) by linear_sum_assignment on slots x people."""
    slots = slots_of(pb)
    n = pb.candidates.n
    if not slots:
        return 0, 0.0
    costs = [[cost(pb, j, i) if feasible(pb, j, i) and (not party or is_party(pb, i)) else None
              for i in range(n)] for j, party in slots]
    mx = max([x for row in costs for x in row if x is not None], default=0.0)
    big = (mx + 1) * (len(slots) + 1)
    m = np.full((len(slots), n + len(slots)), np.inf)
    for r, row in enumerate(costs):
        for i, x in enumerate(row):
            if x is not None:
                m[r, i] = x
        m[r, n + r] = big
    rows, cols = linear_sum_assignment(m)
    real = cols < n
    return int(real.sum()), float(m[rows[real], cols[real]].sum())


def brute_optimum(pb: Problem) -> tuple[int, float]:
    """Same answer by enumerating every assignment of people (or nobody) to slots."""
    slots = slots_of(pb)
    n = pb.candidates.n
    best = (0, 0.0)
    opts = []
    for j, party in slots:
        opts.append([None] + [i for i in range(n) if feasible(pb, j, i) and (not party or is_party(pb, i))])
    for combo in itertools.product(*opts):
        people = [p for p in combo if p is not None]
        if len(set(people)) != len(people):
            continue
        filled = len(people)
        total = sum(cost(pb, slots[k][0], p) for k, p in enumerate(combo) if p is not None)
        if filled > best[0] or (filled == best[0] and total < best[1] - 1e-12):
            best = (filled, total)
    return best
