"""The bridge's fast read (campaigns/recruitment.py): district-wide it reads people and skills without
joining the grid tree, as plain driver rows; the arrays must equal those of the scoped read, and the
certificate encoding must follow the one rule of volunteers/models.py.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import numpy as np
import pytest

import matching

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)
SAT_9 = datetime(2026, 12, 5, 1, 0, tzinfo=timezone.utc)  # Saturday 09:00 in Shanghai
TZ = "Asia/Shanghai"
ARRAYS = ("ids", "grid_ancestors", "lat", "lon", "identities", "active", "callups_left", "availability",
          "interests", "emergency_any_hour", "skill_levels", "skill_expiry", "hours_30d", "hours_90d",
          "callups_30d", "accepted", "declined", "expired", "no_shows", "attended", "busy_person", "busy_start",
          "busy_end", "busy_blackout", "excluded_person", "excluded_position", "paired_person", "paired_grid",
          "duty_person", "duty_week")


def _people(tree):
    from core.scope import Scope
    from volunteers.services import register_volunteer

    def skill(code, level, expires=None, number=None):
        item = {"code": code, "level": level, "certificate_expires_on": expires}
        return item if number is None else {**item, "certificate_no": number}

    variants = [
        [skill("gas_check", 3, date(2027, 6, 30))],
        [skill("gas_check", 4, None, "GC-1")],  # a number, no expiry: valid for good
        [skill("gas_check", 4)],  # certified skill, no certificate on record
        [skill("gas_check", 2, date(2026, 12, 1)), skill("first_aid", 3)],  # expired before the shift
        [skill("first_aid", 2, date(2027, 1, 1)), skill("publicity", 5)],  # expiry on an uncertified skill
        [],
    ]
    grids = [tree.grid_a1, tree.grid_a2, tree.grid_b1, tree.community_b, tree.street]
    people = []
    for i in range(30):
        data = {"name": f"人{i:03d}", "mobile": f"1390000{i:04d}", "home_grid_id": grids[i % len(grids)].id,
                "skills": variants[i % len(variants)], "identities": ["resident_volunteer"] + (["party_member"] if i % 3 == 0 else []),
                "availability": [{"weekday": 5, "start": "08:00", "end": "13:00"}], "max_callups_per_month": 1 + i % 4}
        if i % 7 == 6:
            data["status"] = "paused"
        if i % 11 == 10:
            data["blackout_dates"] = [date(2026, 12, 5)]
        people.append(register_volunteer(data, scope=Scope.system("test"), now=NOW))
    return people


def _campaign(tree, office):
    from campaigns import services
    from campaigns.models import Priority
    from core.kinds import CampaignKind
    from core.scope import Scope

    shifts = [{"start": SAT_9 + timedelta(hours=h), "end": SAT_9 + timedelta(hours=h + 3), "grid_id": g.id,
               "positions": [{"role": "检查员", "headcount": 3, "min_party_members": 1,
                              "required_skills": [{"code": "gas_check", "min_level": 2}],
                              "preferred_skills": [{"code": "first_aid", "min_level": 2}], "required_identities": []}]}
              for h, g in ((0, tree.grid_a1), (1, tree.grid_b1 if office is tree.district else tree.grid_a2))]
    return services.draft_campaign({"title": "燃气入户", "kind": CampaignKind.GAS_SAFETY, "priority": Priority.ROUTINE,
                                    "office_grid_id": office.id, "policy": {}, "shifts": shifts},
                                   scope=Scope.system("test"), now=NOW)


def _build(campaign):
    from campaigns.recruitment import build_problem, open_positions_of

    problem, _ = build_problem(campaign, open_positions_of(campaign, fill_all=True), now=NOW, timezone_name=TZ)
    return problem


def test_district_wide_read_equals_the_scoped_read(tree, monkeypatch):
    from campaigns import recruitment
    from campaigns.recruitment import plan_recruitment

    _people(tree)
    campaign = _campaign(tree, tree.district)
    seen = []
    covers = recruitment._covers_every_grid
    monkeypatch.setattr(recruitment, "_covers_every_grid", lambda *a: seen.append(covers(*a)) or seen[-1])
    fast = _build(campaign)
    plan_fast = plan_recruitment(campaign, now=NOW, timezone_name=TZ)
    assert seen == [True, True]
    monkeypatch.setattr(recruitment, "_covers_every_grid", lambda *a: False)
    scoped = _build(campaign)
    plan_scoped = plan_recruitment(campaign, now=NOW, timezone_name=TZ)
    assert fast.candidates.n == scoped.candidates.n > 0
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(fast.candidates, name), getattr(scoped.candidates, name), err_msg=name)
    assert plan_fast.total_cost == plan_scoped.total_cost
    assert [[p.volunteer_id for p in pos.proposals] for pos in plan_fast.positions] == \
        [[p.volunteer_id for p in pos.proposals] for pos in plan_scoped.positions]


@pytest.mark.parametrize("office", ["district", "community_a"])
def test_read_skills_follow_the_certificate_rule(tree, office):
    from sqlalchemy import select

    from extensions import db
    from volunteers.models import Skill, Volunteer, VolunteerSkill, skill_valid_through

    _people(tree)
    problem = _build(_campaign(tree, getattr(tree, office)))
    cand = problem.candidates
    columns = {sid: k for k, sid in enumerate(db.session.scalars(select(Skill.id).order_by(Skill.id)))}
    used = {s for p in problem.positions for s, _ in (*p.required_skills, *p.preferred_skills)}
    row = {int(v): i for i, v in enumerate(cand.ids)}
    from grids.models import Grid
    scope = getattr(tree, office).path
    assert sorted(row) == sorted(db.session.scalars(
        select(Volunteer.id).join(Grid, Grid.id == Volunteer.home_grid_id)
        .where(Volunteer.status == "active", Grid.path.startswith(scope))))
    checked = 0
    for vs, certified in db.session.execute(select(VolunteerSkill, Skill.certified).join(Skill)).all():
        col = columns[vs.skill_id]
        if vs.volunteer_id not in row or col not in used:
            continue
        through = skill_valid_through(certified, vs.certificate_no, vs.certificate_expires_on)
        want = {date.min: matching.NO_CERTIFICATE, date.max: matching.NO_EXPIRY}.get(
            through, (through - date(1970, 1, 1)).days if through not in (date.min, date.max) else None)
        assert cand.skill_levels[row[vs.volunteer_id], col] == vs.level
        assert cand.skill_expiry[row[vs.volunteer_id], col] == want
        checked += 1
    assert checked >= 10


def test_valid_through_over_arrays_matches_the_rule():
    from campaigns.recruitment import _valid_through
    from volunteers.models import skill_valid_through

    cases = [(c, n, e) for c in (False, True) for n in (None, "N-1")
             for e in (None, date(2026, 12, 5), date(1999, 1, 31))]
    for as_text in (False, True):
        got = _valid_through(np.array([c for c, _, _ in cases]), np.array([n is not None for _, n, _ in cases]),
                             [None if e is None else (e.isoformat() if as_text else e) for _, _, e in cases])
        for (c, n, e), value in zip(cases, got.tolist()):
            through = skill_valid_through(c, n, e)
            want = (matching.NO_CERTIFICATE if through == date.min else matching.NO_EXPIRY if through == date.max
                    else (through - date(1970, 1, 1)).days)
            assert value == want, (c, n, e, as_text)
