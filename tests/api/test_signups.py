"""Sign-ups: a campaign that takes them lists its open places to volunteers of the shift's street, nearest
first, with the matcher's gates; taking one is an accept by the one answer path (no over-fill, standby when full)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from sqlalchemy import func, select

from accounts.models import Role
from accounts.services import create_token
from campaigns.models import CallUp, CallUpStatus, CampaignStatus, Position, PositionSkill
from campaigns.signups import openings_near, sign_up
from core.clock import utcnow
from core.errors import Conflict
from extensions import db
from notices.models import Notification
from tests.conftest import ApiClient
from tests.factories import VolunteerFactory
from tests.scheduler.helpers import make_position
from tests.web.test_office_pages import ALWAYS


def _token(volunteer_id: int) -> str:
    return create_token(name="test volunteer", role=Role.VOLUNTEER, now=utcnow(), volunteer_id=volunteer_id)[1]


def _open_position(tree, *, grid, headcount=2, sign_ups=True, starts_in=timedelta(days=2), title="社区清洁日"):
    now = utcnow()
    position = make_position(now=now, headcount=headcount, starts_in=starts_in, office_grid_id=tree.community_a.id,
                             title=title, status=CampaignStatus.PUBLISHED, published_at=now,
                             policy={"sign_ups": sign_ups})
    position.shift.grid_id = grid.id
    db.session.commit()
    return position


def test_openings_list_the_street_nearest_first_with_gates(client, tree):
    person = VolunteerFactory(home_grid_id=tree.grid_a1.id, availability_mask=ALWAYS)
    in_my_grid = _open_position(tree, grid=tree.grid_a1, starts_in=timedelta(days=5), title="本网格")
    in_my_street = _open_position(tree, grid=tree.grid_b1, starts_in=timedelta(days=1), title="湘湖")
    in_my_community = _open_position(tree, grid=tree.grid_a2, starts_in=timedelta(days=3), title="江南二")
    _open_position(tree, grid=tree.grid_a1, sign_ups=False, title="不开放报名")
    needs_skill = _open_position(tree, grid=tree.grid_a1, title="需要证书")
    db.session.add(PositionSkill(position_id=needs_skill.id, skill_id=tree.skills["gas_check"].id, min_level=2))
    db.session.commit()

    me = ApiClient(client, _token(person.id))
    listed = me.get("/me/openings").get_json()
    # Nearest first (grid, community, street), then soonest: the skilled place starts before the other in my grid.
    assert [row["position_id"] for row in listed] == [needs_skill.id, in_my_grid.id, in_my_community.id,
                                                      in_my_street.id]
    assert [row["nearness"] for row in listed] == ["grid", "grid", "community", "street"]
    assert {row["position_id"]: row["refusal"] for row in listed}[needs_skill.id] == "skill"
    assert [row["may_sign_up"] for row in listed] == [False, True, True, True]
    assert listed[1]["places_left"] == 2


def test_signing_up_accepts_at_once_and_confirms(client, tree):
    person = VolunteerFactory(home_grid_id=tree.grid_a1.id, availability_mask=ALWAYS)
    position = _open_position(tree, grid=tree.grid_a2)
    me = ApiClient(client, _token(person.id))

    taken = me.post("/me/sign-ups", json={"position_id": position.id})
    assert taken.status_code == 201, taken.get_json()
    assert taken.get_json()["status"] == "accepted"
    assert db.session.get(Position, position.id).accepted_count == 1
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.callup_id == taken.get_json()["id"])) >= 1
    again = me.post("/me/sign-ups", json={"position_id": position.id})
    assert again.status_code == 201 and again.get_json()["id"] == taken.get_json()["id"]
    assert db.session.get(Position, position.id).accepted_count == 1
    assert position.id not in [row["position_id"] for row in me.get("/me/openings").get_json()]


def test_sign_ups_are_refused_with_the_reason(client, tree):
    person = VolunteerFactory(home_grid_id=tree.grid_a1.id, availability_mask=ALWAYS)
    me = ApiClient(client, _token(person.id))
    closed = _open_position(tree, grid=tree.grid_a1, sign_ups=False)
    refused = me.post("/me/sign-ups", json={"position_id": closed.id})
    assert refused.status_code == 409 and "position_id" in refused.get_json()["errors"]["json"]

    needs_skill = _open_position(tree, grid=tree.grid_a1)
    db.session.add(PositionSkill(position_id=needs_skill.id, skill_id=tree.skills["gas_check"].id, min_level=2))
    db.session.commit()
    refused = me.post("/me/sign-ups", json={"position_id": needs_skill.id})
    assert refused.status_code == 422 and "volunteer_id" in refused.get_json()["errors"]["json"]

    assert me.post("/me/sign-ups", json={"position_id": 999999}).status_code == 404
    bad = me.post("/me/sign-ups", json={"position_id": "x"})
    assert bad.status_code == 422 and "position_id" in bad.get_json()["errors"]["json"]
    assert db.session.scalar(select(func.count()).select_from(CallUp)) == 0


def test_a_person_of_another_street_sees_nothing_and_cannot_sign_up(client, tree):
    from core.scope import Scope
    from grids.services import create_grid

    other_street = create_grid({"code": "S2", "name": "长河街道", "level": 1, "parent_id": tree.district.id},
                               scope=Scope.system("test"))
    far_community = create_grid({"code": "S2C", "name": "长河社区", "level": 2, "parent_id": other_street.id},
                                scope=Scope.system("test"))
    far_grid = create_grid({"code": "S2G", "name": "长河网格", "level": 3, "parent_id": far_community.id},
                           scope=Scope.system("test"))
    stranger = VolunteerFactory(home_grid_id=far_grid.id, availability_mask=ALWAYS)
    position = _open_position(tree, grid=tree.grid_a1)
    me = ApiClient(client, _token(stranger.id))
    assert me.get("/me/openings").get_json() == []
    assert me.post("/me/sign-ups", json={"position_id": position.id}).status_code == 409
    assert db.session.get(Position, position.id).accepted_count == 0


def test_a_full_position_keeps_the_last_on_standby_and_never_over_fills(tree):
    position = _open_position(tree, grid=tree.grid_a1, headcount=1)
    first, second = (VolunteerFactory(home_grid_id=tree.grid_a1.id, availability_mask=ALWAYS) for _ in range(2))
    now = utcnow()
    assert sign_up(first.id, position.id, now=now, actor="v1").status is CallUpStatus.ACCEPTED
    assert openings_near(second.id, now=now) == []
    with pytest.raises(Conflict) as refused:
        sign_up(second.id, position.id, now=now, actor="v2")
    assert refused.value.code == "standby"
    db.session.rollback()
    assert db.session.get(Position, position.id).accepted_count == 1
    assert db.session.scalar(select(func.count()).select_from(CallUp).where(
        CallUp.status == CallUpStatus.ACCEPTED)) == 1


def test_started_shifts_and_other_roles_are_refused(client, tree, admin_token):
    person = VolunteerFactory(home_grid_id=tree.grid_a1.id, availability_mask=ALWAYS)
    started = _open_position(tree, grid=tree.grid_a1, starts_in=timedelta(minutes=-10))
    me = ApiClient(client, _token(person.id))
    assert started.id not in [row["position_id"] for row in me.get("/me/openings").get_json()]
    assert me.post("/me/sign-ups", json={"position_id": started.id}).status_code == 409
    admin = ApiClient(client, admin_token)
    assert admin.get("/me/openings").status_code in (403, 404)
