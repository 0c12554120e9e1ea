"""Changing a published shift: who is told, what is recorded, and who may be asked again."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from callups.dispatch import send_due_callups
from notices.messages import render
from notices.models import NotificationKind
from campaigns import services
from campaigns.backfill import backfill_open_positions
from campaigns.changes import change_shift
from campaigns.models import CallUp, CallUpEvent, CallUpStatus
from campaigns.responses import accept_callup, decline_callup
from core.errors import Conflict, NotFound, ValidationFailed
from core.scope import Scope
from extensions import db
from tests.db.test_backfill_and_cancel import published
from tests.db.test_recruitment import NOW, SAT_9, TZ, campaign
from tests.scheduler.helpers import outbox

S = CallUpStatus
OFFICE = Scope.system("office")


def three_answers(tree):
    """Headcount 2, three sent call-ups: accepted, declined, still open."""
    c, crowd = published(tree, people=4, headcount=3)
    send_due_callups(now=NOW)
    accepted, declined, pending = db.session.scalars(select(CallUp).order_by(CallUp.id)).all()
    accept_callup(accepted.id, actor="v", now=NOW)
    decline_callup(declined.id, actor="v", now=NOW)
    return c, accepted.id, declined.id, pending.id


def test_change_moves_the_shift_and_tells_the_accepted_and_the_open(tree):
    c, accepted, declined, pending = three_answers(tree)
    shift = services.get_campaign(c.id).shifts[0]
    later = NOW + timedelta(minutes=5)
    changed = change_shift(shift.id, {"start": SAT_9 + timedelta(days=1), "note": "因雨顺延一天"},
                           scope=OFFICE, now=later)
    assert (changed.start_at, changed.end_at, changed.changed_at) == (
        SAT_9 + timedelta(days=1), SAT_9 + timedelta(days=1, hours=3), later)
    told = outbox(kind=NotificationKind.CHANGE)
    assert sorted({n.callup_id for n in told}) == [accepted, pending]
    assert all("顺延" in n.payload["text"] for n in told)
    notes = db.session.scalars(select(CallUpEvent).where(CallUpEvent.note.like("shift changed%"))).all()
    assert sorted(e.callup_id for e in notes) == [accepted, pending]
    assert {e.note for e in notes} == {"shift changed: time — 因雨顺延一天"}


def test_change_sms_fits_seventy_characters_with_the_link():
    context = {"title": "燃气安全入户排查暨冬季消防宣传活动第三批次", "short_when": "12/6 09:00",
               "place": "江南社区服务中心三楼多功能会议室", "link": "https://gridmuster.example.cn/r/abcdefghij1234"}
    for template in ("changed", "team_callup"):
        text = render(template, "zh", context | {"note": "需 3 人"}, channel="sms").text
        assert len(text) <= 70 and text.endswith(context["link"]), text
        assert render(template, "en", context, channel="email").text


def test_decliner_may_be_asked_again_after_a_change_but_not_before(tree):
    c, accepted, declined, pending = three_answers(tree)
    declined_person = db.session.get(CallUp, declined).volunteer_id
    # A gap before any change: the decliner is not asked again.
    backfill_open_positions(now=NOW + timedelta(minutes=1), timezone_name=TZ)
    db.session.expire_all()
    assert db.session.scalars(select(CallUp.volunteer_id).where(CallUp.status == S.SCHEDULED)).all() != [
        declined_person]
    asked_before = db.session.scalars(select(CallUp.volunteer_id)).all()
    assert asked_before.count(declined_person) == 1
    shift = services.get_campaign(c.id).shifts[0]
    change_shift(shift.id, {"grid_id": tree.grid_a2.id, "place": "江南小区北门"}, scope=OFFICE,
                 now=NOW + timedelta(minutes=2))
    decline_callup(pending, actor="v", now=NOW + timedelta(minutes=3))
    pending_person = db.session.get(CallUp, pending).volunteer_id
    backfill_open_positions(now=NOW + timedelta(minutes=4), timezone_name=TZ)
    db.session.expire_all()
    asked = db.session.scalars(select(CallUp.volunteer_id).where(CallUp.status == S.SCHEDULED)).all()
    assert declined_person in asked and pending_person not in asked


def test_note_only_change_tells_people_but_keeps_decliners_out(tree):
    c, accepted, declined, pending = three_answers(tree)
    shift = services.get_campaign(c.id).shifts[0]
    changed = change_shift(shift.id, {"note": "请带身份证"}, scope=OFFICE, now=NOW + timedelta(minutes=1))
    assert changed.changed_at is None
    assert len({n.callup_id for n in outbox(kind=NotificationKind.CHANGE)}) == 2


def test_change_refuses_drafts_started_shifts_unknown_ids_and_empty_changes(tree):
    draft = campaign(tree)
    with pytest.raises(Conflict):
        change_shift(draft.shifts[0].id, {"note": "x"}, scope=OFFICE, now=NOW)
    with pytest.raises(NotFound):
        change_shift(987654, {}, scope=OFFICE, now=NOW)
    c, _ = published(tree, people=1)
    shift_id = services.get_campaign(c.id).shifts[0].id
    with pytest.raises(ValidationFailed) as empty:
        change_shift(shift_id, {}, scope=OFFICE, now=NOW)
    assert "note" in empty.value.errors
    with pytest.raises(ValidationFailed) as past:
        change_shift(shift_id, {"start": NOW - timedelta(hours=1)}, scope=OFFICE, now=NOW)
    assert "start" in past.value.errors
    with pytest.raises(ValidationFailed) as outside:
        change_shift(shift_id, {"grid_id": tree.grid_b1.id}, scope=OFFICE, now=NOW)
    assert "grid_id" in outside.value.errors
    with pytest.raises(Conflict):
        change_shift(shift_id, {"note": "x"}, scope=OFFICE, now=SAT_9 + timedelta(minutes=1))
