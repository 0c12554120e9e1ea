"""Recurrence floods (issue #11): drafts never recur, rules more frequent than daily are refused, and a
template cancelled or deleted takes its occurrences that have not started with it."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from notices.models import Notification, NotificationKind
from campaigns import recurrence, services
from campaigns.models import CallUp, CallUpStatus, Campaign, CampaignStatus
from campaigns.responses import accept_callup
from core.clock import utcnow
from core.errors import ValidationFailed
from extensions import db
from tests.api.test_campaigns import campaign_body
from tests.calendar_ahead import local_at, saturday_ahead
from tests.db.test_recruitment import NOW, SAT_9, person
from tests.db.test_recurrence import materialise, occurrences, template

FLOODS = ["* * * * *", "*/5 * * * *", "0 * * * *", "0 9,18 * * *", "0 0,12 29 2 *"]
REAL_USE = ["0 9 * * sat", "0 9 1 * *", "30 8 * * *", "0 9 29 2 *", "0 9 1-7 * sat"]


def _draft_template(tree, cron="0 9 * * sat"):
    return template(tree, cron=cron, published=False)


def test_a_draft_template_never_produces_occurrences(tree):
    t = _draft_template(tree)
    person(tree.grid_a1, "13900000001")
    assert materialise(days_ahead=30) == []
    assert occurrences(t.id) == []
    assert db.session.scalar(select(func.count()).select_from(CallUp)) == 0


@pytest.mark.parametrize("cron", FLOODS)
def test_rules_more_frequent_than_daily_are_refused_naming_the_field(tree, cron):
    with pytest.raises(ValidationFailed) as error:
        _draft_template(tree, cron=cron)
    assert list(error.value.errors) == ["recurrence_cron"]
    assert "more often than once a day" in error.value.errors["recurrence_cron"][0]
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


@pytest.mark.parametrize("cron", REAL_USE)
def test_weekly_monthly_and_daily_rules_are_kept(tree, cron):
    assert _draft_template(tree, cron=cron).recurrence_cron == cron


def test_shortest_gap_reads_fire_times_over_the_window():
    assert recurrence.shortest_gap("0 9 * * sat") == timedelta(days=7)
    assert recurrence.shortest_gap("0 9 1 * *") == timedelta(days=28)  # February
    assert recurrence.shortest_gap("* * * * *") == timedelta(minutes=1)
    assert recurrence.too_frequent("0 0,12 29 2 *") and not recurrence.too_frequent("0 9 * * *")


def test_api_refuses_a_minutely_rule_with_a_422_on_recurrence_cron(api, tree):
    response = api.post("/campaigns", json=campaign_body(tree, recurrence_cron="* * * * *"))
    assert response.status_code == 422
    assert list(response.get_json()["errors"]["json"]) == ["recurrence_cron"]
    draft = api.post("/campaigns", json=campaign_body(tree)).get_json()
    response = api.patch(f"/campaigns/{draft['id']}", json={"recurrence_cron": "0 * * * *"})
    assert response.status_code == 422 and list(response.get_json()["errors"]["json"]) == ["recurrence_cron"]


def test_a_flooding_rule_stored_before_the_check_makes_nothing(tree):
    t = template(tree)
    db.session.execute(update(Campaign).where(Campaign.id == t.id).values(recurrence_cron="* * * * *"))
    db.session.commit()
    assert materialise() == [] and occurrences(t.id) == []


def _accepted_on(occurrence: Campaign) -> CallUp:
    [callup, *_] = db.session.scalars(select(CallUp).join(CallUp.position).where(
        CallUp.position_id.in_([p.id for s in occurrence.shifts for p in s.positions])).order_by(CallUp.id))
    db.session.execute(update(CallUp).where(CallUp.id == callup.id)
                       .values(status=CallUpStatus.SENT, sent_at=NOW, expires_at=NOW + timedelta(days=1)))
    db.session.commit()
    return accept_callup(callup.id, actor="volunteer", now=NOW)


def _cancellations() -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind == NotificationKind.CANCELLATION))


def test_cancelling_a_template_cancels_its_occurrences_not_started_and_tells_people(tree):
    for i in range(3):
        person(tree.grid_a1, f"1390000{i:04d}", identities=("party_member",))
    t = template(tree)
    first, second = materialise(days_ahead=14)
    accepted = _accepted_on(second)
    later = NOW + timedelta(days=4, hours=1)  # the first occurrence (Saturday 5th, 09:00) has started
    assert first.shifts[0].start_at <= later < second.shifts[0].start_at

    services.cancel_campaign(t.id, reason="活动停办", actor="office", now=later)

    db.session.expire_all()
    statuses = {c.id: c.status for c in occurrences(t.id)}
    assert statuses == {first.id: CampaignStatus.PUBLISHED, second.id: CampaignStatus.CANCELLED}
    assert db.session.get(Campaign, second.id).cancel_reason == "活动停办"
    # The second occurrence's call-ups are withdrawn, except the acceptance, whose person is told.
    open_left = db.session.scalar(select(func.count()).select_from(CallUp).join(CallUp.position).where(
        CallUp.position_id.in_([p.id for s in second.shifts for p in s.positions]),
        CallUp.status.in_((CallUpStatus.SCHEDULED, CallUpStatus.SENT))))
    assert open_left == 0 and db.session.get(CallUp, accepted.id).status is CallUpStatus.ACCEPTED
    assert _cancellations() == 1
    assert materialise(now=later, days_ahead=14) == []


def test_deleting_a_draft_template_cancels_its_leftover_occurrences(tree, api):
    # The DELETE reads the real clock, so this template and its occurrence lie around today, not NOW.
    today = utcnow()
    person(tree.grid_a1, "13900000001", identities=("party_member",))
    t = template(tree, start=local_at(saturday_ahead(weeks=0), 9) - timedelta(days=7))
    [occurrence] = materialise(now=today)
    accepted = _accepted_on(occurrence)
    # A template left in draft with occurrences (made before drafts stopped recurring).
    db.session.execute(update(Campaign).where(Campaign.id == t.id).values(status=CampaignStatus.DRAFT))
    db.session.commit()

    assert api.delete(f"/campaigns/{t.id}").status_code == 204

    db.session.expire_all()
    assert db.session.get(Campaign, t.id) is None
    kept = db.session.get(Campaign, occurrence.id)
    assert kept.status is CampaignStatus.CANCELLED and kept.template_id is None
    assert db.session.get(CallUp, accepted.id).status is CallUpStatus.ACCEPTED and _cancellations() == 1
