"""The board's roster: who accepted, masked mobiles, and checking people in or recording no-shows."""
from __future__ import annotations

from datetime import timedelta

import pytest

from campaigns.models import CallUp, CallUpStatus
from campaigns.responses import accept_callup
from core.clock import utcnow
from extensions import db
from tests.conftest import form_csrf_token
from tests.scheduler.helpers import make_position, sent_callups
from volunteers.models import Volunteer


def _shift_with_people(tree, *, starts_in):
    now = utcnow()
    position = make_position(now=now, headcount=2, starts_in=starts_in, office_grid_id=tree.community_a.id)
    accepted, waiting = sent_callups(position, 2, now=now - timedelta(minutes=5))
    accept_callup(accepted.id, actor="v", now=now - timedelta(minutes=1))
    return position.shift.campaign_id, accepted, waiting


def _row(page: str, callup_id: int) -> str:
    start = page.find(f'id="roster-{callup_id}"')
    return page[start:page.find("</tr>", start)] if start >= 0 else ""


def _status(callup_id):
    db.session.expire_all()
    return db.session.get(CallUp, callup_id).status


def test_roster_shows_who_accepted_with_masked_mobiles_and_marks_them(login_as, tree):
    campaign_id, accepted, waiting = _shift_with_people(tree, starts_in=timedelta(minutes=-30))
    person = db.session.get(Volunteer, accepted.volunteer_id)
    office = login_as("office", grid_id=tree.community_a.id)
    page = office.get(f"/office/campaigns/{campaign_id}")
    text = page.get_data(as_text=True)
    row = _row(text, accepted.id)
    assert person.name in row and person.mobile not in text
    assert f"{person.mobile[:3]}****{person.mobile[-4:]}" in row
    assert f'id="mark-attended-{accepted.id}"' in row and f'id="mark-no_show-{accepted.id}"' in row
    assert _row(text, waiting.id) == ""  # not accepted: not on the roster

    response = office.post(f"/office/campaigns/{campaign_id}/attendance/{accepted.id}",
                           data={"csrf_token": form_csrf_token(page), "attended": "1"})
    assert response.status_code == 302 and response.headers["Location"].endswith("#roster")
    assert _status(accepted.id) is CallUpStatus.ATTENDED
    after = office.get(f"/office/campaigns/{campaign_id}").get_data(as_text=True)
    assert "已登记到岗" in after and 'data-status="attended"' in _row(after, accepted.id)
    assert f'id="mark-attended-{accepted.id}"' not in _row(after, accepted.id)  # already marked: only a correction


def test_before_check_in_opens_the_roster_says_when_and_offers_no_buttons(login_as, tree):
    campaign_id, accepted, _ = _shift_with_people(tree, starts_in=timedelta(hours=5))
    office = login_as("office", grid_id=tree.community_a.id)
    page = office.get(f"/office/campaigns/{campaign_id}")
    row = _row(page.get_data(as_text=True), accepted.id)
    assert "班次前两小时开放" in row and "mark-attended" not in row
    # A forged early post is refused by the service and said on the board; nothing changes.
    office.post(f"/office/campaigns/{campaign_id}/attendance/{accepted.id}",
                data={"csrf_token": form_csrf_token(page), "attended": "1"})
    assert _status(accepted.id) is CallUpStatus.ACCEPTED
    assert "未能登记" in office.get(f"/office/campaigns/{campaign_id}").get_data(as_text=True)


@pytest.mark.parametrize("changes", [{"attended": "maybe"}, {"attended": ""}, {"csrf_token": "forged"}])
def test_forged_attendance_posts_are_400(login_as, tree, changes):
    campaign_id, accepted, _ = _shift_with_people(tree, starts_in=timedelta(minutes=-30))
    office = login_as("office", grid_id=tree.community_a.id)
    body = {"csrf_token": form_csrf_token(office.get(f"/office/campaigns/{campaign_id}")), "attended": "1"} | changes
    assert office.post(f"/office/campaigns/{campaign_id}/attendance/{accepted.id}", data=body).status_code == 400
    assert _status(accepted.id) is CallUpStatus.ACCEPTED


def test_a_callup_of_another_campaign_or_office_is_404(login_as, tree):
    campaign_id, accepted, _ = _shift_with_people(tree, starts_in=timedelta(minutes=-30))
    other_campaign, other_callup, _ = _shift_with_people(tree, starts_in=timedelta(minutes=-30))
    office = login_as("office", grid_id=tree.community_a.id)
    token = form_csrf_token(office.get(f"/office/campaigns/{campaign_id}"))
    # The call-up exists but belongs to another campaign than the URL says.
    assert office.post(f"/office/campaigns/{campaign_id}/attendance/{other_callup.id}",
                       data={"csrf_token": token, "attended": "1"}).status_code == 404
    stranger = login_as("office", grid_id=tree.community_b.id)
    token_b = form_csrf_token(stranger.get("/office/campaigns/new"))
    assert stranger.post(f"/office/campaigns/{campaign_id}/attendance/{accepted.id}",
                         data={"csrf_token": token_b, "attended": "1"}).status_code == 404
    assert _status(accepted.id) is _status(other_callup.id) is CallUpStatus.ACCEPTED
