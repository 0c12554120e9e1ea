"""The authorisation layer lets each caller do their own work: positive cases and references in bodies.

The generated tests show that callers are refused outside their scope; these show that inside it
they are not, and that an id named in a body (a home grid, an office, a roster's grid codes) is
held to the same scope as an id in the URL.
"""
from __future__ import annotations

import csv
import io

from sqlalchemy import select

from accounts.models import AuditEvent
from campaigns.models import CallUp, CallUpStatus, Campaign
from extensions import db
from tests.api.access_world import bearer, world  # noqa: F401 - the fixture
from tests.api.test_campaigns import campaign_body
from tests.api.test_roster import ZH_HEADER, csv_bytes
from tests.conftest import volunteer_body
from volunteers.models import Volunteer


def get(client, world, caller, path, **kwargs):
    return client.get(f"/api/v1{path}", headers=bearer(world, caller), **kwargs)


def send(client, world, caller, method, path, **kwargs):
    return client.open(f"/api/v1{path}", method=method, headers=bearer(world, caller), **kwargs)


def _names(response) -> set[str]:
    assert response.status_code == 200, response.get_json()
    return {item.get("name") or item.get("title") or item.get("code") for item in response.get_json()}


# --- offices --------------------------------------------------------------------------------------


def test_office_lists_only_its_community(client, world):
    a, b = world.a, world.b
    assert {g["code"] for g in get(client, world, "office_a", "/grids").get_json()} == {"CA", "CA1", "CA2"}
    assert _names(get(client, world, "office_a", "/volunteers")) == {v.name for v in a.volunteers}
    assert _names(get(client, world, "office_a", "/campaigns")) == {a.campaign.title, a.draft.title}
    # Filters naming the other community find nothing rather than widening the scope.
    assert get(client, world, "office_a", f"/volunteers?grid_id={b.grid.id}").get_json() == []
    assert get(client, world, "office_a", f"/campaigns?office_grid_id={b.community.id}").get_json() == []
    assert get(client, world, "office_a", f"/grids?under={b.community.id}").get_json() == []
    assert get(client, world, "office_a", f"/campaigns/{a.campaign.id}/callups").status_code == 200
    assert get(client, world, "office_a", f"/campaigns/{b.campaign.id}/callups").status_code == 404


def test_street_office_sees_both_communities(client, world):
    everyone = {v.name for v in world.a.volunteers + world.b.volunteers}
    assert _names(get(client, world, "office_s", "/volunteers")) == everyone
    assert len(get(client, world, "office_s", "/campaigns").get_json()) == 4
    codes = {g["code"] for g in get(client, world, "office_s", "/grids").get_json()}
    assert codes == {"S", "CA", "CA1", "CA2", "CB", "CB1"}
    assert get(client, world, "office_s", f"/callups/{world.b.callups[0].id}").status_code == 200


def test_office_registers_people_only_in_its_subtree(client, world, tree):
    inside = send(client, world, "office_a", "POST", "/volunteers", json=volunteer_body(tree.grid_a2.id))
    assert inside.status_code == 201, inside.get_json()
    outside = send(client, world, "office_a", "POST", "/volunteers",
                   json=volunteer_body(tree.grid_b1.id, mobile="13912340000"))
    assert outside.status_code == 422
    assert "home_grid_id" in outside.get_json()["errors"]["json"]
    assert db.session.scalar(select(Volunteer).where(Volunteer.mobile == "13912340000")) is None
    # Moving one of its own people to the other community is the same reference, refused the same way.
    moved = send(client, world, "office_a", "PATCH", f"/volunteers/{world.a.volunteers[0].id}",
                 json={"home_grid_id": tree.grid_b1.id})
    assert moved.status_code == 422 and "home_grid_id" in moved.get_json()["errors"]["json"]


def test_office_drafts_campaigns_only_for_its_subtree(client, world, tree):
    assert send(client, world, "office_a", "POST", "/campaigns", json=campaign_body(tree)).status_code == 201
    body = campaign_body(tree, office_grid_id=tree.community_b.id)
    body["shifts"][0]["grid_id"] = tree.grid_b1.id
    refused = send(client, world, "office_a", "POST", "/campaigns", json=body)
    assert refused.status_code == 422
    assert "office_grid_id" in refused.get_json()["errors"]["json"]
    assert db.session.scalar(select(Campaign).where(Campaign.office_grid_id == tree.community_b.id,
                                                    Campaign.title == body["title"])) is None
    moved = send(client, world, "office_a", "PATCH", f"/campaigns/{world.a.draft.id}",
                 json={"office_grid_id": tree.community_b.id})
    assert moved.status_code == 422 and "office_grid_id" in moved.get_json()["errors"]["json"]


def test_office_exports_only_its_people(client, world):
    response = get(client, world, "office_a", "/volunteers/export")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert {row[0] for row in rows[1:]} == {v.name for v in world.a.volunteers}
    assert all(v.mobile not in response.get_data(as_text=True) for v in world.b.volunteers)
    other = get(client, world, "office_a", f"/volunteers/export?grid_id={world.b.grid.id}")
    assert other.status_code in (200, 404)
    assert all(v.name not in other.get_data(as_text=True) for v in world.b.volunteers)


def test_office_imports_rows_only_for_its_grids(client, world):
    rows = [["新人甲", "13811110001", "CA1"] + [""] * 8, ["新人乙", "13811110002", "CB1"] + [""] * 8]
    response = send(client, world, "office_a", "POST", "/volunteers/import",
                    data={"file": (io.BytesIO(csv_bytes(rows, header=ZH_HEADER)), "roster.csv")},
                    content_type="multipart/form-data")
    assert response.status_code == 422, response.get_json()
    errors = response.get_json()["errors"]["json"]["rows"]
    assert [(e["row"], e["column"]) for e in errors] == [(3, "网格编码")]
    assert db.session.scalar(select(Volunteer).where(Volunteer.name.in_(["新人甲", "新人乙"]))) is None


def test_office_reads_partner_enterprises_but_does_not_manage_them(client, world):
    assert _names(get(client, world, "office_a", "/enterprises")) == {world.a.enterprise.name,
                                                                     world.b.enterprise.name}
    assert get(client, world, "office_a", f"/teams/{world.b.team.id}").status_code == 200
    assert send(client, world, "office_a", "PATCH", f"/teams/{world.a.team.id}",
                json={"name": "改名"}).status_code == 403


# --- volunteers -----------------------------------------------------------------------------------


def test_volunteer_reads_and_answers_only_own_callups(client, world):
    mine, theirs = world.a.callups
    assert get(client, world, "volunteer_a", f"/callups/{mine.id}").status_code == 200
    assert get(client, world, "volunteer_a", f"/callups/{theirs.id}").status_code == 404
    refused = send(client, world, "volunteer_a", "POST", f"/callups/{theirs.id}/accept", json={})
    assert refused.status_code == 404
    accepted = send(client, world, "volunteer_a", "POST", f"/callups/{mine.id}/accept", json={})
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "accepted"
    db.session.expire_all()
    assert db.session.get(CallUp, theirs.id).status is CallUpStatus.SENT
    assert db.session.get(CallUp, mine.id).answered_by.startswith("token:")


def test_volunteer_reads_own_record_and_inbox_only(client, world):
    me, neighbour = world.a.volunteers[0], world.a.volunteers[1]
    assert get(client, world, "volunteer_a", f"/volunteers/{me.id}").get_json()["name"] == me.name
    assert get(client, world, "volunteer_a", f"/volunteers/{neighbour.id}").status_code == 404
    assert get(client, world, "volunteer_a", f"/volunteers/{me.id}/inbox").status_code == 200
    assert get(client, world, "volunteer_a", f"/volunteers/{neighbour.id}/inbox").status_code == 404
    assert get(client, world, "volunteer_a", "/volunteers").status_code == 403
    assert get(client, world, "volunteer_a", "/campaigns").status_code == 403


def test_volunteer_changes_only_own_basic_fields(client, world):
    me = world.a.volunteers[0]
    changed = send(client, world, "volunteer_a", "PATCH", f"/volunteers/{me.id}",
                   json={"name": "江南志愿者改名", "language": "en"})
    assert changed.status_code == 200, changed.get_json()
    assert (changed.get_json()["name"], changed.get_json()["language"]) == ("江南志愿者改名", "en")
    locked = send(client, world, "volunteer_a", "PATCH", f"/volunteers/{me.id}",
                  json={"identities": ["party_member"], "status": "left"})
    assert locked.status_code == 403
    assert set(locked.get_json()["errors"]["json"]) >= {"identities", "status"}
    db.session.expire_all()
    assert db.session.get(Volunteer, me.id).status.value != "left"
    other = send(client, world, "volunteer_a", "PATCH", f"/volunteers/{world.a.volunteers[1].id}",
                 json={"name": "x"})
    assert other.status_code == 404


# --- enterprises and gateways ---------------------------------------------------------------------


def test_enterprise_sees_and_manages_only_itself(client, world):
    a, b = world.a, world.b
    assert _names(get(client, world, "enterprise_a", "/enterprises")) == {a.enterprise.name}
    assert get(client, world, "enterprise_a", f"/enterprises/{b.enterprise.id}").status_code == 404
    renamed = send(client, world, "enterprise_a", "PATCH", f"/teams/{a.team.id}", json={"name": "江南物业先锋队"})
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "江南物业先锋队"
    refused = send(client, world, "enterprise_a", "PATCH", f"/teams/{b.team.id}", json={"name": "抢来的队伍"})
    assert refused.status_code == 404
    created = send(client, world, "enterprise_a", "POST", f"/enterprises/{a.enterprise.id}/teams",
                   json={"name": "江南第二队"})
    assert created.status_code == 201, created.get_json()
    assert send(client, world, "enterprise_a", "POST", f"/enterprises/{b.enterprise.id}/teams",
                json={"name": "湘湖第二队"}).status_code == 404
    db.session.expire_all()
    assert b.team.name == "湘湖物业志愿队"


def test_gateway_delivers_sms_replies_and_nothing_else(client, world):
    sender = world.b.volunteers[0]
    answered = send(client, world, "gateway", "POST", "/sms/inbound", json={"from": sender.mobile, "text": "1"})
    assert answered.status_code == 200, answered.get_json()
    assert answered.get_json()["status"] == "accepted"
    assert get(client, world, "gateway", "/campaigns").status_code == 403
    assert get(client, world, "gateway", "/volunteers").status_code == 403
    assert get(client, world, "gateway", f"/callups/{world.b.callups[0].id}").status_code == 403


# --- the audit trail ------------------------------------------------------------------------------


def test_refusals_leave_an_audit_row(client, world):
    b = world.b
    assert get(client, world, "office_a", f"/campaigns/{b.campaign.id}").status_code == 404
    assert send(client, world, "volunteer_a", "POST", "/campaigns", json={}).status_code == 403
    rows = db.session.scalars(select(AuditEvent).where(AuditEvent.outcome == "refused")
                              .order_by(AuditEvent.id)).all()
    assert [(r.role, r.action, r.object_type, r.object_id) for r in rows] == [
        ("office", "GET campaigns.CampaignById", "campaign", str(b.campaign.id)),
        ("volunteer", "POST campaigns.Campaigns", None, None)]
    assert all(r.actor.startswith("token:") for r in rows)


def test_enterprise_regroups_only_its_own_people_and_learns_no_one_else(client, world):
    a, b = world.a, world.b
    own_member = a.volunteers[2]
    stranger = b.volunteers[0]
    moved = send(client, world, "enterprise_a", "POST", f"/enterprises/{a.enterprise.id}/teams",
                 json={"name": "江南应急分队", "member_ids": [own_member.id], "leader_id": own_member.id})
    assert moved.status_code == 201, moved.get_json()
    probe = send(client, world, "enterprise_a", "PATCH", f"/teams/{a.team.id}",
                 json={"member_ids": [own_member.id, stranger.id]})
    assert probe.status_code == 422
    assert probe.get_json()["errors"]["json"]["member_ids"] == [f"Unknown id(s): {stranger.id}."]
    assert stranger.name not in probe.get_data(as_text=True)
    db.session.expire_all()
    assert [m.id for m in db.session.get(type(a.team), a.team.id).members] == [own_member.id]
    # The office adds people of its own community, and no one from the next one.
    assert send(client, world, "office_a", "PATCH", f"/teams/{a.team.id}",
                json={"member_ids": [own_member.id, a.volunteers[0].id]}).status_code == 403  # offices only read teams
    admin = send(client, world, "admin", "PATCH", f"/teams/{a.team.id}", json={"member_ids": [own_member.id, stranger.id]})
    assert admin.status_code == 200 and {m["id"] for m in admin.get_json()["members"]} == {own_member.id, stranger.id}
