"""Each person is told in the language they chose, through the real channels: the scheduler renders and
sends outside any request, so the language is the person's, never a request's."""
from __future__ import annotations

import re
from email.header import decode_header, make_header

from callups.dispatch import dispatch_outbox, send_due_callups
from extensions import db
from notices.channels import build_channels, close_channels
from tests.scheduler.helpers import make_callups, make_position
from volunteers.models import Volunteer

HAN = re.compile(r"[\u3400-\u9fff]")
# The data of the call-up (make_position's place, role and contact; the person's name) is Chinese in both.
DATA = re.compile(r"江南社区服务中心|宣传员|王主任|张伟|Test campaign|\S+@example\.cn")


def _mail_text(mail) -> tuple[str, str]:
    subject = str(make_header(decode_header(mail["Subject"])))
    part = next(p for p in mail.walk() if p.get_content_type() == "text/plain")
    return subject, part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")


def test_english_and_chinese_volunteers_each_get_their_language_by_sms_and_email(
        app, now, channels_config, http_receiver, smtp_server):
    position = make_position(now=now, headcount=2, title="Test campaign")
    [zh] = make_callups(position, 1, now=now, email="zh@example.cn", language="zh", name="张伟")
    [en] = make_callups(position, 1, now=now, email="en@example.cn", language="en", name="张伟")
    mobiles = {db.session.get(Volunteer, c.volunteer_id).mobile: lang for c, lang in ((zh, "zh"), (en, "en"))}
    send_due_callups(now=now)
    channels = build_channels(app.config)
    try:
        dispatch_outbox(now=now, channels=channels)
    finally:
        close_channels(channels)

    sms = {mobiles[r["body"]["to"]]: r["body"]["text"] for r in http_receiver.requests if r["path"] == "/sms"}
    assert set(sms) == {"zh", "en"}
    assert sms["zh"].startswith("召集:") and "回1接受2拒绝" in sms["zh"] and len(sms["zh"]) <= 70
    assert sms["en"].startswith("Call-up: Test campaign") and "Reply 1 yes, 2 no" in sms["en"]
    assert not HAN.search(DATA.sub("", sms["en"])), sms["en"]

    mails = {mail["To"]: _mail_text(mail) for mail in smtp_server.messages}
    zh_subject, zh_body = mails["zh@example.cn"]
    en_subject, en_body = mails["en@example.cn"]
    assert zh_subject == "志愿召集：Test campaign"
    assert "社区邀请您参加“Test campaign”（宣传员）" in zh_body and "请在" in zh_body
    assert en_subject == "Call-up: Test campaign"
    assert 'your community invites you to "Test campaign" (宣传员)' in en_body and "Please answer by" in en_body
    assert not HAN.search(DATA.sub("", en_subject + en_body)), en_body
    # The time each is told is in their own language's way of writing dates.
    assert re.search(r"\d+月\d+日 \d\d:\d\d", zh_body)
    assert re.search(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d\d:\d\d",
                     en_body)
