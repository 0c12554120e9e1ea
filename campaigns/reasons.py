"""Why places stay open, in words: the matcher's reasons (a code and its numbers) said in the reader's language.

The matcher speaks no language and positions keep their reasons as code and numbers
(``Position.unfilled_reasons``), so the same stored reason reads in Chinese on a clerk's board and in English
to an API client; skills are named from the catalogue at the moment they are shown.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select

from core.i18n import _, _l, language, ngettext
from extensions import db
from volunteers.models import Skill

# The search radius by grid level (0 the district … 4 the micro-grid), as the sentences name it.
SCOPES = (_l("the district"), _l("the street office"), _l("the community"), _l("the grid"), _l("the micro-grid"))

Words = dict[str, Any]
# A gate's code → the sentence for the people it dropped: how many of how many, and how many are left for the
# places (num: the places needed).
GATES: dict[str, Callable[[int, Words], str]] = {
    "radius": lambda n, v: ngettext(
        "%(lost)s of %(before)s people live outside %(scope)s; %(after)s left for %(num)s place",
        "%(lost)s of %(before)s people live outside %(scope)s; %(after)s left for %(num)s places", n, **v),
    "inactive": lambda n, v: ngettext(
        "%(lost)s of %(before)s people are not active; %(after)s left for %(num)s place",
        "%(lost)s of %(before)s people are not active; %(after)s left for %(num)s places", n, **v),
    "no_identity": lambda n, v: ngettext(
        "%(lost)s of %(before)s people lack the required identities; %(after)s left for %(num)s place",
        "%(lost)s of %(before)s people lack the required identities; %(after)s left for %(num)s places", n, **v),
    "no_skill": lambda n, v: ngettext(
        "%(lost)s of %(before)s people lack %(skill)s at level %(level)s or above; %(after)s left for %(num)s place",
        "%(lost)s of %(before)s people lack %(skill)s at level %(level)s or above; %(after)s left for %(num)s places",
        n, **v),
    "no_certificate": lambda n, v: ngettext(
        "%(lost)s of %(before)s people hold no %(skill)s certificate; %(after)s left for %(num)s place",
        "%(lost)s of %(before)s people hold no %(skill)s certificate; %(after)s left for %(num)s places", n, **v),
    "certificate_expired": lambda n, v: ngettext(
        "%(lost)s of %(before)s people hold a %(skill)s certificate that expires before the shift; "
        "%(after)s left for %(num)s place",
        "%(lost)s of %(before)s people hold a %(skill)s certificate that expires before the shift; "
        "%(after)s left for %(num)s places", n, **v),
    "cap_reached": lambda n, v: ngettext(
        "%(lost)s of %(before)s people have reached their monthly call-up cap; %(after)s left for %(num)s place",
        "%(lost)s of %(before)s people have reached their monthly call-up cap; %(after)s left for %(num)s places",
        n, **v),
    "unavailable": lambda n, v: ngettext(
        "%(lost)s of %(before)s people are not available at that time of the week; %(after)s left for %(num)s place",
        "%(lost)s of %(before)s people are not available at that time of the week; "
        "%(after)s left for %(num)s places", n, **v),
    "blackout": lambda n, v: ngettext(
        "%(lost)s of %(before)s people marked the day as one they cannot serve; %(after)s left for %(num)s place",
        "%(lost)s of %(before)s people marked the day as one they cannot serve; %(after)s left for %(num)s places",
        n, **v),
    "all_busy": lambda n, v: ngettext(
        "%(lost)s of %(before)s people are busy or resting (another call-up within %(rest)s h); "
        "%(after)s left for %(num)s place",
        "%(lost)s of %(before)s people are busy or resting (another call-up within %(rest)s h); "
        "%(after)s left for %(num)s places", n, **v),
    "excluded": lambda n, v: ngettext(
        "%(lost)s of %(before)s people already declined or let this call-up expire; %(after)s left for %(num)s place",
        "%(lost)s of %(before)s people already declined or let this call-up expire; "
        "%(after)s left for %(num)s places", n, **v),
    "taken": lambda n, v: ngettext(
        "%(lost)s of %(before)s people are assigned to other positions in this match; "
        "%(after)s left for %(num)s place",
        "%(lost)s of %(before)s people are assigned to other positions in this match; "
        "%(after)s left for %(num)s places", n, **v),
}


def _sentence(code: str, params: Mapping[str, Any], skill_names: Mapping[str, str]) -> str:
    """One reason in words; a code this version does not know (an old stored reason) is shown as its code."""
    needed = int(params.get("needed", 0))
    skill = params.get("skill")
    words = {"before": params.get("before"), "lost": params.get("lost"), "after": params.get("after"),
             "level": params.get("level"), "skill": skill_names.get(skill) or str(skill),
             "rest": f"{float(params.get('rest_hours', 0)):g}", "scope": ""}
    level = params.get("radius_level")
    if isinstance(level, int) and 0 <= level < len(SCOPES):
        words["scope"] = str(SCOPES[level])
    if code == "party_minimum":
        return ngettext("needs %(num)s party member but only %(after)s qualified party members are left",
                        "needs %(num)s party members but only %(after)s qualified party members are left",
                        needed, **words)
    if params.get("competition"):
        return _("%(after)s people pass every check, but this match needs them for other places", **words)
    if code == "radius" and not params.get("lost"):
        return ngettext("only %(after)s people live within %(scope)s for %(num)s place",
                        "only %(after)s people live within %(scope)s for %(num)s places", needed, **words)
    gate = GATES.get(code)
    return gate(needed, words) if gate else code


def _skill_names(codes: set) -> dict[str, str]:
    """The catalogue's names of these skill codes in the language being spoken (the code when it has none)."""
    if not codes:
        return {}
    english = language() == "en"
    rows = db.session.execute(select(Skill.code, Skill.name, Skill.name_en).where(Skill.code.in_(codes))).all()
    return {row.code: (row.name_en if english else row.name) or row.code for row in rows}


def said(reasons: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Reasons as shown: code, params and the sentence (``text``) in the language being spoken."""
    names = _skill_names({r["params"]["skill"] for r in reasons if isinstance(r["params"].get("skill"), str)})
    return [{"code": r["code"], "params": r["params"], "text": _sentence(r["code"], r["params"], names)}
            for r in reasons]


def said_unfilled(unfilled: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A position's stored open places (``{open, reasons, at}``) with the reasons said; None stays None."""
    if not unfilled:
        return None
    return {**unfilled, "reasons": said(unfilled.get("reasons") or [])}
