"""Visit rounds from the register: every target assigned in its grid, continuity across cycles, coverage counts."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.errors import Conflict, NotFound, ValidationFailed
from core.scope import Role, Scope
from extensions import db
from gridwork import reports, visits
from gridwork.models import Visit, VisitTarget
from tests.factories import VolunteerFactory
from volunteers.models import Identity

SYSTEM = Scope.system("test")
WORKER = Identity.to_mask(["grid_worker"])


def _targets(tree, grid, count, *, x0=0.0, prefix="3幢"):
    rows = [{"grid_id": grid.id, "label": f"{prefix}{k:03d}", "building": prefix, "x": x0 + 10.0 * (k % 6),
             "y": 10.0 * (k // 6)} for k in range(count)]
    return visits.register_targets(rows, scope=SYSTEM)


def _round(tree, now, **extra):
    data = {"grid_id": tree.community_a.id, "title": "十二月走访", "due_at": now + timedelta(days=30)} | extra
    return visits.create_round(data, scope=SYSTEM, now=now)


def test_round_assigns_every_target_to_a_visitor_of_its_own_grid_evenly(app, tree, now):
    a1 = [VolunteerFactory(home_grid_id=tree.grid_a1.id, identity_flags=WORKER) for _ in range(3)]
    a2 = [VolunteerFactory(home_grid_id=tree.grid_a2.id, identity_flags=WORKER) for _ in range(2)]
    VolunteerFactory(home_grid_id=tree.grid_a1.id)  # no visiting identity: not a visitor
    VolunteerFactory(home_grid_id=tree.grid_b1.id, identity_flags=WORKER)  # another community
    _targets(tree, tree.grid_a1, 30)
    _targets(tree, tree.grid_a2, 10, x0=5000.0)
    _targets(tree, tree.grid_b1, 7)
    round_ = _round(tree, now)
    rows = db.session.execute(select(VisitTarget.grid_id, Visit.visitor_id).join(Visit.target)
                              .where(Visit.round_id == round_.id)).all()
    assert len(rows) == 40  # community B's targets are not in community A's round
    loads = {}
    for grid_id, visitor_id in rows:
        expected = {v.id for v in a1} if grid_id == tree.grid_a1.id else {v.id for v in a2}
        assert visitor_id in expected
        loads[visitor_id] = loads.get(visitor_id, 0) + 1
    assert sorted(loads.values()) == [5, 5, 10, 10, 10]
    assert round_.assigned_cost is not None


def test_next_cycle_keeps_the_same_visitors(app, tree, now):
    people = [VolunteerFactory(home_grid_id=tree.grid_a1.id, identity_flags=WORKER) for _ in range(3)]
    _targets(tree, tree.grid_a1, 24)
    first = _round(tree, now, period="2026-11")
    before = dict(db.session.execute(select(Visit.target_id, Visit.visitor_id).where(Visit.round_id == first.id)).all())
    second = _round(tree, now + timedelta(days=31), period="2026-12", due_at=now + timedelta(days=60))
    after = dict(db.session.execute(select(Visit.target_id, Visit.visitor_id).where(Visit.round_id == second.id)).all())
    assert after == before and len(set(after.values())) == len(people)


def test_linked_party_member_visits_their_household(app, tree, now):
    member = VolunteerFactory(home_grid_id=tree.grid_a1.id, identity_flags=Identity.to_mask(["party_member"]))
    VolunteerFactory(home_grid_id=tree.grid_a1.id, identity_flags=WORKER)
    targets = _targets(tree, tree.grid_a1, 4)
    visits.update_target(targets[3].id, {"linked_volunteer_id": member.id, "priority": "living_alone"}, scope=SYSTEM)
    round_ = _round(tree, now)
    assert db.session.scalar(select(Visit.visitor_id).where(Visit.round_id == round_.id,
                                                            Visit.target_id == targets[3].id)) == member.id


def test_round_without_visitors_or_targets_is_refused_by_field_and_writes_nothing(app, tree, now):
    with pytest.raises(ValidationFailed) as error:
        _round(tree, now)
    assert "grid_id" in error.value.errors
    _targets(tree, tree.grid_a1, 3)
    with pytest.raises(ValidationFailed) as error:
        _round(tree, now)
    assert "visitor_ids" in error.value.errors
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 0


def test_coverage_counts_outcomes_per_grid_and_finds_who_is_behind(app, tree, now):
    quick, slow = (VolunteerFactory(home_grid_id=tree.grid_a1.id, identity_flags=WORKER) for _ in range(2))
    _targets(tree, tree.grid_a1, 8)
    round_ = _round(tree, now)
    theirs = {p.id: db.session.scalars(select(Visit).where(Visit.round_id == round_.id, Visit.visitor_id == p.id)
                                       .order_by(Visit.id)).all() for p in (quick, slow)}
    scope = Scope(role=Role.VOLUNTEER, actor="v", volunteer_id=quick.id)
    later = now + timedelta(days=15)  # half the round has passed
    for visit, outcome in zip(theirs[quick.id], ["done", "done", "nobody_home", "problem"]):
        visits.record_visit(visit.id, {"outcome": outcome}, scope=scope, now=later)
    with pytest.raises(NotFound):  # another visitor's visit
        visits.record_visit(theirs[slow.id][0].id, {"outcome": "done"}, scope=scope, now=later)
    report = visits.coverage(round_.id, now=later)
    grid = report["grids"][0]
    assert (grid["targets"], grid["visited"], grid["done"], grid["nobody_home"], grid["problem"], grid["pending"]) == (
        8, 4, 2, 1, 1, 4)
    assert report["coverage"] == 0.5
    behind = {v["visitor_id"]: v["behind"] for v in report["visitors"]}
    assert behind == {quick.id: False, slow.id: True}
    assert [r["visited"] for r in reports.visit_report(scope=SYSTEM, now=later)] == [4]
    with pytest.raises(Conflict):  # the round has ended
        visits.record_visit(theirs[slow.id][0].id, {"outcome": "done"}, scope=SYSTEM, now=now + timedelta(days=31))


def test_duplicate_label_in_a_batch_writes_nothing(app, tree):
    with pytest.raises(Conflict):
        visits.register_targets([{"grid_id": tree.grid_a1.id, "label": "1幢101"},
                                 {"grid_id": tree.grid_a1.id, "label": "1幢101"}], scope=SYSTEM)
    assert db.session.scalar(select(func.count()).select_from(VisitTarget)) == 0
