"""The rules behind emergencies at any hour, with the clock moved: who may be called, when messages go,
what they say."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from notices.messages import render
from notices.models import NotificationKind
from notices.outbox import push_time
from campaigns.models import Priority
from campaigns.recruitment import plan_recruitment
from extensions import db
from tests.factories import CampaignFactory, PositionFactory, ShiftFactory, VolunteerFactory
from volunteers.availability import windows_to_mask
from volunteers.models import DutyRota, Identity

SHANGHAI = ZoneInfo("Asia/Shanghai")
CONFIG = {"TIMEZONE": "Asia/Shanghai", "DAILY_MESSAGE_CAP": 1}
DAYTIME = windows_to_mask([(day, 9 * 60, 17 * 60) for day in range(7)])


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI).astimezone(timezone.utc)


@pytest.mark.parametrize("priority_emergency, now, before, expected", [
    # An emergency goes at once, at 03:00 as at noon.
    (True, local(4, 3), local(4, 3, 30), local(4, 3)),
    # An urgent call-up at 02:00 for a 06:00 shift: holding it until 08:00 would be useless, so it goes now.
    (False, local(4, 2), local(4, 6), local(4, 2)),
    # A routine one for tomorrow afternoon waits for the morning.
    (False, local(4, 2), local(5, 14), local(4, 8)),
    # At 23:00 for a 07:30 shift: goes now, not at 08:00.
    (False, local(4, 23), local(5, 7, 30), local(4, 23)),
])
def test_quiet_hours_never_hold_a_message_past_its_shift(priority_emergency, now, before, expected):
    assert push_time(None, now=now, kind=NotificationKind.CALLUP, emergency=priority_emergency, config=CONFIG,
                     before=before) == expected


def test_the_daily_cap_never_delays_an_emergency(tree):
    from notices.models import Channel, Notification, NotificationStatus

    person = VolunteerFactory(home_grid_id=tree.grid_a1.id)
    db.session.add(Notification(volunteer_id=person.id, channel=Channel.SMS, kind=NotificationKind.CALLUP,
                                idempotency_key="x", status=NotificationStatus.SENT, due_at=local(4, 9),
                                sent_at=local(4, 9), created_at=local(4, 9), payload={}))
    db.session.commit()
    routine = push_time(person.id, now=local(4, 10), kind=NotificationKind.CALLUP, emergency=False, config=CONFIG,
                        before=local(7, 10))
    assert routine == local(5, 8)  # over the cap of 1: tomorrow morning
    assert push_time(person.id, now=local(4, 10), kind=NotificationKind.CALLUP, emergency=True, config=CONFIG,
                     before=local(4, 11)) == local(4, 10)


def _night_emergency(tree, *, priority=Priority.EMERGENCY, headcount=1):
    campaign = CampaignFactory(priority=priority, office_grid_id=tree.community_a.id)
    shift = ShiftFactory(campaign=campaign, start_at=local(7, 4), end_at=local(7, 6), grid_id=tree.grid_a1.id)
    PositionFactory(shift=shift, headcount=headcount)
    db.session.commit()
    return campaign


def _chosen(campaign, now=None):
    plan = plan_recruitment(campaign, now=now or local(7, 3, 50), timezone_name="Asia/Shanghai")
    return [p.volunteer_id for p in plan.positions[0].proposals], plan


def test_night_emergency_calls_daytime_people_but_not_those_who_opted_out(tree):
    daytime = VolunteerFactory(home_grid_id=tree.grid_a1.id, availability_mask=DAYTIME)
    VolunteerFactory(home_grid_id=tree.grid_a1.id, availability_mask=DAYTIME, emergency_calls="available_hours")
    db.session.commit()
    chosen, plan = _chosen(_night_emergency(tree, headcount=2))
    assert chosen == [daytime.id]
    assert plan.positions[0].places_left_open == 1
    assert plan.positions[0].reasons[0]["code"] == "unavailable"
    routine, plan = _chosen(_night_emergency(tree, priority=Priority.URGENT))
    assert routine == []  # outside emergencies, weekly availability still excludes


def test_people_on_duty_that_week_are_called_first(tree):
    people = [VolunteerFactory(home_grid_id=tree.grid_a1.id, availability_mask=DAYTIME,
                               identity_flags=Identity.SUNK_DOWN_CADRE.bit) for _ in range(3)]
    monday = local(7, 12).astimezone(SHANGHAI).date()  # 2026-12-07 is a Monday
    db.session.add(DutyRota(volunteer_id=people[2].id, week_start=monday, created_at=local(1, 9)))
    db.session.commit()
    chosen, plan = _chosen(_night_emergency(tree))
    assert chosen == [people[2].id]
    assert plan.positions[0].proposals[0].breakdown["duty"] == 0.0
    db.session.query(DutyRota).update({"week_start": monday + timedelta(days=7)})
    db.session.commit()
    chosen, plan = _chosen(_night_emergency(tree))
    assert chosen == [people[0].id]  # another week's rota changes nothing; the lower id breaks the tie
    assert plan.positions[0].proposals[0].breakdown["duty"] > 0


def test_emergency_texts_say_what_where_when_and_how_to_answer_in_the_persons_language():
    context = {"name": "Li", "title": "Burst pipe", "role": "helper", "when": "Mon 07 Dec 04:00",
               "short_when": "07/12 04:00", "place": "Block 3", "deadline": "Mon 07 Dec 03:59",
               "link": "https://gm.example.cn/r/" + "a" * 22, "contact": "Wang"}
    english = render("emergency_callup", "en", context, channel="sms").text
    assert english.startswith("[EMERGENCY] Burst pipe at Block 3 07/12 04:00") and "1 15" in english
    chinese = render("emergency_callup", "zh", context | {"title": "爆管抢修", "place": "3幢"}, channel="sms").text
    assert chinese.startswith("【应急】爆管抢修 3幢") and "2不能" in chinese and len(chinese) <= 134
    routine = render("callup", "zh", context, channel="sms").text
    assert not routine.startswith("【应急】")
