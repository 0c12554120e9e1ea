"""Why slots stay open: replay the hard-constraint funnel and name the first binding constraint."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .candidates import CandidateIndex
from .problem import PositionSpec, Reason

# code -> (text when nobody is left, text when too few are left); formatted with params.
_TEXTS: dict[str, tuple[str, str]] = {
    "radius": ("no volunteers live within radius level {radius_level}",
               "only {after} volunteers live within radius level {radius_level} for {needed} slots"),
    "inactive": ("none of the {before} volunteers within radius level {radius_level} is active",
                 "only {after} of the {before} volunteers within radius level {radius_level} are active"),
    "no_identity": ("no one with the required identities (mask {identities}) within radius level {radius_level}",
                    "only {after} people with the required identities (mask {identities}) within radius level {radius_level}"),
    "no_skill": ("no one with skill #{skill} >= level {level} within radius level {radius_level}",
                 "only {after} people with skill #{skill} >= level {level} within radius level {radius_level}"),
    "certificate_expired": ("all {expired} people with skill #{skill} >= level {level} within radius level "
                            "{radius_level} have a certificate that has expired by the shift date",
                            "only {after} people with skill #{skill} >= level {level} within radius level "
                            "{radius_level} hold a valid certificate ({expired} expired)"),
    "cap_reached": ("all {before} qualified people have reached their monthly call-up cap",
                    "only {after} of the {before} qualified people have call-ups left this month"),
    "unavailable": ("none of the {before} qualified people is available at that time of the week",
                    "only {after} of the {before} qualified people are available at that time of the week"),
    "all_busy": ("all {before} qualified people are busy at that time (with {rest_hours:g} h rest)",
                 "only {after} of the {before} qualified people are free at that time (with {rest_hours:g} h rest)"),
    "excluded": ("all {before} qualified people already declined or let this call-up expire",
                 "only {after} of the {before} qualified people have not already declined or let it expire"),
    "taken": ("all {before} qualified people are assigned to other positions in this solve",
              "only {after} of the {before} qualified people are not assigned to other positions in this solve"),
    "party_minimum": ("needs {needed} party members but no qualified party member is within radius level "
                      "{radius_level}",
                      "needs {needed} party members but only {after} qualified party members are within "
                      "radius level {radius_level}"),
}


def make_reason(code: str, **params: Any) -> Reason:
    zero, some = _TEXTS[code]
    text = (zero if params.get("after", 0) == 0 or not some else some).format(**params)
    return Reason(code, params, text)


def explain_position(index: CandidateIndex, pos: PositionSpec, pos_index: int, radius_level: int,
                     others_taken: np.ndarray, party_open: int, ord_open: int, party_bit: int,
                     rest_hours: float) -> list[Reason]:
    """Reasons for open slots at the widest radius tried. `others_taken`: people assigned elsewhere."""
    open_slots = party_open + ord_open
    c, lvl = index.in_radius(pos, radius_level)
    base = {"radius_level": lvl, "needed": int(pos.headcount), "open": int(open_slots)}
    if c.size < pos.headcount:
        reasons = [make_reason("radius", before=int(c.size), after=int(c.size), **base)]
        if c.size == 0:
            return reasons
    else:
        reasons = []
    cd = index.c
    stages: list[tuple[str, Callable[[np.ndarray], np.ndarray], dict[str, Any]]] = [
        ("inactive", lambda x: x[cd.active[x]], {}),
        ("no_identity", lambda x: index.f_identity(x, pos), {"identities": int(pos.required_identities)}),
    ]
    for s, lv in pos.required_skills:
        stages.append(("no_skill", lambda x, s=s, lv=lv: x[index.skill_ok(x, s, lv, pos.shift_day)],
                       {"skill": s, "level": lv}))
    stages += [
        ("cap_reached", lambda x: x[cd.callups_left[x] >= 1], {}),
        ("unavailable", lambda x: index.f_available(x, pos), {}),
        ("all_busy", lambda x: index.f_busy(x, pos), {"rest_hours": float(rest_hours)}),
        ("excluded", lambda x: index.f_excluded(x, pos_index), {}),
        ("taken", lambda x: index.drop_marked(x, others_taken), {}),
    ]
    need = int(pos.headcount)
    binding = len(stages)
    for i, (code, fn, extra) in enumerate(stages):
        before = int(c.size)
        nxt = fn(c)
        after = int(nxt.size)
        if after < need and after < before:
            if code == "no_skill":
                # Distinguish "nobody has the skill" from "certificates expired".
                had = int(index.skill_ok(c, extra["skill"], extra["level"], pos.shift_day,
                                         check_expiry=False).sum())
                if had > after:
                    code, extra = "certificate_expired", {**extra, "expired": had - after}
            reasons.append(make_reason(code, before=before, after=after, **extra, **base))
            binding = i
            c = nxt
            break
        c = nxt
    if party_open > 0:
        # Party members among the people who pass every filter.
        for _, fn, _ in stages[binding + 1:]:
            c = fn(c)
        n_party = int(((cd.identities[c] & party_bit) != 0).sum())
        reasons.append(make_reason("party_minimum", before=int(c.size), after=n_party,
                                   **{**base, "needed": int(pos.min_party_members)}))
    if not reasons:
        # Enough people pass every filter, yet slots stay open: only competition explains it.
        reasons.append(make_reason("taken", before=int(c.size), after=int(c.size), **base))
    return reasons
