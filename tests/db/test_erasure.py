"""Erasure on request: the person is anonymised in one transaction, their service hours stay."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text

from accounts.models import ApiToken, AuditEvent, Consent, Role, User
from campaigns.hours import book_ended_shifts
from accounts.privacy import ERASED_NAME, erase_volunteer, erased_mobile, personal_data, service_totals
from accounts.services import create_token
from accounts.users import register_volunteer_account
from accounts.verification import request_mobile_code
from api.schemas.common import MOBILE_RE
from notices.models import Channel, Notification, NotificationKind, NotificationStatus
from campaigns.models import CallUp, CallUpStatus, CampaignStatus, Position
from core.errors import NotFound
from extensions import db
from tests.factories import CampaignFactory, EnterpriseFactory, PositionFactory, ShiftFactory, TeamFactory
from volunteers.models import (AvailabilityWindow, BlackoutDate, Identity, Team, Volunteer, VolunteerSkill,
                               VolunteerStatus, team_members)

MOBILE_A, MOBILE_B = "13800001111", "13900002222"
EMAIL_A = "lina@example.cn"
BRANCH_A = "江南社区第一党支部"
PASSWORD = "lantern river autumn"


@dataclass
class People:
    """Two volunteers in one campaign: A asks for their data or erasure, B must stay untouched."""

    a: Volunteer
    b: Volunteer
    user_a: User
    token_a: str
    token_a_row: ApiToken
    token_b: str
    team: Team
    attended: CallUp
    accepted: CallUp
    sent: CallUp
    future_position: Position
    now: datetime


def _notification(volunteer, callup, channel, status, key, recipient, text_, now):
    db.session.add(Notification(callup_id=callup.id, volunteer_id=volunteer.id, channel=channel,
                                kind=NotificationKind.CALLUP, idempotency_key=key, status=status, due_at=now,
                                created_at=now, sent_at=now if status is NotificationStatus.SENT else None,
                                payload={"recipient": recipient, "subject": "召集", "text": text_}))


def build_people(tree) -> People:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    registered_at = now - timedelta(days=60)
    user_a = register_volunteer_account({"name": "李娜", "mobile": MOBILE_A, "home_grid_id": tree.grid_a1.id},
                                        code=request_mobile_code(MOBILE_A, now=registered_at), password=PASSWORD,
                                        consent=True, now=registered_at)
    a = db.session.get(Volunteer, user_a.volunteer_id)
    a.email, a.wecom_id, a.note, a.notify_channels = EMAIL_A, "lina_wx", "腿脚不便，安排室内岗位", "sms,email"
    a.identity_flags = Identity.to_mask(["party_member", "building_leader"])
    a.party_branch = BRANCH_A
    a.skills.append(VolunteerSkill(skill_id=tree.skills["first_aid"].id, level=3))
    a.availability.append(AvailabilityWindow(weekday=5, start_minute=540, end_minute=720))
    a.blackouts.append(BlackoutDate(day=date(2030, 1, 1)))
    b = Volunteer(name="王强", mobile=MOBILE_B, home_grid_id=tree.grid_a1.id, identity_flags=Identity.PARTY_MEMBER.bit,
                  party_branch="湘湖党支部", email="wq@example.cn")
    db.session.add(b)
    db.session.flush()

    campaign = CampaignFactory(title="江南社区垃圾分类督导", office_grid_id=tree.community_a.id,
                               status=CampaignStatus.PUBLISHED, published_at=now - timedelta(days=10))
    past = ShiftFactory(campaign=campaign, grid_id=tree.grid_a1.id, start_at=now - timedelta(days=7),
                        end_at=now - timedelta(days=7) + timedelta(hours=3), place="江南小区东门")
    past_position = PositionFactory(shift=past, headcount=2, role="督导员", accepted_count=2)
    future = ShiftFactory(campaign=campaign, grid_id=tree.grid_a1.id, start_at=now + timedelta(days=3),
                          end_at=now + timedelta(days=3, hours=2))
    future_position = PositionFactory(shift=future, headcount=2, role="宣传员", accepted_count=1)
    other = CampaignFactory(title="燃气安全检查", office_grid_id=tree.community_a.id, status=CampaignStatus.PUBLISHED)
    other_shift = ShiftFactory(campaign=other, grid_id=tree.grid_a1.id, start_at=now + timedelta(days=5),
                               end_at=now + timedelta(days=5, hours=2))
    other_position = PositionFactory(shift=other_shift, headcount=2, role="检查员")

    attended = CallUp(position_id=past_position.id, volunteer_id=a.id, status=CallUpStatus.ATTENDED,
                      sent_at=now - timedelta(days=9), responded_at=now - timedelta(days=9),
                      attended_at=past.start_at)
    attended_b = CallUp(position_id=past_position.id, volunteer_id=b.id, status=CallUpStatus.ATTENDED,
                        sent_at=now - timedelta(days=9), attended_at=past.start_at)
    accepted = CallUp(position_id=future_position.id, volunteer_id=a.id, status=CallUpStatus.ACCEPTED,
                      sent_at=now - timedelta(days=1), responded_at=now - timedelta(hours=20))
    sent = CallUp(position_id=other_position.id, volunteer_id=a.id, status=CallUpStatus.SENT,
                  sent_at=now - timedelta(hours=1), expires_at=now + timedelta(hours=20))
    sent_b = CallUp(position_id=other_position.id, volunteer_id=b.id, status=CallUpStatus.SENT,
                    sent_at=now - timedelta(hours=1), expires_at=now + timedelta(hours=20))
    db.session.add_all([attended, attended_b, accepted, sent, sent_b])
    db.session.flush()

    _notification(a, sent, Channel.INAPP, NotificationStatus.SENT, "a-inapp", str(a.id), "李娜您好，燃气安全检查召集", now)
    _notification(a, sent, Channel.SMS, NotificationStatus.PENDING, "a-sms", MOBILE_A, "李娜您好，燃气安全检查", now)
    _notification(b, sent_b, Channel.INAPP, NotificationStatus.SENT, "b-inapp", str(b.id), "王强您好，燃气安全检查", now)
    team = TeamFactory(enterprise=EnterpriseFactory(name="江南物业公司"), name="江南物业志愿队", leader_id=a.id)
    team.members = [a, b]
    db.session.commit()
    book_ended_shifts(now=now, timezone_name="Asia/Shanghai")  # the past shift's hours go on the ledger

    token_a_row, token_a = create_token(name="volunteer a", role=Role.VOLUNTEER, volunteer_id=a.id, now=now)
    _, token_b = create_token(name="volunteer b", role=Role.VOLUNTEER, volunteer_id=b.id, now=now)
    return People(a=a, b=b, user_a=user_a, token_a=token_a, token_a_row=token_a_row, token_b=token_b, team=team,
                  attended=attended, accepted=accepted, sent=sent, future_position=future_position, now=now)


@pytest.fixture
def people(tree) -> People:
    return build_people(tree)


def _status(callup_id: int) -> CallUpStatus:
    return db.session.scalar(select(CallUp.status).where(CallUp.id == callup_id))


def test_personal_data_holds_the_person_and_nobody_else(people):
    data = personal_data(people.a.id)
    assert data["volunteer"].mobile == MOBILE_A and data["account"].login == MOBILE_A
    assert [c.purpose for c in data["consents"]] == ["service"]
    assert {c.id for c in data["callups"]} == {people.attended.id, people.accepted.id, people.sent.id}
    assert [m.payload["text"] for m in data["messages"]] == ["李娜您好，燃气安全检查召集"]
    assert [t.name for t in data["teams"]] == ["江南物业志愿队"]
    assert data["service"] == {"attended": 1, "hours": 3.0, "recorded_hours": 3.0, "manual_hours": 0.0}


def test_erase_volunteer_anonymises_the_person_and_keeps_service(people):
    a_id, now = people.a.id, people.now
    callups_before = db.session.scalar(select(func.count()).select_from(CallUp))
    version_before = people.user_a.session_version

    erase_volunteer(a_id, now=now, actor="token:9:test")
    db.session.expire_all()

    a = db.session.get(Volunteer, a_id)
    assert (a.name, a.mobile, a.email, a.wecom_id, a.note, a.party_branch, a.identity_flags) == (
        ERASED_NAME, erased_mobile(a_id), None, None, None, None, 0)
    assert a.status is VolunteerStatus.LEFT and a.consent_at is None and a.notify_channels == ""
    for model in (VolunteerSkill, AvailabilityWindow, BlackoutDate):
        assert db.session.scalar(select(func.count()).select_from(model).where(model.volunteer_id == a_id)) == 0
    members = db.session.scalars(select(team_members.c.volunteer_id).where(team_members.c.team_id == people.team.id))
    assert list(members) == [people.b.id]
    assert db.session.get(Team, people.team.id).leader_id is None
    # Call-ups stay; attendance keeps counting, the future acceptance gives its place back.
    assert db.session.scalar(select(func.count()).select_from(CallUp)) == callups_before
    assert _status(people.attended.id) is CallUpStatus.ATTENDED
    assert service_totals(a_id) == {"attended": 1, "hours": 3.0, "recorded_hours": 3.0, "manual_hours": 0.0}
    assert _status(people.accepted.id) is CallUpStatus.WITHDRAWN
    assert _status(people.sent.id) is CallUpStatus.WITHDRAWN
    assert db.session.get(Position, people.future_position.id).accepted_count == 0
    # Consents withdrawn, account closed, tokens revoked.
    assert [c.withdrawn_at for c in db.session.scalars(select(Consent).where(Consent.volunteer_id == a_id))] == [now]
    user = db.session.get(User, people.user_a.id)
    assert (user.active, user.login, user.display_name) == (False, f"erased-{a_id}", ERASED_NAME)
    assert user.session_version == version_before + 1
    assert db.session.get(ApiToken, people.token_a_row.id).revoked_at == now
    # The outbox keeps no address or text for the person; what was not sent will never go.
    rows = list(db.session.scalars(select(Notification).where(Notification.volunteer_id == a_id)))
    # Two messages about call-ups and the SMS with the registration code (handed to the person once proven).
    assert len(rows) == 3 and all(row.payload == {"erased": True} for row in rows)
    assert all(row.status is not NotificationStatus.PENDING for row in rows)


def test_erase_volunteer_leaves_the_other_person_alone(people):
    erase_volunteer(people.a.id, now=people.now, actor="test")
    db.session.expire_all()
    b = db.session.get(Volunteer, people.b.id)
    assert (b.name, b.mobile, b.party_branch, b.status) == ("王强", MOBILE_B, "湘湖党支部", VolunteerStatus.ACTIVE)
    inbox = db.session.scalar(select(Notification).where(Notification.volunteer_id == b.id))
    assert inbox.payload["text"] == "王强您好，燃气安全检查"
    assert db.session.scalar(select(ApiToken.revoked_at).where(ApiToken.volunteer_id == b.id)) is None


def test_erased_data_is_gone_from_every_table(people):
    """Does any column of any table still hold the person's mobile, e-mail, name or branch?"""
    erase_volunteer(people.a.id, now=people.now, actor="test")
    secrets = [MOBILE_A, EMAIL_A, "李娜", BRANCH_A, "lina_wx", "腿脚不便"]
    found = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(table.select()).mappings():
            for column, value in row.items():
                if value is not None and any(secret in str(value) for secret in secrets):
                    found.append(f"{table.name}.{column}")
    assert found == []


def test_erase_volunteer_twice_is_harmless(people):
    erase_volunteer(people.a.id, now=people.now, actor="test")
    later = people.now + timedelta(hours=1)
    again = erase_volunteer(people.a.id, now=later, actor="test")
    db.session.expire_all()
    assert again.name == ERASED_NAME
    assert db.session.get(User, people.user_a.id).session_version == 2
    assert db.session.get(ApiToken, people.token_a_row.id).revoked_at == people.now
    outcomes = list(db.session.scalars(select(AuditEvent.outcome).where(AuditEvent.action == "volunteer.erased")
                                       .order_by(AuditEvent.id)))
    assert outcomes == ["ok", "unchanged"]


def test_erased_placeholders_are_unique_and_never_a_mobile_number(tree, people):
    other = Volunteer(name="赵六", mobile="13700003333", home_grid_id=tree.grid_b1.id)
    db.session.add(other)
    db.session.commit()
    erase_volunteer(people.a.id, now=people.now, actor="test")
    erase_volunteer(other.id, now=people.now, actor="test")
    mobiles = list(db.session.scalars(select(Volunteer.mobile).where(Volunteer.name == ERASED_NAME)))
    assert len(set(mobiles)) == 2 and all(len(m) == 11 and not MOBILE_RE.match(m) for m in mobiles)
    # The database's own checks held: the rows are committed as they are.
    assert db.session.execute(text("SELECT count(*) FROM volunteers WHERE length(mobile) = 11")).scalar() == 3


def test_erase_volunteer_writes_an_audit_event_in_the_same_transaction(people):
    erase_volunteer(people.a.id, now=people.now, actor="token:7:office")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "volunteer.erased"))
    assert (event.actor, event.object_type, event.object_id, event.outcome) == (
        "token:7:office", "volunteer", str(people.a.id), "ok")
    assert MOBILE_A not in (event.detail or "")


def test_erase_unknown_volunteer_is_not_found(tree):
    with pytest.raises(NotFound):
        erase_volunteer(4242, now=datetime.now(timezone.utc), actor="test")
