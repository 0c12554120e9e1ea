"""The caller's own endpoints (/me…), self-service export and erasure, and the SR-3 field rules."""
from __future__ import annotations

import pytest
from flask import g
from sqlalchemy import func, select

from accounts.models import ApiToken, Consent, Role, User
from accounts.privacy import ERASED_NAME, erased_mobile
from accounts.services import create_token
from api.schemas.volunteers import VolunteerSchema, VolunteerSummarySchema
from campaigns.models import CallUp, CallUpStatus
from core.clock import utcnow
from core.masking import mask_mobile
from core.scope import Scope
from extensions import db
from tests.conftest import ApiClient
from tests.db.test_erasure import BRANCH_A, EMAIL_A, MOBILE_A, MOBILE_B, People, build_people
from volunteers.models import Volunteer


@pytest.fixture
def people(tree) -> People:
    return build_people(tree)


@pytest.fixture
def as_a(client, people) -> ApiClient:
    return ApiClient(client, people.token_a)


def _token(role: Role, **binding) -> str:
    return create_token(name=f"test {role.value}", role=role, now=utcnow(), **binding)[1]


def test_me_shows_the_volunteer_behind_the_token(as_a, people):
    body = as_a.get("/me").get_json()
    assert (body["role"], body["volunteer_id"], body["enterprise_id"]) == ("volunteer", people.a.id, None)
    assert body["volunteer"]["name"] == "李娜"
    assert body["volunteer"]["mobile"] == mask_mobile(MOBILE_A) != MOBILE_A


def test_me_for_office_and_enterprise_names_their_binding(client, tree, people):
    office = ApiClient(client, _token(Role.OFFICE, grid_id=tree.community_a.id)).get("/me").get_json()
    assert (office["role"], office["grid_id"], office["grid_name"], office["volunteer"]) == (
        "office", tree.community_a.id, "江南社区", None)
    enterprise_id = people.team.enterprise_id
    firm = ApiClient(client, _token(Role.ENTERPRISE, enterprise_id=enterprise_id)).get("/me").get_json()
    assert (firm["role"], firm["enterprise_id"], firm["enterprise_name"]) == ("enterprise", enterprise_id, "江南物业公司")


def test_me_callups_lists_only_the_callers_callups(as_a, people):
    response = as_a.get("/me/callups")
    assert response.status_code == 200
    rows = response.get_json()
    assert {row["id"] for row in rows} == {people.attended.id, people.accepted.id, people.sent.id}
    titles = {row["campaign_title"] for row in rows}
    assert titles == {"江南社区垃圾分类督导", "燃气安全检查"}
    assert all(row["start_at"] and row["status"] for row in rows)
    assert "X-Pagination" in response.headers


def test_me_data_holds_own_data_and_nothing_of_another_person(as_a, people):
    response = as_a.get("/me/data")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    record = body["volunteer"]
    assert (record["id"], record["mobile"], record["email"], record["party_branch"]) == (
        people.a.id, MOBILE_A, EMAIL_A, BRANCH_A)
    assert "party_member" in record["identities"] and [s["code"] for s in record["skills"]] == ["first_aid"]
    assert body["account"]["login"] == MOBILE_A
    assert [c["purpose"] for c in body["consents"]] == ["service"]
    assert {c["id"] for c in body["callups"]} == {people.attended.id, people.accepted.id, people.sent.id}
    assert [m["text"] for m in body["messages"]] == ["李娜您好，燃气安全检查召集"]
    assert [t["name"] for t in body["teams"]] == ["江南物业志愿队"]
    assert body["service"] == {"attended": 1, "hours": 3.0, "recorded_hours": 3.0, "manual_hours": 0.0}
    assert [(row["source"], row["hours"]) for row in body["hours"]] == [("recorded", 3.0)]
    text = response.get_data(as_text=True)
    for foreign in ("王强", MOBILE_B, mask_mobile(MOBILE_B), "湘湖党支部", "wq@example.cn"):
        assert foreign not in text
    assert str(people.b.id) not in {str(c.get("volunteer_id")) for c in body["callups"]}


def test_me_endpoints_refuse_other_roles(client, tree, api, people):
    office = ApiClient(client, _token(Role.OFFICE, grid_id=tree.community_a.id))
    for path in ("/me/data", "/me/callups"):
        assert office.get(path).status_code == 403
    assert office.post("/me/erasure", json={"confirm": True}).status_code == 403
    # The admin may call everything, but has no person of its own.
    assert api.get("/me/data").status_code == 404
    assert api.post("/me/erasure", json={"confirm": True}).status_code == 404


def test_me_erasure_needs_confirmation(as_a, people):
    # 1 and "true" erased the person before: a JSON true is the only confirmation.
    for body in ({}, {"confirm": False}, {"confirm": 1}, {"confirm": "true"}):
        response = as_a.post("/me/erasure", json=body)
        assert response.status_code == 422 and "confirm" in response.get_json()["errors"]["json"]
    assert db.session.get(Volunteer, people.a.id).name == "李娜"


def test_me_erasure_anonymises_keeps_callups_and_ends_the_token(client, as_a, people):
    callups = db.session.scalar(select(func.count()).select_from(CallUp).where(CallUp.volunteer_id == people.a.id))
    response = as_a.post("/me/erasure", json={"confirm": True})
    assert response.status_code == 200
    assert response.get_json() == {"volunteer_id": people.a.id, "name": ERASED_NAME, "status": "left"}
    db.session.expire_all()
    person = db.session.get(Volunteer, people.a.id)
    assert (person.name, person.mobile, person.email, person.party_branch) == (
        ERASED_NAME, erased_mobile(people.a.id), None, None)
    assert db.session.scalar(select(func.count()).select_from(CallUp)
                             .where(CallUp.volunteer_id == people.a.id)) == callups
    assert db.session.get(CallUp, people.attended.id).status is CallUpStatus.ATTENDED
    assert all(c.withdrawn_at is not None
               for c in db.session.scalars(select(Consent).where(Consent.volunteer_id == people.a.id)))
    assert db.session.get(ApiToken, people.token_a_row.id).revoked_at is not None
    assert db.session.get(User, people.user_a.id).active is False
    # The token that asked for erasure no longer opens anything.
    again = as_a.get("/me")
    assert again.status_code == 401
    # The other person carries on.
    assert ApiClient(client, people.token_b).get("/me").get_json()["volunteer"]["name"] == "王强"


def test_volunteer_detail_shows_full_mobile_to_office_and_self_lists_stay_masked(client, tree, people):
    office = ApiClient(client, _token(Role.OFFICE, grid_id=tree.community_a.id))
    detail = office.get(f"/volunteers/{people.a.id}").get_json()
    assert (detail["mobile"], detail["party_branch"]) == (MOBILE_A, BRANCH_A)
    own = ApiClient(client, people.token_a).get(f"/volunteers/{people.a.id}").get_json()
    assert own["mobile"] == MOBILE_A and "party_member" in own["identities"]
    listed = office.get("/volunteers").get_json()
    assert {row["mobile"] for row in listed} == {mask_mobile(MOBILE_A), mask_mobile(MOBILE_B)}


def test_volunteer_schema_masks_for_callers_without_the_right(app, people):
    """Would a caller outside admin/office/self get the full number or the party membership from the schema?"""
    callers = [Scope(role=Role.ENTERPRISE, actor="e", enterprise_id=people.team.enterprise_id),
               Scope(role=Role.VOLUNTEER, actor="v", volunteer_id=people.b.id),
               Scope(role=Role.GATEWAY, actor="g"), None]
    for scope in callers:
        with app.test_request_context():
            if scope is not None:
                g.scope = scope
            for schema in (VolunteerSchema(), VolunteerSummarySchema()):
                dumped = schema.dump(people.a)
                assert dumped["mobile"] == mask_mobile(MOBILE_A), scope
                assert dumped.get("party_branch") is None and "party_member" not in dumped["identities"], scope
                assert "building_leader" in dumped["identities"]
    with app.test_request_context():
        g.scope = Scope(role=Role.OFFICE, actor="o", grid_path="x")
        assert VolunteerSummarySchema().dump(people.a)["mobile"] == mask_mobile(MOBILE_A)
        # Lists never carry party membership, not even for the office (issue #11); the detail view does.
        listed = VolunteerSummarySchema().dump(people.a)
        assert "party_branch" not in listed and "party_member" not in listed["identities"]
        assert VolunteerSchema().dump(people.a)["party_branch"] == BRANCH_A


def test_callup_lists_and_staffing_never_carry_a_full_mobile(client, tree, people):
    office = ApiClient(client, _token(Role.OFFICE, grid_id=tree.community_a.id))
    campaign_id = db.session.get(CallUp, people.attended.id).position.shift.campaign_id
    for path in (f"/campaigns/{campaign_id}/callups", f"/campaigns/{campaign_id}/staffing",
                 f"/callups/{people.attended.id}", f"/campaigns/{campaign_id}/notifications"):
        response = office.get(path)
        assert response.status_code == 200, path
        text = response.get_data(as_text=True)
        assert MOBILE_A not in text and MOBILE_B not in text, path


def test_enterprise_sees_its_team_members_masked_without_party_membership(client, tree, people):
    team_id, enterprise_id = people.team.id, people.team.enterprise_id
    firm = ApiClient(client, _token(Role.ENTERPRISE, enterprise_id=enterprise_id))
    for response in (firm.get(f"/teams/{team_id}"), firm.get(f"/enterprises/{enterprise_id}/teams")):
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        for hidden in (MOBILE_A, MOBILE_B, BRANCH_A, "湘湖党支部", "party_member", "identities", EMAIL_A):
            assert hidden not in text
    members = firm.get(f"/teams/{team_id}").get_json()["members"]
    assert members == [{"id": people.a.id, "name": "李娜", "mobile": mask_mobile(MOBILE_A)},
                       {"id": people.b.id, "name": "王强", "mobile": mask_mobile(MOBILE_B)}]
    # Offices read partner teams district-wide, but not who is in them by name.
    office = ApiClient(client, _token(Role.OFFICE, grid_id=tree.community_b.id))
    seen = office.get(f"/teams/{team_id}").get_json()
    assert "members" not in seen and seen["member_ids"] == [people.a.id, people.b.id]
