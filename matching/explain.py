"""Why slots stay open: replay the hard-constraint funnel and count the people lost at every gate."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .candidates import CandidateIndex
from .problem import NO_CERTIFICATE, PositionSpec, Reason


def make_reason(code: str, **params: Any) -> Reason:
    """A reason as a stable code and its numbers; the words are the application's (the matcher speaks no
    language: the layer that shows a reason says it in its reader's language, naming skills from its catalogue)."""
    return Reason(code, params)


Gate = tuple[str, Callable[[np.ndarray], np.ndarray], dict[str, Any]]


def _gates(index: CandidateIndex, pos: PositionSpec, pos_index: int, others_taken: np.ndarray,
           rest_hours: float) -> list[Gate]:
    """The hard constraints in the order the reasons report them (the fast path's order, refined)."""
    cd = index.c
    day = pos.shift_day
    gates: list[Gate] = [
        ("inactive", lambda x: x[cd.active[x] & (cd.grid_ancestors[x, 0] >= 0)], {}),
        ("no_identity", lambda x: index.f_identity(x, pos), {"identities": int(pos.required_identities)}),
    ]
    for s, lv in pos.required_skills:
        skill = {"skill": int(s), "level": int(lv)}
        gates += [
            ("no_skill", lambda x, s=s, lv=lv: x[index.skill_ok(x, s, lv, day, check_expiry=False)], skill),
            ("no_certificate", lambda x, s=s: x[cd.skill_expiry[x, s] != NO_CERTIFICATE], skill),
            ("certificate_expired", lambda x, s=s: x[cd.skill_expiry[x, s] >= day], skill),
        ]
    gates += [
        ("cap_reached", lambda x: x[cd.callups_left[x] >= 1], {}),
        ("unavailable", lambda x: index.f_available(x, pos), {}),
        ("blackout", lambda x: x[~index.busy_mask(x, pos.start, pos.end, blackout=True)], {}),
        ("all_busy", lambda x: x[~index.busy_mask(x, pos.start, pos.end, blackout=False)],
         {"rest_hours": float(rest_hours)}),
        ("excluded", lambda x: index.f_excluded(x, pos_index), {}),
        ("taken", lambda x: index.drop_marked(x, others_taken), {}),
    ]
    return gates


def explain_position(index: CandidateIndex, pos: PositionSpec, pos_index: int, radius_level: int,
                     others_taken: np.ndarray, party_open: int, ord_open: int, party_bit: int,
                     rest_hours: float) -> list[Reason]:
    """Reasons for open slots at the widest radius tried, one per gate that dropped anyone.

    Every reason carries `before`, `lost` and `after` (people reaching the gate, dropped by it, left
    after it); the first gate that leaves fewer people than the headcount has `binding` True.
    `others_taken`: people assigned elsewhere in this solve. The scope gate ("radius") with `lost` 0 means
    too few people live within the radius at all; a "taken" reason with `competition` True means enough pass
    every gate but this solve placed them elsewhere.
    """
    open_slots = party_open + ord_open
    need = int(pos.headcount)
    c, lvl = index.in_radius(pos, radius_level)
    base = {"radius_level": lvl, "needed": need, "open": int(open_slots)}
    reasons: list[Reason] = []
    binding_found = False

    def add(code: str, before: int, after: int, extra: dict[str, Any]) -> None:
        nonlocal binding_found
        binding = after < need and not binding_found
        binding_found |= binding
        reasons.append(make_reason(code, before=before, after=after, lost=before - after,
                                   binding=binding, **extra, **base))

    outside = index.n - int(c.size)
    if outside > 0 or c.size < need:
        add("radius", index.n, int(c.size), {})
    for code, fn, extra in _gates(index, pos, pos_index, others_taken, rest_hours):
        if c.size == 0:
            break
        nxt = fn(c)
        if nxt.size < c.size:
            add(code, int(c.size), int(nxt.size), extra)
        c = nxt
    if party_open > 0:
        # Party members among the people who pass every gate.
        n_party = int(((index.c.identities[c] & party_bit) != 0).sum())
        reasons.append(make_reason("party_minimum", before=int(c.size), after=n_party,
                                   **{**base, "needed": int(pos.min_party_members)}))
    elif not binding_found and not any(r.code == "taken" for r in reasons):
        # Enough people pass every gate, yet slots stay open: only competition explains it.
        reasons.append(make_reason("taken", before=int(c.size), after=int(c.size),
                                   lost=0, competition=True, **base))
    return reasons
