"""Staff choose where their coordinator notices go (GET/PATCH /me, `flask users create`), a campaign names
its coordinator (POST/PATCH /campaigns), and an answer reaches the coordinator by e-mail end to end."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from accounts.models import ApiToken, AuditEvent, Role, User
from accounts.services import create_token
from accounts.users import create_user
from notices.channels import build_channels, close_channels
from callups.dispatch import dispatch_outbox, send_due_callups
from notices.models import Channel, NotificationKind
from campaigns.models import CallUp, CallUpStatus, Campaign, CampaignStatus
from campaigns.recurrence import materialise_recurring_campaigns
from core.clock import utcnow
from core.scope import Scope
from campaigns.services import draft_campaign
from extensions import db
from tests.api.test_campaigns import campaign_body
from tests.conftest import ApiClient, volunteer_body
from tests.factories import VolunteerFactory
from tests.scheduler.helpers import outbox

PASSWORD = "river-stone-42"
EMAIL = "wang.zhuren@jn.example.cn"


def _staff(tree, login="wang", *, role=Role.OFFICE, grid=None, **contact) -> User:
    grid_id = None if role is Role.ADMIN else (grid or tree.community_a).id
    return create_user(login=login, display_name="王主任", password=PASSWORD, role=role, actor="test", now=utcnow(),
                       grid_id=grid_id, contact=contact or None)


def _signed_in(client, login="wang") -> ApiClient:
    """A bearer token from POST /auth/token, as the mobile app gets it."""
    response = client.post("/api/v1/auth/token", json={"login": login, "password": PASSWORD})
    assert response.status_code == 201, response.get_json()
    return ApiClient(client, response.get_json()["token"])


def _errors(response) -> dict:
    assert response.status_code == 422, response.get_json()
    return response.get_json()["errors"]["json"]


# --- GET and PATCH /me ----------------------------------------------------------------------------

def test_me_shows_a_staff_members_account_and_patch_sets_their_channels(client, tree):
    user = _staff(tree)
    me = _signed_in(client)
    before = me.get("/me").get_json()
    assert before["account"] == {"id": user.id, "login": "wang", "display_name": "王主任", "email": None,
                                 "mobile": None, "wecom_id": None, "notify_channels": []}
    response = me.patch("/me", json={"email": EMAIL, "mobile": "13800001111", "notify_channels": ["email", "sms"]})
    assert response.status_code == 200, response.get_json()
    account = response.get_json()["account"]
    assert (account["email"], account["mobile"], account["notify_channels"]) == (EMAIL, "13800001111", ["sms", "email"])
    db.session.expire_all()
    stored = db.session.get(User, user.id)
    assert (stored.email, stored.mobile, stored.notify_channels) == (EMAIL, "13800001111", "sms,email")
    # A field left out keeps its value; [] means in-app only; null clears an address no channel needs.
    me.patch("/me", json={"notify_channels": []})
    cleared = me.patch("/me", json={"mobile": None}).get_json()["account"]
    assert (cleared["email"], cleared["mobile"], cleared["notify_channels"]) == (EMAIL, None, [])
    assert me.get("/me").get_json()["account"]["email"] == EMAIL
    # Each change is in the audit log, without the values.
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "PATCH accounts.Me")).all()
    assert len(events) == 3 and all(EMAIL not in repr((e.detail, e.object_id)) for e in events)


@pytest.mark.parametrize("body, field", [
    ({"email": "not-an-address"}, "email"),
    ({"email": "a@b.cn" + "x" * 250}, "email"),
    ({"mobile": "12345678901"}, "mobile"),
    ({"mobile": "1380000111"}, "mobile"),
    ({"mobile": 13800001111}, "mobile"),
    ({"wecom_id": ""}, "wecom_id"),
    ({"notify_channels": ["fax"]}, "notify_channels"),
    ({"notify_channels": "email"}, "notify_channels"),
    ({"notify_channels": ["email"]}, "notify_channels"),        # chosen without an e-mail address
    ({"notify_channels": ["wecom"], "email": EMAIL}, "notify_channels"),
    ({"login": "someone-else"}, "login"),
    ({"role": "admin"}, "role"),
])
def test_patch_me_refuses_bad_input_naming_the_field_and_changes_nothing(client, tree, body, field):
    user = _staff(tree)
    response = _signed_in(client).patch("/me", json=body)
    assert field in _errors(response)
    db.session.expire_all()
    stored = db.session.get(User, user.id)
    assert (stored.login, stored.role, stored.email, stored.mobile, stored.notify_channels) == (
        "wang", Role.OFFICE, None, None, "")


def test_patch_me_refuses_to_empty_an_address_a_chosen_channel_needs(client, tree):
    _staff(tree, email=EMAIL, notify_channels=["email"])
    me = _signed_in(client)
    assert "email" in _errors(me.patch("/me", json={"email": None}))
    assert me.get("/me").get_json()["account"]["email"] == EMAIL


def test_patch_me_is_for_signed_in_staff_only(client, tree):
    integration = ApiClient(client, create_token(name="office box", role=Role.OFFICE, now=utcnow(),
                                                 grid_id=tree.community_a.id)[1])
    assert integration.get("/me").get_json()["account"] is None
    assert integration.patch("/me", json={"email": EMAIL}).status_code == 404
    volunteer = VolunteerFactory(home_grid_id=tree.grid_a1.id, mobile="13900002222")
    create_user(login="13900002222", display_name="李娜", password=PASSWORD, role=Role.VOLUNTEER, actor="test",
                now=utcnow(), volunteer_id=volunteer.id)
    own = _signed_in(client, "13900002222")
    assert own.patch("/me", json={"email": EMAIL}).status_code == 403
    # A volunteer's /me names their account without staff fields (their login is their mobile number) ...
    assert own.get("/me").get_json()["account"] == {"id": db.session.scalar(
        select(User.id).where(User.volunteer_id == volunteer.id)), "display_name": "李娜"}
    # ... and they still change their own record where they always did.
    changed = own.patch(f"/volunteers/{volunteer.id}", json={"language": "en"})
    assert changed.status_code == 200 and changed.get_json()["language"] == "en"


def test_sign_in_tokens_name_their_account_integration_tokens_do_not(client, tree):
    user = _staff(tree)
    _signed_in(client)
    assert db.session.scalar(select(ApiToken.user_id).where(ApiToken.name.like("sign-in%"))) == user.id


# --- flask users create ---------------------------------------------------------------------------

def test_users_create_takes_contact_and_channels(runner, tree):
    result = runner.invoke(args=["users", "create", "--role", "office", "--login", "zhao", "--name", "赵干事",
                                 "--grid-code", "CA", "--email", EMAIL, "--mobile", "13800003333",
                                 "--notify", "email,sms", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    assert "coordinator notices: in-app, sms, email" in result.output
    user = db.session.scalar(select(User).where(User.login == "zhao"))
    assert (user.email, user.mobile, user.notify_channels) == (EMAIL, "13800003333", "sms,email")


@pytest.mark.parametrize("extra, word", [
    (["--mobile", "999"], "mobile"),
    (["--notify", "sms"], "notify_channels"),                        # no mobile to send to
    (["--notify", "email,pager"], "notify_channels"),
])
def test_users_create_refuses_bad_contact_and_creates_nothing(runner, tree, extra, word):
    result = runner.invoke(args=["users", "create", "--role", "office", "--login", "zhao", "--name", "赵干事",
                                 "--grid-code", "CA", *extra, "--password", PASSWORD])
    assert result.exit_code != 0 and word in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_users_create_keeps_volunteer_contact_on_the_volunteer_record(runner, tree):
    volunteer = VolunteerFactory(home_grid_id=tree.grid_a1.id)
    db.session.commit()
    result = runner.invoke(args=["users", "create", "--role", "volunteer", "--login", volunteer.mobile, "--name", "x",
                                 "--volunteer-id", str(volunteer.id), "--email", EMAIL, "--password", PASSWORD])
    assert result.exit_code != 0 and "volunteer record" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


# --- A campaign's coordinator ---------------------------------------------------------------------

def test_the_signed_in_creator_coordinates_the_campaign_integrations_name_no_one(client, tree, api):
    user = _staff(tree)
    mine = _signed_in(client).post("/campaigns", json=campaign_body(tree))
    assert mine.status_code == 201 and mine.get_json()["coordinator_user_id"] == user.id
    assert api.post("/campaigns", json=campaign_body(tree)).get_json()["coordinator_user_id"] is None
    # The web console's scope carries the account too; the CLI and the scheduler (system scope) name no one.
    drafted = draft_campaign(_loaded(tree), now=utcnow(), scope=Scope(
        role=Role.OFFICE, actor=f"user:{user.id}", grid_id=tree.community_a.id, grid_path=tree.community_a.path,
        user_id=user.id))
    assert drafted.coordinator_user_id == user.id
    assert draft_campaign(_loaded(tree), scope=Scope.system(), now=utcnow()).coordinator_user_id is None


def _loaded(tree) -> dict:
    from api.schemas.campaigns import CampaignCreateSchema

    return CampaignCreateSchema().load(campaign_body(tree))


def test_campaign_coordinator_can_be_named_by_id_or_cleared(client, tree, api):
    street = _staff(tree, "street", grid=tree.street)                 # a street office covers its communities
    admin = _staff(tree, "boss", role=Role.ADMIN)
    named = api.post("/campaigns", json=campaign_body(tree, coordinator_user_id=street.id))
    assert named.status_code == 201 and named.get_json()["coordinator_user_id"] == street.id
    cid = named.get_json()["id"]
    moved = api.patch(f"/campaigns/{cid}", json={"coordinator_user_id": admin.id})
    assert moved.status_code == 200 and moved.get_json()["coordinator_user_id"] == admin.id
    none = _signed_in(client, "street").post("/campaigns", json=campaign_body(tree, coordinator_user_id=None))
    assert none.status_code == 201 and none.get_json()["coordinator_user_id"] is None


def test_another_offices_user_cannot_be_made_coordinator(client, tree, api):
    other = _staff(tree, "xianghu", grid=tree.community_b)
    below = _staff(tree, "grid-a1", grid=tree.grid_a1)                # a grid below the office does not cover it
    volunteer = VolunteerFactory(home_grid_id=tree.grid_a1.id)
    person = create_user(login=volunteer.mobile, display_name="李娜", password=PASSWORD, role=Role.VOLUNTEER,
                         actor="test", now=utcnow(), volunteer_id=volunteer.id)
    gone = _staff(tree, "retired")
    gone.active = False
    db.session.commit()
    for user_id in (other.id, below.id, person.id, gone.id, 987654):
        response = api.post("/campaigns", json=campaign_body(tree, coordinator_user_id=user_id))
        assert "coordinator_user_id" in _errors(response), user_id
    for bad in ("5", 0, -1, 1.5, True, [1]):
        assert "coordinator_user_id" in _errors(api.post("/campaigns", json=campaign_body(
            tree, coordinator_user_id=bad))), bad
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0
    _staff(tree, "jiangnan")
    office_a = _signed_in(client, "jiangnan")                         # nor may office A's own staff name B's
    assert "coordinator_user_id" in _errors(office_a.post("/campaigns", json=campaign_body(
        tree, coordinator_user_id=other.id)))


def test_patch_coordinator_rules(api, tree):
    own = _staff(tree)
    other = _staff(tree, "xianghu", grid=tree.community_b)
    cid = api.post("/campaigns", json=campaign_body(tree, coordinator_user_id=own.id)).get_json()["id"]
    assert "coordinator_user_id" in _errors(api.patch(f"/campaigns/{cid}", json={"coordinator_user_id": other.id}))
    # Moving the draft to another office its coordinator does not cover names the coordinator.
    body = campaign_body(tree)
    body["shifts"][0]["grid_id"] = tree.grid_b1.id
    moved = api.patch(f"/campaigns/{cid}", json={"office_grid_id": tree.community_b.id, "shifts": body["shifts"]})
    assert "coordinator_user_id" in _errors(moved)
    db.session.expire_all()
    campaign = db.session.get(Campaign, cid)
    assert (campaign.office_grid_id, campaign.coordinator_user_id) == (tree.community_a.id, own.id)
    # A running campaign may hand its answers to someone else, nothing more; an ended one keeps its coordinator.
    campaign.status = CampaignStatus.PUBLISHED
    db.session.commit()
    assert api.patch(f"/campaigns/{cid}", json={"coordinator_user_id": None}).get_json()["coordinator_user_id"] is None
    assert api.patch(f"/campaigns/{cid}", json={"coordinator_user_id": own.id, "title": "x"}).status_code == 409
    campaign = db.session.get(Campaign, cid)
    campaign.status = CampaignStatus.CANCELLED
    db.session.commit()
    assert api.patch(f"/campaigns/{cid}", json={"coordinator_user_id": own.id}).status_code == 409


def test_occurrences_of_a_recurring_campaign_keep_the_coordinator(api, tree, app):
    user = _staff(tree)
    body = campaign_body(tree, coordinator_user_id=user.id, recurrence_cron="0 9 * * sat")
    body["shifts"][0].update(start=(utcnow() + timedelta(days=1)).isoformat(),
                             end=(utcnow() + timedelta(days=1, hours=3)).isoformat())
    template = api.post("/campaigns", json=body).get_json()
    assert api.post(f"/campaigns/{template['id']}/publish").status_code == 200
    materialise_recurring_campaigns(now=utcnow(), timezone_name=app.config["TIMEZONE"])
    occurrences = db.session.scalars(select(Campaign).where(Campaign.template_id == template["id"])).all()
    assert occurrences and {c.coordinator_user_id for c in occurrences} == {user.id}


# --- End to end ------------------------------------------------------------------------------------

def test_an_answer_through_the_api_reaches_the_coordinator_by_email_once(client, tree, channels_config, smtp_server):
    _staff(tree)
    me = _signed_in(client)
    assert me.patch("/me", json={"email": EMAIL, "notify_channels": ["email"]}).status_code == 200
    campaign = me.post("/campaigns", json=campaign_body(tree)).get_json()
    position_id = campaign["shifts"][0]["positions"][1]["id"]
    people = [me.post("/volunteers", json=volunteer_body(tree.grid_a1.id, mobile=m)).get_json()["id"]
              for m in ("13911110001", "13911110002")]
    now = utcnow()
    db.session.add_all([CallUp(position_id=position_id, volunteer_id=pid, status=CallUpStatus.SCHEDULED, send_at=now)
                        for pid in people])
    db.session.commit()
    send_due_callups(now=now)
    yes, no = db.session.scalars(select(CallUp.id).where(CallUp.position_id == position_id).order_by(CallUp.id))
    for _ in range(2):                                                 # answering twice changes nothing
        assert me.post(f"/callups/{yes}/accept", json={}).status_code == 200
        assert me.post(f"/callups/{no}/decline", json={}).status_code == 200
    channels = build_channels(channels_config)
    try:
        # Past any quiet-hours hold (at most ten hours): every row is due.
        dispatch_outbox(now=now + timedelta(hours=11), channels=channels)
    finally:
        close_channels(channels)
    keys = sorted(m["X-Idempotency-Key"] for m in smtp_server.messages if "coordinator" in m["X-Idempotency-Key"])
    assert keys == sorted([f"{yes}:coordinator:email:accepted", f"{no}:coordinator:email:declined"])
    assert {m["To"] for m in smtp_server.messages if "coordinator" in m["X-Idempotency-Key"]} == {EMAIL}
    assert [r.channel for r in outbox(kind=NotificationKind.COORDINATOR, callup_id=yes)] == [
        Channel.INAPP, Channel.EMAIL]
