"""Whistles: routing by kind and grid, deadlines by grade, answers, escalation by the clock, closing off."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from accounts.models import Role as AccountRole
from accounts.users import create_user
from notices.models import Notification, NotificationKind
from core.errors import Conflict, NotFound, ValidationFailed
from core.scope import Role, Scope
from extensions import db
from gridwork import units, whistles
from gridwork.models import Whistle, WhistleEvent, WhistleStatus, WhistleSummons
from tests.factories import VolunteerFactory

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


def _unit(tree, name, kinds, grids, now, *, office=None):
    duty = VolunteerFactory(home_grid_id=tree.grid_a1.id)
    return units.register_unit({"name": name, "office_grid_id": (office or tree.street).id, "kinds": kinds,
                                "grid_ids": [g.id for g in grids], "member_ids": [duty.id]},
                               scope=Scope.system("test"), now=now)


def _office(tree, grid, now, login):
    return create_user(login=login, display_name=login, password="river-stone-42", role=AccountRole.OFFICE,
                       actor="test", now=now, grid_id=grid.id)


def _office_scope(grid) -> Scope:
    return Scope(role=Role.OFFICE, actor=f"office:{grid.code}", grid_id=grid.id, grid_path=grid.path, grid_level=grid.level)


def _raise(tree, now, *, kind="water_power", grade="urgent", grid=None, photo=None):
    grid = grid or tree.grid_a1
    return whistles.raise_whistle({"grid_id": grid.id, "title": "水管爆裂", "address": "3幢1单元", "kind": kind,
                                   "grade": grade}, scope=_office_scope(tree.community_a), now=now, photo=photo)


def _whistle_messages(**where) -> list[Notification]:
    rows = db.session.scalars(select(Notification).where(Notification.kind == NotificationKind.WHISTLE)
                              .order_by(Notification.id)).all()
    return [r for r in rows if all(r.payload.get(k) == v or getattr(r, k, None) == v for k, v in where.items())]


def test_whistle_routes_to_units_handling_its_kind_and_covering_its_grid(app, tree, now):
    water_a = _unit(tree, "江南供水站", ["water_power"], [tree.community_a], now)
    water_b = _unit(tree, "湘湖供水站", ["water_power"], [tree.community_b], now)
    street_water = _unit(tree, "街道城管科", ["water_power", "sanitation"], [tree.street], now)
    _unit(tree, "派出所", ["public_order"], [tree.street], now)
    whistle = _raise(tree, now)
    assert sorted(s.unit_id for s in whistle.summons) == sorted([water_a.id, street_water.id])
    assert water_b.id not in {s.unit_id for s in whistle.summons}
    # Each summoned unit's duty contact gets the summons in the in-app inbox with an answer link.
    inapp = [n for n in _whistle_messages() if n.channel.value == "inapp"]
    assert {n.volunteer_id for n in inapp} == {water_a.duty_volunteer_id, street_water.duty_volunteer_id}
    assert all("/w/" in n.payload["text"] for n in inapp)
    assert whistle.escalation_level == 0


@pytest.mark.parametrize("grade, ack, arrive, resolve", [
    ("routine", timedelta(hours=2), timedelta(hours=24), timedelta(days=7)),
    ("urgent", timedelta(minutes=30), timedelta(hours=4), timedelta(hours=48)),
    ("emergency", timedelta(minutes=10), timedelta(hours=1), timedelta(hours=24)),
])
def test_whistle_deadlines_follow_the_grade(app, tree, now, grade, ack, arrive, resolve):
    _unit(tree, "供水站", ["water_power"], [tree.community_a], now)
    whistle = _raise(tree, now, grade=grade)
    assert (whistle.ack_due_at - now, whistle.arrive_due_at - now, whistle.resolve_due_at - now) == (ack, arrive, resolve)
    assert whistle.next_escalation_at == now + ack


def test_whistle_without_a_unit_goes_to_the_street_office_at_once(app, tree, now):
    street_staff = _office(tree, tree.street, now, "street-1")
    whistle = _raise(tree, now, kind="dispute")
    assert whistle.summons == [] and whistle.escalation_level == 1
    assert {n.payload["recipient"] for n in _whistle_messages() if n.channel.value == "inapp"} == {
        f"user:{street_staff.id}"}


def test_unanswered_whistle_escalates_to_street_then_district_by_the_clock(app, tree, now):
    _unit(tree, "供水站", ["water_power"], [tree.community_a], now)
    street_staff = _office(tree, tree.street, now, "street-1")
    district_staff = _office(tree, tree.district, now, "district-1")
    whistle = _raise(tree, now, grade="urgent")
    assert whistles.escalate_whistles(now=now + timedelta(minutes=29)) == 0
    assert whistles.escalate_whistles(now=now + timedelta(minutes=30)) == 1
    db.session.expire_all()
    assert db.session.get(Whistle, whistle.id).escalation_level == 1
    assert [n.payload["recipient"] for n in _whistle_messages() if n.payload["recipient"].startswith("user:")] == [
        f"user:{street_staff.id}"]
    # Run twice at the same moment (two scheduler processes): no second escalation, no second message.
    assert whistles.escalate_whistles(now=now + timedelta(minutes=30)) == 0
    assert whistles.escalate_whistles(now=now + timedelta(minutes=60)) == 1
    db.session.expire_all()
    escalated = db.session.get(Whistle, whistle.id)
    assert escalated.escalation_level == 2 and escalated.next_escalation_at is None
    assert {n.payload["recipient"] for n in _whistle_messages() if n.payload["recipient"].startswith("user:")} == {
        f"user:{street_staff.id}", f"user:{district_staff.id}"}
    assert whistles.escalate_whistles(now=now + timedelta(days=3)) == 0
    actions = db.session.scalars(select(WhistleEvent.action).where(WhistleEvent.whistle_id == whistle.id)
                                 .order_by(WhistleEvent.id)).all()
    assert actions == ["raised", "summoned", "escalated_1", "escalated_2"]


def test_acknowledged_whistle_waits_for_the_arrival_deadline_then_escalates(app, tree, now):
    unit = _unit(tree, "供水站", ["water_power"], [tree.community_a], now)
    whistle = _raise(tree, now, grade="urgent")
    whistles.answer_for_unit(whistle.id, unit.id, "ack", scope=Scope.system("t"), now=now + timedelta(minutes=5))
    assert whistles.escalate_whistles(now=now + timedelta(minutes=31)) == 0
    db.session.expire_all()
    assert db.session.get(Whistle, whistle.id).next_escalation_at == now + timedelta(hours=4)
    # Nobody on site by the arrival deadline: escalated.
    assert whistles.escalate_whistles(now=now + timedelta(hours=4)) == 1


def test_arrival_stops_escalation_and_answers_stamp_once(app, tree, now):
    unit = _unit(tree, "供水站", ["water_power"], [tree.community_a], now)
    whistle = _raise(tree, now, grade="emergency")
    first = whistles.answer_for_unit(whistle.id, unit.id, "arrive", scope=Scope.system("t"),
                                     now=now + timedelta(minutes=8))
    again = whistles.answer_for_unit(whistle.id, unit.id, "arrive", scope=Scope.system("t"),
                                     now=now + timedelta(minutes=20))
    assert first.acked_at == again.acked_at == first.arrived_at == now + timedelta(minutes=8)
    assert whistles.escalate_whistles(now=now + timedelta(hours=5)) == 0
    assert db.session.get(Whistle, whistle.id).escalation_level == 0


def test_duty_contact_answers_by_link(app, tree, now):
    _unit(tree, "供水站", ["water_power"], [tree.community_a], now)
    whistle = _raise(tree, now)
    text = next(n.payload["text"] for n in _whistle_messages() if n.channel.value == "inapp")
    token = text.split("/w/")[1].split()[0]
    summons = whistles.answer_by_token(token, "resolve", now=now + timedelta(hours=1), note="已修复")
    assert summons.resolved_at == now + timedelta(hours=1) and summons.note == "已修复"
    with pytest.raises(NotFound):
        whistles.answer_by_token("not-a-token", "ack", now=now)


def test_close_needs_a_note_then_refuses_answers_and_reopen_summons_again(app, tree, now):
    unit = _unit(tree, "供水站", ["water_power"], [tree.community_a], now)
    whistle = _raise(tree, now)
    scope = _office_scope(tree.community_a)
    with pytest.raises(ValidationFailed) as error:
        whistles.close_whistle(whistle.id, note=" ", scope=scope, now=now)
    assert "note" in error.value.errors
    closed = whistles.close_whistle(whistle.id, note="已修复并复查", scope=scope, now=now + timedelta(hours=3))
    assert closed.status is WhistleStatus.CLOSED and closed.next_escalation_at is None
    with pytest.raises(Conflict):
        whistles.answer_for_unit(whistle.id, unit.id, "ack", scope=scope, now=now + timedelta(hours=4))
    with pytest.raises(Conflict):
        whistles.close_whistle(whistle.id, note="again", scope=scope, now=now)
    before = len(_whistle_messages())
    reopened = whistles.reopen_whistle(whistle.id, note="又漏水了", scope=scope, now=now + timedelta(days=1))
    assert reopened.status is WhistleStatus.OPEN and reopened.reopened_count == 1
    assert len(_whistle_messages()) > before  # the unit is summoned again with a fresh link


def test_office_of_another_community_may_not_close(app, tree, now):
    _unit(tree, "供水站", ["water_power"], [tree.community_a], now)
    whistle = _raise(tree, now)
    with pytest.raises(NotFound):
        whistles.close_whistle(whistle.id, note="x", scope=_office_scope(tree.community_b), now=now)
    assert db.session.get(Whistle, whistle.id).status is WhistleStatus.OPEN


def test_photo_is_checked_by_type_and_size(app, tree, now):
    whistle = _raise(tree, now, photo=PNG)
    assert (whistle.photo_type, whistle.photo_size) == ("image/png", len(PNG))
    with pytest.raises(ValidationFailed) as error:
        _raise(tree, now, photo=b"GIF89a" + b"\x00" * 10)
    assert "photo" in error.value.errors
    with pytest.raises(ValidationFailed):
        _raise(tree, now, photo=b"\xff\xd8\xff" + b"\x00" * whistles.PHOTO_MAX_BYTES)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Whistle)) == 1
    assert db.session.scalar(select(func.count()).select_from(WhistleSummons)) == 0


def test_raising_outside_the_callers_grids_is_refused(app, tree, now):
    with pytest.raises(ValidationFailed) as error:
        _raise(tree, now, grid=tree.grid_b1)
    assert "grid_id" in error.value.errors


def _at_once(app, count, work):
    """Run ``work(k)`` on ``count`` threads, each in its own app context and session, released together."""
    import threading

    barrier = threading.Barrier(count)
    errors = []

    def run(k):
        with app.app_context():
            barrier.wait()
            try:
                work(k)
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return errors


def test_concurrent_answers_and_escalations_stamp_once(app, tree, now):
    unit = _unit(tree, "供水站", ["water_power"], [tree.community_a], now)
    _office(tree, tree.street, now, "street-1")
    answered = _raise(tree, now, grade="urgent")
    silent = _raise(tree, now, grade="urgent")
    answered_id, silent_id, unit_id = answered.id, silent.id, unit.id
    db.session.commit()
    errors = _at_once(app, 4, lambda k: whistles.answer_for_unit(
        answered_id, unit_id, "arrive", scope=Scope.system(f"t{k}"), now=now + timedelta(minutes=5 + k)))
    errors += _at_once(app, 3, lambda k: whistles.escalate_whistles(now=now + timedelta(minutes=31)))
    assert errors == []
    db.session.expire_all()
    arrivals = db.session.scalars(select(WhistleEvent).where(WhistleEvent.whistle_id == answered_id,
                                                             WhistleEvent.action == "arrive")).all()
    assert len(arrivals) == 1
    summons = db.session.get(Whistle, answered_id).summons[0]
    assert summons.arrived_at == summons.acked_at and summons.arrived_at - now <= timedelta(minutes=8)
    assert db.session.get(Whistle, silent_id).escalation_level == 1
    assert db.session.scalar(select(func.count()).select_from(WhistleEvent).where(
        WhistleEvent.whistle_id == silent_id, WhistleEvent.action == "escalated_1")) == 1
    street_messages = [n for n in _whistle_messages() if n.payload["recipient"].startswith("user:")]
    assert len(street_messages) == 1


def test_scheduler_ticks_escalation_every_ten_seconds(app, tree):
    from callups import jobs
    from callups.scheduler import JOBS
    from core.clock import utcnow

    assert {job.id: job.seconds for job in JOBS}["escalate_whistles"] == 10
    _unit(tree, "供水站", ["water_power"], [tree.community_a], utcnow())
    whistle = _raise(tree, utcnow() - timedelta(hours=1), grade="urgent")  # its ack deadline passed half an hour ago
    whistle_id = whistle.id
    db.session.commit()
    jobs.escalate_whistles(app)
    db.session.expire_all()
    assert db.session.get(Whistle, whistle_id).escalation_level == 1
