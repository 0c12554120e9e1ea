"""The office's coordinator notices on every answer, and the at-risk flag of staffing."""
from __future__ import annotations

from datetime import timedelta

import pytest

from accounts.models import Role, User
from notices.channels import build_channels, close_channels
from callups.dispatch import dispatch_outbox
from notices.messages import SMS_LIMIT
from notices.models import Channel, NotificationKind, NotificationStatus
from campaigns.models import CallUp, CallUpStatus, Campaign, Position, Priority
from campaigns.responses import accept_callup, decline_callup
from campaigns.reliability import FALLBACK
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

    monkeypatch.setattr(responses, "notice_rows", boom)
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


def _rate(attended: int, marks: int) -> float:
    """A person's expected show-up: their record over the district's prior (the fallback: thin history here)."""
    return (attended + FALLBACK.alpha) / (marks + FALLBACK.alpha + FALLBACK.beta)


def test_staffing_expected_attendance_flags_a_full_position_of_no_shows(now):
    position = make_position(now=now, headcount=2)
    reliable, flaky = VolunteerFactory(), VolunteerFactory()
    _history(reliable, attended=8, now=now)          # 11.4/12 = 0.95
    _history(flaky, attended=1, no_shows=3, now=now)  # 4.4/8 = 0.55
    _accepted(position, [reliable, flaky])
    [entry] = staffing(position.shift.campaign_id)["positions"]
    assert entry["accepted"] == 2 == entry["headcount"]
    assert entry["expected_attendance"] == round(_rate(8, 8) + _rate(1, 4), 2) == 1.5
    assert entry["at_risk"] is True  # half a person short of two


def test_staffing_not_at_risk_when_not_full_and_newcomers_count_as_the_districts_rate(now):
    position = make_position(now=now, headcount=3)
    newcomer, flaky = VolunteerFactory(), VolunteerFactory()
    _history(flaky, no_shows=4, now=now)                                  # 3.4/8
    _accepted(position, [newcomer, flaky])
    # Declined/expired call-ups and other people's histories do not count.
    db.session.add(CallUp(position_id=position.id, volunteer_id=VolunteerFactory().id, status=S.DECLINED))
    db.session.commit()
    [entry] = staffing(position.shift.campaign_id)["positions"]
    assert (entry["accepted"], entry["expected_attendance"], entry["at_risk"]) == (2, round(FALLBACK.mean + _rate(0, 4), 2), False)


def test_staffing_counts_attended_as_one_and_no_show_as_zero(now):
    position = make_position(now=now, headcount=3)
    came, missed, coming = VolunteerFactory(), VolunteerFactory(), VolunteerFactory()
    _history(coming, attended=2, now=now)                                 # 5.4/6
    for person, status in ((came, S.ATTENDED), (missed, S.NO_SHOW), (coming, S.ACCEPTED)):
        db.session.add(CallUp(position_id=position.id, volunteer_id=person.id, status=status))
    db.session.commit()
    [entry] = staffing(position.shift.campaign_id)["positions"]
    assert (entry["accepted"], entry["expected_attendance"], entry["at_risk"]) == (3, round(1 + _rate(2, 2), 2), True)


def test_staffing_empty_position_has_zero_expected_and_is_not_at_risk(now):
    position = make_position(now=now, headcount=2)
    [entry] = staffing(position.shift.campaign_id)["positions"]
    assert (entry["expected_attendance"], entry["at_risk"]) == (0.0, False)


# --- The coordinator's own channels -------------------------------------------------------------

COORD_EMAIL, COORD_MOBILE, COORD_WECOM = "wang.zhuren@jn.example.cn", "13800001111", "wangzhuren"


def _coordinate(position, *, channels=("email",), active=True, role=Role.OFFICE, email=COORD_EMAIL,
                mobile=COORD_MOBILE, wecom_id=COORD_WECOM) -> User:
    """An office account of the campaign's office, made the campaign's coordinator."""
    campaign = position.shift.campaign
    user = User(login=f"coord-{campaign.id}", display_name="王主任", password_hash="!", role=role,
                grid_id=campaign.office_grid_id if role is Role.OFFICE else None, active=active,
                email=email, mobile=mobile, wecom_id=wecom_id, notify_channels=",".join(channels),
                session_version=1, failed_logins=0)
    db.session.add(user)
    db.session.flush()
    campaign.coordinator_user_id = user.id
    db.session.commit()
    return user


def _dispatch(config, *, at):
    channels = build_channels(config)
    try:
        return dispatch_outbox(now=at, channels=channels)
    finally:
        close_channels(channels)


def _mail_text(message) -> str:
    """The decoded body of a received (compat32) message."""
    return message.get_payload(decode=True).decode(message.get_content_charset() or "utf-8")


def _subject(message) -> str:
    from email.header import decode_header, make_header

    return str(make_header(decode_header(message["Subject"])))


def test_coordinator_who_chose_email_gets_one_real_email_per_answer(now, channels_config, smtp_server):
    position = _named_position(now, headcount=2)
    _coordinate(position, channels=("email",))
    first, second = sent_callups(position, 2, now=now)
    person = db.session.get(Volunteer, first.volunteer_id)
    person.name, person.mobile, person.identity_flags, person.party_branch = "张伟明", "13912345678", 1, "第一支部"
    db.session.commit()
    accept_callup(first.id, actor="a", now=now)
    accept_callup(first.id, actor="a", now=now + timedelta(minutes=1))       # repeated: nothing new
    decline_callup(second.id, actor="b", now=now + timedelta(minutes=2))
    decline_callup(second.id, actor="b", now=now + timedelta(minutes=3))     # repeated: nothing new
    _dispatch(channels_config, at=now + timedelta(minutes=4))
    _dispatch(channels_config, at=now + timedelta(minutes=5))                # nothing left to send twice
    # Exactly one e-mail per answer (the dispatcher's order is not the answers' order on every database).
    mails = {m["X-Idempotency-Key"]: m for m in smtp_server.messages}
    assert len(smtp_server.messages) == 2 and set(mails) == {
        f"{first.id}:coordinator:email:accepted", f"{second.id}:coordinator:email:declined"}
    accepted, declined = mails[f"{first.id}:coordinator:email:accepted"], mails[f"{second.id}:coordinator:email:declined"]
    assert {m["To"] for m in mails.values()} == {COORD_EMAIL}
    assert _subject(accepted) == "网格通知：燃气入户"
    assert _mail_text(accepted).strip() == "“燃气入户”：张** 接受了 入户检查员 (1/2)"
    assert "拒绝了 入户检查员 (1/2)" in _mail_text(declined)
    for mail in mails.values():
        text = _subject(mail) + _mail_text(mail)
        assert "13912345678" not in text and "张伟明" not in text and "支部" not in text
    rows = outbox(kind=K, channel=Channel.EMAIL)
    assert [(r.status, r.volunteer_id, r.payload["recipient"]) for r in rows] == [
        (NotificationStatus.SENT, None, COORD_EMAIL)] * 2
    # The office's in-app rows are still there, one per answer.
    assert len(outbox(kind=K, channel=Channel.INAPP)) == 2
    # A withdrawal after the acceptance is the first call-up's one decline: one more e-mail, once.
    decline_callup(first.id, actor="a", now=now + timedelta(minutes=6))
    decline_callup(first.id, actor="a", now=now + timedelta(minutes=7))
    _dispatch(channels_config, at=now + timedelta(minutes=8))
    assert [m["X-Idempotency-Key"] for m in smtp_server.messages][2:] == [f"{first.id}:coordinator:email:declined"]
    assert "撤回了接受 入户检查员 (0/2)" in _mail_text(smtp_server.messages[2])


def test_no_row_for_a_channel_not_chosen_or_not_configured(app, now, monkeypatch, http_receiver):
    position = _named_position(now, headcount=3)
    _coordinate(position, channels=("email", "sms"))       # has a WeCom id too, but did not choose WeCom
    first, second = sent_callups(position, 2, now=now)
    # SMS and WeCom are configured, e-mail is not.
    monkeypatch.setitem(app.config, "SMS_GATEWAY_URL", http_receiver.url + "/sms")
    monkeypatch.setitem(app.config, "WECOM_WEBHOOK_URL", http_receiver.url + "/wecom")
    monkeypatch.setitem(app.config, "SMTP_URL", "")
    accept_callup(first.id, actor="a", now=now)
    assert sorted(r.channel.value for r in outbox(kind=K)) == ["inapp", "sms"]
    monkeypatch.setitem(app.config, "SMS_GATEWAY_URL", "")
    decline_callup(second.id, actor="b", now=now)
    assert sorted(r.channel.value for r in outbox(kind=K, callup_id=second.id)) == ["inapp"]


def test_sms_and_wecom_notices_go_to_the_coordinators_mobile_and_wecom_id(now, channels_config, http_receiver):
    title = "老旧小区燃气管道入户安全检查暨冬季防火宣传志愿服务活动第三期" * 3      # 90 characters
    position = make_position(now=now, headcount=2, title=title)
    position.role = "入户安全检查员（持证）与楼道宣传员" * 5                      # 85 characters
    db.session.commit()
    _coordinate(position, channels=("sms", "wecom", "email"))
    [callup] = sent_callups(position, 1, now=now)
    volunteer = db.session.get(Volunteer, callup.volunteer_id)
    accept_callup(callup.id, actor="a", now=now)
    rows = {r.channel: r for r in outbox(kind=K)}
    assert set(rows) == {Channel.INAPP, Channel.EMAIL, Channel.SMS, Channel.WECOM}
    assert len({r.idempotency_key for r in rows.values()}) == 4
    assert rows[Channel.SMS].idempotency_key == f"{callup.id}:coordinator:sms:accepted"
    assert (rows[Channel.SMS].payload["recipient"], rows[Channel.WECOM].payload["recipient"]) == (
        COORD_MOBILE, COORD_WECOM)
    sms = rows[Channel.SMS].payload["text"]
    assert len(sms) <= SMS_LIMIT["zh"] and sms.startswith("老旧小区") and "接受了 入户安全" in sms
    assert sms.endswith("… (1/2)")                           # the count survives the cut
    assert title in rows[Channel.EMAIL].payload["text"]      # e-mail needs no cut
    for row in rows.values():
        assert row.volunteer_id is None
        assert volunteer.mobile not in repr(row.payload) and volunteer.name not in repr(row.payload)
    _dispatch(channels_config, at=now)
    # The WeCom robot's body has no key: pick the coordinator's requests by address.
    notices = [r for r in http_receiver.requests
               if ":coordinator:" in r["key"] or f"<@{COORD_WECOM}>" in str(r["body"])]
    by_path = {r["path"]: r["body"] for r in notices}
    assert sorted(r["path"] for r in notices) == ["/sms", "/wecom"]  # the integration webhook gets no staff notices
    assert (by_path["/sms"]["to"], by_path["/sms"]["text"]) == (COORD_MOBILE, sms)
    assert "接受了" in by_path["/wecom"]["markdown"]["content"]


def test_routine_notices_wait_out_quiet_hours_emergencies_do_not(now, channels_config):
    late = now.replace(hour=15)                                # 23:00 in Shanghai
    morning = now.replace(hour=0) + timedelta(days=1)          # 08:00 the next day
    routine = _named_position(now, headcount=2)
    _coordinate(routine, channels=("email",))
    [answer] = sent_callups(routine, 1, now=late)
    accept_callup(answer.id, actor="a", now=late)
    rows = {r.channel: r.due_at for r in outbox(kind=K, callup_id=answer.id)}
    assert rows == {Channel.INAPP: late, Channel.EMAIL: morning}
    urgent = make_position(now=late, headcount=2, priority=Priority.EMERGENCY, starts_in=timedelta(hours=2))
    _coordinate(urgent, channels=("email",))
    [alarm] = sent_callups(urgent, 1, now=late)
    accept_callup(alarm.id, actor="a", now=late)
    assert {r.channel: r.due_at for r in outbox(kind=K, callup_id=alarm.id)} == {
        Channel.INAPP: late, Channel.EMAIL: late}


def test_no_coordinator_or_an_inactive_one_gets_the_in_app_row_only(now, channels_config):
    none = _named_position(now)
    [first] = sent_callups(none, 1, now=now)
    accept_callup(first.id, actor="a", now=now)
    assert [r.channel for r in outbox(kind=K, callup_id=first.id)] == [Channel.INAPP]
    gone = _named_position(now)
    _coordinate(gone, channels=("email", "sms", "wecom"), active=False)
    [second] = sent_callups(gone, 1, now=now)
    accept_callup(second.id, actor="a", now=now)
    assert [r.channel for r in outbox(kind=K, callup_id=second.id)] == [Channel.INAPP]


def test_a_chosen_channel_without_an_address_writes_no_row(now, channels_config):
    position = _named_position(now)
    _coordinate(position, channels=("email", "sms"), email=None)
    [callup] = sent_callups(position, 1, now=now)
    decline_callup(callup.id, actor="a", now=now)
    assert sorted(r.channel.value for r in outbox(kind=K)) == ["inapp", "sms"]


def test_deleting_the_coordinators_account_leaves_the_campaign_without_one(now):
    position = _named_position(now)
    user = _coordinate(position)
    campaign_id = position.shift.campaign_id
    db.session.delete(user)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Campaign, campaign_id).coordinator_user_id is None
