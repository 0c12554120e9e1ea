"""The answer link of a team call-up: the leader ticks members (names only), sends them or declines."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from notices.links import _issue_link
from campaigns.models import CallUp, CallUpStatus, CampaignStatus, Position
from campaigns.team_offers import offer_to_team
from core.clock import utcnow
from core.scope import Scope
from extensions import db
from tests.factories import TeamFactory, VolunteerFactory
from tests.scheduler.helpers import make_position

S = CallUpStatus
MEMBERS = (("张建国", "13812340001"), ("李秀英", "13812340002"), ("王志强", "13812340003"))


def team_offer(*, places=2, headcount=3, language="zh"):
    """A published position, a team of three active members, and a sent offer of ``places`` with a link."""
    now = utcnow()
    position = make_position(now=now, headcount=headcount, status=CampaignStatus.PUBLISHED, title="滨江河道保洁")
    leader = VolunteerFactory(name="赵队长", mobile="13812340000", language=language)
    # Free all week: the members a leader names pass the matcher's gates, availability included.
    members = [VolunteerFactory(name=name, mobile=mobile, availability_mask=bytes([0xFF] * 42))
               for name, mobile in MEMBERS]
    team = TeamFactory(name="绿源环保突击队", leader_id=leader.id, members=members)
    db.session.commit()
    callup = offer_to_team(position.id, team.id, scope=Scope.system("office"), now=now, places=places)
    token = _issue_link(callup.id, expires_at=callup.expires_at, now=now)
    db.session.commit()
    return position.id, callup.id, token, leader.id, [m.id for m in members]


def _callups(position_id):
    db.session.expire_all()
    return db.session.scalars(select(CallUp).where(CallUp.position_id == position_id).order_by(CallUp.id)).all()


def _accepted_count(position_id):
    db.session.expire_all()
    return db.session.get(Position, position_id).accepted_count


def test_team_link_page_shows_the_team_places_and_member_names_only(client):
    _, callup_id, token, _, members = team_offer()
    response = client.get(f"/r/{token}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "绿源环保突击队" in page and 'id="places">2<' in page and "滨江河道保洁" in page
    assert all(name in page for name, _ in MEMBERS)
    assert all(f'value="{m}"' in page for m in members)
    assert "派出所选成员" in page and 'value="decline"' in page and 'value="accept"' not in page
    assert not any(mobile in page or mobile[-4:] in page for _, mobile in MEMBERS)
    assert "style=" not in page and "<script>" not in page  # only the page's own file script (seen.js)
    assert db.session.get(CallUp, callup_id).seen_at is None  # reading is not "seen"; the script posts that
    assert client.post(f"/r/{token}/seen").status_code == 204
    db.session.expire_all()
    assert db.session.get(CallUp, callup_id).seen_at is not None


def test_leader_sends_two_ticked_members(client):
    position_id, callup_id, token, leader, members = team_offer()
    response = client.post(f"/r/{token}", data={"action": "send", "member_ids": [str(m) for m in members[:2]]})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="done"' in page and "2 人参加" in page and 'id="conflict"' not in page
    assert "张建国" in page.split('id="sent-members"')[1] and 'name="member_ids"' not in page
    rows = _callups(position_id)
    team_callup = next(c for c in rows if c.id == callup_id)
    assert (team_callup.status, team_callup.answered_by) == (S.ACCEPTED, f"link:volunteer:{leader}")
    assert sorted((c.volunteer_id, c.status) for c in rows if c.volunteer_id) == [
        (members[0], S.ACCEPTED), (members[1], S.ACCEPTED)]
    assert _accepted_count(position_id) == 2
    # The link now shows the answer and takes no second one.
    again = client.post(f"/r/{token}", data={"action": "send", "member_ids": [str(members[2])]})
    assert again.status_code == 409 and 'id="conflict"' in again.get_data(as_text=True)
    assert len(_callups(position_id)) == 3 and _accepted_count(position_id) == 2


def test_choosing_more_than_the_places_offered_is_refused_and_writes_nothing(client):
    position_id, callup_id, token, _, members = team_offer(places=2)
    response = client.post(f"/r/{token}", data={"action": "send", "member_ids": [str(m) for m in members]})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="conflict"' in page and "最多只能选 2 人" in page and "未作任何更改" in page
    assert page.count(" checked>") == 3  # the ticks are kept so the leader can untick one
    assert [(c.id, c.status) for c in _callups(position_id)] == [(callup_id, S.SENT)]
    assert _accepted_count(position_id) == 0


def test_sending_nobody_asks_to_choose_or_decline(client):
    position_id, callup_id, token, _, _ = team_offer()
    response = client.post(f"/r/{token}", data={"action": "send"})
    assert response.status_code == 422 and "请至少选择一名成员" in response.get_data(as_text=True)
    assert [(c.id, c.status) for c in _callups(position_id)] == [(callup_id, S.SENT)]


def test_a_busy_member_is_named_and_nothing_is_written(client):
    position_id, callup_id, token, _, members = team_offer()
    now = utcnow()
    elsewhere = make_position(now=now, status=CampaignStatus.PUBLISHED)  # the same hours
    db.session.add(CallUp(position_id=elsewhere.id, volunteer_id=members[1], status=S.ACCEPTED, send_at=now,
                          sent_at=now, responded_at=now))
    db.session.commit()
    response = client.post(f"/r/{token}", data={"action": "send", "member_ids": [str(m) for m in members[:2]]})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "同一时间已有任务：李秀英" in page and "张建国" not in page.split('id="conflict"')[1].split("</p>")[0]
    assert [(c.id, c.status) for c in _callups(position_id)] == [(callup_id, S.SENT)]


def test_a_full_position_is_refused_on_the_page(client):
    position_id, callup_id, token, _, members = team_offer(places=2, headcount=3)
    db.session.execute(Position.__table__.update().where(Position.id == position_id).values(accepted_count=2))
    db.session.commit()
    response = client.post(f"/r/{token}", data={"action": "send", "member_ids": [str(m) for m in members[:2]]})
    assert response.status_code == 409
    assert "只剩 1 个" in response.get_data(as_text=True)
    assert [(c.id, c.status) for c in _callups(position_id)] == [(callup_id, S.SENT)]
    assert _accepted_count(position_id) == 2


def test_leader_declines_for_the_team(client):
    position_id, callup_id, token, _, members = team_offer()
    response = client.post(f"/r/{token}", data={"action": "decline", "member_ids": [str(members[0])]})
    assert response.status_code == 200
    assert "本队不参加" in response.get_data(as_text=True)
    assert [(c.id, c.status) for c in _callups(position_id)] == [(callup_id, S.DECLINED)]
    assert _accepted_count(position_id) == 0


def test_english_leader_and_forged_forms(client):
    position_id, callup_id, token, _, members = team_offer(language="en")
    page = client.get(f"/r/{token}").get_data(as_text=True)
    assert "Send the selected members" in page and "Places offered" in page
    too_many = client.post(f"/r/{token}", data={"action": "send", "member_ids": [str(m) for m in members]})
    assert "At most 2 people" in too_many.get_data(as_text=True)
    assert client.post(f"/r/{token}", data={"action": "accept"}).status_code == 400
    assert client.post(f"/r/{token}", data={"action": "send", "member_ids": ["1; drop"]}).status_code == 400
    assert [(c.id, c.status) for c in _callups(position_id)] == [(callup_id, S.SENT)]


def test_a_single_persons_link_takes_no_member_list(client):
    from tests.scheduler.helpers import sent_callups

    now = utcnow()
    [callup] = sent_callups(make_position(now=now), 1, now=now, window=timedelta(hours=1))
    token = _issue_link(callup.id, expires_at=callup.expires_at, now=now)
    db.session.commit()
    assert client.post(f"/r/{token}", data={"action": "send", "member_ids": ["1"]}).status_code == 400
