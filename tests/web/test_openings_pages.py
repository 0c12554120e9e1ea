"""Activities near me, as pages: the list in one language at a time, the sign-up and its refusals."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from campaigns.models import CallUp, CallUpStatus, CampaignStatus, Position, PositionSkill
from core.clock import utcnow
from extensions import db
from tests.conftest import form_csrf_token
from tests.scheduler.helpers import make_position
from tests.web.test_office_pages import ALWAYS
from volunteers.models import Volunteer


def _opening(tree, *, grid, headcount=2, sign_ups=True, title="社区清洁日"):
    now = utcnow()
    position = make_position(now=now, headcount=headcount, starts_in=timedelta(days=2),
                             office_grid_id=tree.community_a.id, title=title, status=CampaignStatus.PUBLISHED,
                             published_at=now, policy={"sign_ups": sign_ups})
    position.shift.grid_id = grid.id
    db.session.commit()
    return position


def _volunteer(login_as):
    client = login_as("volunteer")
    person = db.session.get(Volunteer, client.user.volunteer_id)
    person.availability_mask = ALWAYS
    db.session.commit()
    return client


def test_the_list_speaks_one_language_and_signs_up(login_as, tree):
    client = _volunteer(login_as)
    open_one = _opening(tree, grid=tree.grid_a1)
    skilled = _opening(tree, grid=tree.grid_a2, title="燃气检查")
    db.session.add(PositionSkill(position_id=skilled.id, skill_id=tree.skills["gas_check"].id, min_level=2))
    db.session.commit()

    page = client.get("/me/activities").get_data(as_text=True)
    assert "附近的活动" in page and "在您的网格" in page and "需要您尚未登记的技能或等级" in page
    assert "Activities near me" not in page and "Sign up" not in page
    assert f'id="sign-up-{open_one.id}"' in page and f'id="sign-up-{skilled.id}"' not in page
    english = client.get("/me/activities?lang=en").get_data(as_text=True)
    assert "Activities near me" in english and "In your grid" in english
    assert "It needs a skill or level you have not registered." in english and "附近的活动" not in english

    token = form_csrf_token(client.get("/me/activities"))
    answer = client.post("/me/activities/sign-up", data={"csrf_token": token, "position_id": open_one.id})
    assert answer.status_code == 302 and "/me#callup-" in answer.headers["Location"]
    assert db.session.get(Position, open_one.id).accepted_count == 1
    assert "You are signed up for 社区清洁日" in client.get("/me").get_data(as_text=True)


def test_refusals_come_back_as_a_message_and_write_nothing(login_as, tree):
    client = _volunteer(login_as)
    closed = _opening(tree, grid=tree.grid_a1, sign_ups=False)
    token = form_csrf_token(client.get("/me/activities?lang=zh"))
    answer = client.post("/me/activities/sign-up", data={"csrf_token": token, "position_id": closed.id})
    assert answer.status_code == 302
    assert "未能报名：此活动不接受您的报名。" in client.get("/me/activities").get_data(as_text=True)
    assert client.post("/me/activities/sign-up", data={"position_id": closed.id}).status_code in (302, 400)
    assert client.post("/me/activities/sign-up", data={"csrf_token": token, "position_id": "x"}).status_code == 302
    assert client.post("/me/activities/sign-up", data={"csrf_token": token, "position_id": 99999}).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(CallUp)) == 0


def test_an_empty_list_says_what_to_do(login_as, tree):
    client = _volunteer(login_as)
    page = client.get("/me/activities").get_data(as_text=True)
    assert 'id="no-openings"' in page and "附近暂时没有开放报名的活动" in page


def test_a_full_place_keeps_the_person_on_standby(login_as, tree):
    client = _volunteer(login_as)
    full = _opening(tree, grid=tree.grid_a1, headcount=1)
    other = _volunteer(login_as)
    token = form_csrf_token(other.get("/me/activities"))
    other.post("/me/activities/sign-up", data={"csrf_token": token, "position_id": full.id})
    token = form_csrf_token(client.get("/me/activities"))
    client.post("/me/activities/sign-up", data={"csrf_token": token, "position_id": full.id})
    assert db.session.get(Position, full.id).accepted_count == 1
    rows = db.session.execute(select(CallUp.status, CallUp.standby_at).where(CallUp.position_id == full.id)
                              .order_by(CallUp.id)).all()
    assert [row.status for row in rows] == [CallUpStatus.ACCEPTED, CallUpStatus.SENT]
    assert rows[1].standby_at is not None  # first in line for a freed place
    assert "岗位已满：已将您列为候补" in client.get("/me/activities").get_data(as_text=True)
