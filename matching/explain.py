"""Why slots stay open: replay the hard-constraint funnel and count the people lost at every gate."""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .candidates import CandidateIndex
from .problem import NO_CERTIFICATE, PositionSpec, Reason

LANGUAGES = ("en", "zh")
LEVEL_LABELS = {"en": ("the district", "the street office", "the community", "the grid", "the micro-grid"),
                "zh": ("全区", "街道", "社区", "网格", "微网格")}

# Gate code -> what the people it drops have in common, per language (formatted with params).
_GATES: dict[str, dict[str, str]] = {
    "radius": {"en": "live outside {radius_label}", "zh": "不在{radius_label}范围内"},
    "inactive": {"en": "are not active", "zh": "不在册（暂停或已退出）"},
    "no_identity": {"en": "lack the required identities", "zh": "不具备所需身份"},
    "no_skill": {"en": "lack {skill_name} at level {level} or above", "zh": "不具备“{skill_name}”{level}级及以上"},
    "no_certificate": {"en": "hold no {skill_name} certificate", "zh": "没有“{skill_name}”证书"},
    "certificate_expired": {"en": "hold a {skill_name} certificate that expires before the shift",
                            "zh": "“{skill_name}”证书在服务日前已过期"},
    "cap_reached": {"en": "have reached their monthly call-up cap", "zh": "本月召集次数已用完"},
    "unavailable": {"en": "are not available at that time of the week", "zh": "该时段不在其空闲时间内"},
    "blackout": {"en": "marked the day as one they cannot serve", "zh": "已登记当天不能服务"},
    "all_busy": {"en": "are busy or resting (another call-up within {rest_hours:g} h)",
                 "zh": "有其他任务或在休息期（前后 {rest_hours:g} 小时内）"},
    "excluded": {"en": "already declined or let this call-up expire", "zh": "曾拒绝或错过本岗位的召集"},
    "taken": {"en": "are assigned to other positions in this match", "zh": "已被安排到本次匹配的其他岗位"},
}
# A gate's text: how many it dropped of how many, and how many remain for the places.
_LOST = {"en": "{lost} of {before} people {gate}; {after} left for {needed} {places}",
         "zh": "{before} 人中有 {lost} 人{gate}，剩 {after} 人，需 {needed} 人"}
# The scope gate when it drops nobody yet too few live there.
_FEW_IN_SCOPE = {"en": "only {after} people live within {radius_label} for {needed} {places}",
                 "zh": "搜索范围（{radius_label}）内只有 {after} 名人员，少于所需的 {needed} 人"}
_OTHERS = {
    "party_minimum": {"en": "needs {needed} party members but only {after} qualified party members are left",
                      "zh": "需要 {needed} 名党员，符合条件的党员只有 {after} 人"},
}
# The fallback "taken" reason when no gate leaves too few people: the solve used them elsewhere.
_COMPETITION = {"en": "{after} people pass every check, but this match needs them for other places",
                "zh": "通过全部条件的 {after} 人已被本次匹配安排到其他岗位"}


def _skill_name(names: Mapping[str, Sequence[str]] | None, lang: str, column: int) -> str:
    seq = (names or {}).get(lang) or (names or {}).get("en") or ()
    return str(seq[column]) if 0 <= column < len(seq) and seq[column] else f"#{column}"


def make_reason(code: str, skill_names: Mapping[str, Sequence[str]] | None = None, **params: Any) -> Reason:
    """A reason with its texts in every language; skill columns are named from `skill_names`."""
    texts = {}
    for lang in LANGUAGES:
        values = dict(params)
        values["places"] = "place" if params.get("needed") == 1 else "places"
        if "radius_level" in params:
            values["radius_label"] = LEVEL_LABELS[lang][int(params["radius_level"])]
        if "skill" in params:
            values["skill_name"] = _skill_name(skill_names, lang, int(params["skill"]))
        if code in _OTHERS:
            template = _OTHERS[code][lang]
        elif params.get("competition"):
            template = _COMPETITION[lang]
        elif code == "radius" and params.get("lost", 0) == 0:
            template = _FEW_IN_SCOPE[lang]
        else:
            template = _LOST[lang].replace("{gate}", _GATES[code][lang])
        texts[lang] = template.format(**values)
    return Reason(code, params, texts["en"], texts)


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
                     rest_hours: float, skill_names: Mapping[str, Sequence[str]] | None = None) -> list[Reason]:
    """Reasons for open slots at the widest radius tried, one per gate that dropped anyone.

    Every reason carries `before`, `lost` and `after` (people reaching the gate, dropped by it, left
    after it); the first gate that leaves fewer people than the headcount has `binding` True.
    `others_taken`: people assigned elsewhere in this solve.
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
        reasons.append(make_reason(code, skill_names, before=before, after=after, lost=before - after,
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
        reasons.append(make_reason("party_minimum", skill_names, before=int(c.size), after=n_party,
                                   **{**base, "needed": int(pos.min_party_members)}))
    elif not binding_found and not any(r.code == "taken" for r in reasons):
        # Enough people pass every gate, yet slots stay open: only competition explains it.
        reasons.append(make_reason("taken", skill_names, before=int(c.size), after=int(c.size),
                                   lost=0, competition=True, **base))
    return reasons
