"""Emergency overrides: a campaign recruits beyond its community only while a street office or the district allows it."""
from datetime import timedelta

from sqlalchemy import select

from accounts.models import AuditEvent, Role
from accounts.services import create_token
from campaigns.models import RecruitmentOverride
from core.clock import utcnow
from extensions import db
from tests.conftest import ApiClient
from tests.factories import VolunteerFactory
from volunteers.availability import windows_to_mask

ALWAYS = windows_to_mask([(day, 0, 24 * 60) for day in range(7)])


def _person(grid):
    return VolunteerFactory(home_grid_id=grid.id, availability_mask=ALWAYS)


def _office(client, grid) -> ApiClient:
    _, plain = create_token(name=f"office {grid.code}", role=Role.OFFICE, grid_id=grid.id, now=utcnow())
    return ApiClient(client, plain)


def _emergency(office: ApiClient, tree) -> int:
    start = utcnow() + timedelta(hours=2)
    body = {"title": "防汛应急", "kind": "flood_emergency", "priority": "emergency",
            "office_grid_id": tree.community_a.id,
            "shifts": [{"start": start.isoformat(), "end": (start + timedelta(hours=4)).isoformat(),
                        "grid_id": tree.grid_a1.id, "positions": [{"role": "沙袋封堵", "headcount": 3}]}]}
    response = office.post("/campaigns", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _proposed(office: ApiClient, campaign_id: int) -> set[int]:
    plan = office.post(f"/campaigns/{campaign_id}/match").get_json()
    return {p["volunteer_id"] for position in plan["positions"] for p in position["proposals"]}


def test_overrides_let_a_community_emergency_recruit_from_its_sibling_only_while_open(client, tree):
    home = _person(tree.grid_a1)
    siblings = [_person(tree.grid_b1).id for _ in range(2)]
    db.session.commit()
    community, street = _office(client, tree.community_a), _office(client, tree.street)
    campaign_id = _emergency(community, tree)
    assert _proposed(community, campaign_id) == {home.id}

    refused = community.post(f"/campaigns/{campaign_id}/overrides",
                             json={"grid_id": tree.street.id, "reason": "江南社区人手不足"})
    assert refused.status_code == 403
    opened = street.post(f"/campaigns/{campaign_id}/overrides",
                         json={"grid_id": tree.street.id, "reason": "江南社区人手不足", "hours": 2})
    assert opened.status_code == 201, opened.get_json()
    assert opened.get_json()["opened_by"].startswith("token:") and opened.get_json()["grid_name"] == "西兴街道"
    assert _proposed(community, campaign_id) == {home.id, *siblings}

    # It ends by itself: once past its end the campaign is back inside its community.
    override = db.session.scalar(select(RecruitmentOverride))
    override.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert _proposed(community, campaign_id) == {home.id}
    listed = community.get(f"/campaigns/{campaign_id}/overrides").get_json()
    assert [item["reason"] for item in listed] == ["江南社区人手不足"]
    logged = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("POST campaigns.CampaignOverrides"))).all()
    assert sorted(event.outcome for event in logged) == ["201", "403"]


def test_overrides_must_name_a_grid_above_the_office_and_a_reason(client, tree):
    street = _office(client, tree.street)
    campaign_id = _emergency(_office(client, tree.community_a), tree)
    below = street.post(f"/campaigns/{campaign_id}/overrides", json={"grid_id": tree.grid_a1.id, "reason": "人手不足"})
    assert below.status_code == 422 and "grid_id" in below.get_json()["errors"]["json"]
    outside = street.post(f"/campaigns/{campaign_id}/overrides", json={"grid_id": tree.district.id, "reason": "人手不足"})
    assert outside.status_code == 422 and "grid_id" in outside.get_json()["errors"]["json"]
    too_long = street.post(f"/campaigns/{campaign_id}/overrides",
                           json={"grid_id": tree.street.id, "reason": "人手不足", "hours": 100})
    assert too_long.status_code == 422 and "hours" in too_long.get_json()["errors"]["json"]
    assert db.session.scalar(select(RecruitmentOverride)) is None


def test_overrides_refuse_a_grid_id_beyond_any_row_id(client, tree):
    """Was a 500: the grid id had no upper bound and overflowed the database's integer."""
    street = _office(client, tree.street)
    campaign_id = _emergency(_office(client, tree.community_a), tree)
    response = street.post(f"/campaigns/{campaign_id}/overrides", json={"grid_id": 2**70, "reason": "人手不足"})
    assert response.status_code == 422 and "grid_id" in response.get_json()["errors"]["json"]
    assert db.session.scalar(select(RecruitmentOverride)) is None
