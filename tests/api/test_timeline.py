"""GET /campaigns/{id}/timeline: the call-up history of a campaign in time order."""
from __future__ import annotations

import json
from datetime import timedelta

from accounts.models import Role
from accounts.services import create_token
from callups.dispatch import send_due_callups
from campaigns.responses import accept_callup, decline_callup
from core.masking import mask_name
from extensions import db
from tests.conftest import ApiClient
from tests.scheduler.helpers import make_callups, make_position
from volunteers.models import Volunteer


def _history(now):
    position = make_position(now=now, headcount=2)
    first, second = make_callups(position, 2, now=now)
    send_due_callups(now=now)
    accept_callup(first.id, actor="link:volunteer:1", now=now + timedelta(minutes=5), eta_minutes=None)
    decline_callup(second.id, actor="sms:2", now=now + timedelta(minutes=3))
    return position.shift.campaign_id, first, second


def test_timeline_lists_state_changes_in_time_order(api, now):
    campaign_id, first, second = _history(now)
    response = api.get(f"/campaigns/{campaign_id}/timeline")
    assert response.status_code == 200
    events = response.get_json()
    assert [(e["callup_id"], e["from_state"], e["to_state"], e["actor"]) for e in events] == [
        (first.id, "scheduled", "sent", "scheduler"),
        (second.id, "scheduled", "sent", "scheduler"),
        (second.id, "sent", "declined", "sms:2"),
        (first.id, "sent", "accepted", "link:volunteer:1"),
    ]
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)
    assert events[0]["position_id"] == first.position_id and events[0]["volunteer_id"] == first.volunteer_id


def test_timeline_masks_names_and_shows_no_mobile(api, now):
    campaign_id, first, _ = _history(now)
    person = db.session.get(Volunteer, first.volunteer_id)
    response = api.get(f"/campaigns/{campaign_id}/timeline")
    event = response.get_json()[0]
    assert event["volunteer"] == mask_name(person.name) and event["volunteer"] != person.name
    text = response.get_data(as_text=True)
    assert person.mobile not in text and person.name not in text


def test_timeline_is_paginated(api, now):
    campaign_id, first, second = _history(now)
    page = api.get(f"/campaigns/{campaign_id}/timeline?page=2&page_size=3")
    assert page.status_code == 200
    assert [(e["callup_id"], e["to_state"]) for e in page.get_json()] == [(first.id, "accepted")]
    assert json.loads(page.headers["X-Pagination"])["total"] == 4


def test_timeline_of_another_campaign_is_empty_and_unknown_is_404(api, now):
    _history(now)
    other = make_position(now=now)
    assert api.get(f"/campaigns/{other.shift.campaign_id}/timeline").get_json() == []
    missing = api.get("/campaigns/999999/timeline")
    assert missing.status_code == 404


def test_timeline_is_for_office_staff_only(client, now):
    campaign_id, first, _ = _history(now)
    _, plain = create_token(name="self", role=Role.VOLUNTEER, volunteer_id=first.volunteer_id, now=now)
    assert ApiClient(client, plain).get(f"/campaigns/{campaign_id}/timeline").status_code == 403


def test_timeline_page_far_past_the_end_is_empty(api, now):
    """A page number no database OFFSET holds: an empty page, not a 500."""
    campaign_id, _, _ = _history(now)
    page = api.get(f"/campaigns/{campaign_id}/timeline?page={10**30}&page_size=300")
    assert page.status_code == 200 and page.get_json() == []
    assert json.loads(page.headers["X-Pagination"])["total"] == 4
