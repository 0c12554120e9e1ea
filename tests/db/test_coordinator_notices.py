"""The office's coordinator notices on every answer, and the at-risk flag of staffing."""
from __future__ import annotations

from datetime import timedelta

import pytest

from callups.models import Channel, NotificationKind
from campaigns.models import CallUp, CallUpStatus, Position
from campaigns.responses import accept_callup, decline_callup
from campaigns.services import staffing
from core.errors import Conflict
from extensions import db
from volunteers.models import Volunteer
from tests.factories import CampaignFactory, PositionFactory, ShiftFactory, VolunteerFactory
from tests.scheduler.helpers import make_position, outbox, sent_callups

S = CallUpStatus
K = NotificationKind.COORDINATOR


def _named_position(now, *, headcount=4):
    position = make_position(now=now, headcount=headcount, title="燃气入户")
    position.role = "入户检查员"
    db.session.commit()
    return position


def test_accept_writes_one_masked_coordinator_notice_to_the_office(now):
    position = _named_position(now)
    [callup] = sent_callups(position, 1, now=now)
    person = db.session.get(Volunteer, callup.volunteer_id)
    person.name, person.mobile, person.identity_flags, person.party_branch = "张伟明", "13912345678", 1, "第一支部"
    db.session.commit()
    accept_callup(callup.id, actor="a", now=now)
    [notice] = outbox(kind=K)
    campaign = position.shift.campaign
    assert (notice.volunteer_id, notice.callup_id, notice.channel) == (None, callup.id, Channel.INAPP)
    assert notice.idempotency_key == f"{callup.id}:coordinator:inapp:accepted"
    assert notice.payload["text"] == "张** 接受了 燃气入户 · 入户检查员 (1/4)"
    assert notice.payload["subject"] == "网格通知：燃气入户"
    assert (notice.payload["campaign_id"], notice.payload["office_grid_id"], notice.payload["recipient"]) == (
        campaign.id, campaign.office_grid_id, f"office:{campaign.office_grid_id}")
    assert notice.due_at == now
    flat = repr(notice.payload)
    assert "13912345678" not in flat and "张伟明" not in flat and "支部" not in flat and "party" not in flat
    # Answering again writes nothing more.
    accept_callup(callup.id, actor="a", now=now + timedelta(minutes=1))
    assert len(outbox(kind=K)) == 1


def test_decline_and_withdrawal_write_notices_with_the_count_after_the_answer(now):
    position = _named_position(now, headcount=2)
    first, second = sent_callups(position, 2, now=now)
    accept_callup(first.id, actor="a", now=now)
    decline_callup(second.id, actor="b", now=now, reason="出差")
    decline_callup(first.id, actor="a", now=now + timedelta(minutes=5))   # withdraws the acceptance
    notices = outbox(kind=K)
    assert [n.idempotency_key for n in notices] == [
        f"{first.id}:coordinator:inapp:accepted", f"{second.id}:coordinator:inapp:declined",
        f"{first.id}:coordinator:inapp:declined"]
    assert [n.payload["answer"] for n in notices] == ["accepted", "declined", "withdrawn"]
    texts = [n.payload["text"] for n in notices]
    assert texts[0].endswith("接受了 燃气入户 · 入户检查员 (1/2)")
    assert texts[1].endswith("拒绝了 燃气入户 · 入户检查员 (1/2)")
    assert texts[2].endswith("撤回了接受 燃气入户 · 入户检查员 (0/2)")
    decline_callup(second.id, actor="b", now=now + timedelta(minutes=6))
    assert len(outbox(kind=K)) == 3


def test_no_notice_when_the_answer_is_refused_or_full(now):
    position = _named_position(now, headcount=1)
    first, second = sent_callups(position, 2, now=now)
    accept_callup(first.id, actor="a", now=now)
    with pytest.raises(Conflict):
        accept_callup(second.id, actor="b", now=now)                       # standby: not an answer the office sees
    [late] = sent_callups(position, 1, now=now, window=timedelta(minutes=1))
    with pytest.raises(Conflict):
        decline_callup(late.id, actor="c", now=now + timedelta(minutes=2))  # past its deadline
    assert [n.callup_id for n in outbox(kind=K)] == [first.id]


def test_the_notice_rolls_back_with_the_answer(now, monkeypatch):
    position = _named_position(now)
    [callup] = sent_callups(position, 1, now=now)
    import campaigns.responses as responses

    def boom(*args, **kwargs):
        raise RuntimeError("outbox down")

    monkeypatch.setattr(responses, "_queue_coordinator_notice", boom)
    with pytest.raises(RuntimeError):
        accept_callup(callup.id, actor="a", now=now)
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(CallUp, callup.id).status is S.SENT
    assert db.session.get(Position, position.id).accepted_count == 0
    assert outbox() == []


def _history(volunteer, *, attended=0, no_shows=0, now):
    """Past call-ups of ``volunteer`` on an earlier campaign (one position each)."""
    campaign = CampaignFactory()
    shift = ShiftFactory(campaign=campaign, start_at=now - timedelta(days=30), end_at=now - timedelta(days=30, hours=-2))
    for status in [S.ATTENDED] * attended + [S.NO_SHOW] * no_shows:
        past = PositionFactory(shift=shift, headcount=1)
        db.session.flush()
        db.session.add(CallUp(position_id=past.id, volunteer_id=volunteer.id, status=status))
    db.session.commit()


def _accepted(position, people):
    for person in people:
        db.session.add(CallUp(position_id=position.id, volunteer_id=person.id, status=S.ACCEPTED))
    db.session.get(Position, position.id).accepted_count = len(people)
    db.session.commit()


def test_staffing_expected_attendance_flags_a_full_position_of_no_shows(now):
    position = make_position(now=now, headcount=2)
    reliable, flaky = VolunteerFactory(), VolunteerFactory()
    _history(reliable, attended=8, now=now)          # 9/10 = 0.9
    _history(flaky, attended=1, no_shows=3, now=now)  # 2/6 ≈ 0.333
    _accepted(position, [reliable, flaky])
    [entry] = staffing(position.shift.campaign_id)["positions"]
    assert entry["accepted"] == 2 == entry["headcount"]
    assert entry["expected_attendance"] == round(0.9 + 2 / 6, 2) == 1.23
    assert entry["at_risk"] is True


def test_staffing_not_at_risk_when_not_full_or_newcomers_only_count_half(now):
    position = make_position(now=now, headcount=3)
    newcomer, flaky = VolunteerFactory(), VolunteerFactory()
    _history(flaky, no_shows=4, now=now)                                  # 1/6
    _accepted(position, [newcomer, flaky])
    # Declined/expired call-ups and other people's histories do not count.
    db.session.add(CallUp(position_id=position.id, volunteer_id=VolunteerFactory().id, status=S.DECLINED))
    db.session.commit()
    [entry] = staffing(position.shift.campaign_id)["positions"]
    assert (entry["accepted"], entry["expected_attendance"], entry["at_risk"]) == (2, round(0.5 + 1 / 6, 2), False)


def test_staffing_counts_attended_as_one_and_no_show_as_zero(now):
    position = make_position(now=now, headcount=3)
    came, missed, coming = VolunteerFactory(), VolunteerFactory(), VolunteerFactory()
    _history(coming, attended=2, now=now)                                 # 3/4
    for person, status in ((came, S.ATTENDED), (missed, S.NO_SHOW), (coming, S.ACCEPTED)):
        db.session.add(CallUp(position_id=position.id, volunteer_id=person.id, status=status))
    db.session.commit()
    [entry] = staffing(position.shift.campaign_id)["positions"]
    assert (entry["accepted"], entry["expected_attendance"], entry["at_risk"]) == (3, 1.75, True)


def test_staffing_empty_position_has_zero_expected_and_is_not_at_risk(now):
    position = make_position(now=now, headcount=2)
    [entry] = staffing(position.shift.campaign_id)["positions"]
    assert (entry["expected_attendance"], entry["at_risk"]) == (0.0, False)
