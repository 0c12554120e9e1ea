"""Do the report figures match the hand counts of a small district (tests/reports_world.py), on either database?"""
from __future__ import annotations

from datetime import date

import pytest

from core.errors import NotFound, ValidationFailed
from core.scope import Role, Scope
from reports import services
from reports.period import make_period
from tests import reports_world as world


@pytest.fixture
def district(tree):
    return world.build(tree)


def report(name, scope=None, grid_id=None, first=world.FIRST, last=world.LAST):
    return services.build_report(name, scope=scope or Scope.system("test"), grid_id=grid_id, first=first, last=last,
                                 today=world.TODAY, zone=world.ZONE).data


def office(grid) -> Scope:
    return Scope(role=Role.OFFICE, actor="test", grid_id=grid.id, grid_path=grid.path, grid_level=grid.level)


def by_name(rows):
    return {row["name"]: row for row in rows}


def test_reports_campaign_figures_for_the_district(tree, district):
    data = report("campaigns")
    total = data["total"]
    assert (total["campaigns"], total["places"], total["called"], total["accepted"], total["attended"]) == (3, 7, 8, 6, 5)
    assert total["hours"] == 10.5
    assert total["fill_rate"] == round(6 / 7, 3)
    # Filled positions: P1 120, P3 10, P4 2, P5 15 minutes after publishing → (10 + 15) / 2.
    assert total["time_to_fill_minutes"] == 12.5
    # Answers: 2, 5, 10, 15, 30, 60, 120 minutes.
    assert total["response_minutes"] == 15.0
    rows = by_name(data["rows"])
    assert set(rows) == {tree.street.name, district.street2.name}
    street = rows[tree.street.name]
    assert (street["campaigns"], street["places"], street["called"], street["accepted"], street["attended"],
            street["hours"]) == (2, 6, 7, 5, 4, 6.5)
    assert street["time_to_fill_minutes"] == 10.0 and street["response_minutes"] == 20.0
    other = rows[district.street2.name]
    assert (other["campaigns"], other["places"], other["hours"], other["time_to_fill_minutes"]) == (1, 1, 4.0, 15.0)


def test_reports_campaign_figures_drill_down_to_communities(tree, district):
    rows = by_name(report("campaigns", grid_id=tree.street.id)["rows"])
    a, b = rows[tree.community_a.name], rows[tree.community_b.name]
    assert (a["campaigns"], a["places"], a["called"], a["accepted"], a["attended"], a["hours"]) == (2, 4, 5, 3, 2, 3.7)
    assert (b["campaigns"], b["places"], b["called"], b["accepted"], b["attended"], b["hours"]) == (1, 2, 2, 2, 2, 2.8)


def test_reports_emergencies_against_the_one_hour_standard(tree, district):
    data = report("emergencies")
    assert data["total"] == {"emergencies": 1, "places": 3, "places_in_hour": 2, "share_in_hour": 0.667}
    rows = by_name(report("emergencies", grid_id=tree.street.id)["rows"])
    assert (rows[tree.community_a.name]["places"], rows[tree.community_a.name]["share_in_hour"]) == (1, 1.0)
    assert (rows[tree.community_b.name]["places_in_hour"], rows[tree.community_b.name]["share_in_hour"]) == (1, 0.5)


def test_reports_people_by_grid_skill_and_identity(tree, district):
    data = report("people")
    assert data["total"] == {"people": 8, "party_members": 2}
    assert by_name(data["rows"])[tree.street.name]["people"] == 7
    skills = {row["code"]: row["people"] for row in data["by_skill"]}
    assert skills == {"first_aid": 2, "publicity": 2, "gas_check": 1}
    identities = {row["code"]: row["people"] for row in data["by_identity"]}
    assert (identities["party_member"], identities["building_leader"], identities["doctor"],
            identities["enterprise_member"], identities["police"]) == (2, 1, 1, 1, 0)


def test_reports_active_and_dormant_people(tree, district):
    data = report("activity")
    assert data["total"] == {"people": 8, "active": 6, "dormant": 1}
    community_b = by_name(report("activity", grid_id=tree.street.id)["rows"])[tree.community_b.name]
    assert community_b == {**community_b, "people": 3, "active": 1, "dormant": 1}  # v4 active, v8 dormant, v9 neither


def test_reports_hours_by_grid_skill_kind_and_month(tree, district):
    data = report("hours")
    assert data["total"] == {"hours": 10.5, "shifts_served": 5, "people": 5}
    assert [(row["code"], row["hours"]) for row in data["by_skill"]] == [("publicity", 4.0), ("", 3.5), ("first_aid", 3.0)]
    assert {row["code"]: row["hours"] for row in data["by_kind"]} == {
        "garbage_sorting": 3.0, "flood_emergency": 3.5, "patrol": 4.0}
    assert data["by_month"] == [{"month": "2026-11", "hours": 10.5}]
    two_months = report("hours", first=date(2026, 10, 1))
    assert two_months["by_month"] == [{"month": "2026-10", "hours": 0.0}, {"month": "2026-11", "hours": 10.5}]


def test_reports_enterprise_contribution(tree, district):
    data = report("enterprises")
    assert data["rows"] == [{"enterprise_id": district.team.enterprise_id, "name": "钱塘建设", "teams": 1, "people": 1,
                             "shifts_served": 1, "hours": 1.0}]
    assert report("enterprises", grid_id=tree.community_a.id)["rows"] == []


def test_reports_office_sees_its_subtree_only(tree, district):
    community = office(tree.community_a)
    data = report("campaigns", scope=community)
    assert (data["total"]["campaigns"], data["total"]["places"], data["total"]["hours"]) == (2, 4, 3.7)
    with pytest.raises(NotFound):
        report("campaigns", scope=office(tree.street), grid_id=district.street2.id)
    with pytest.raises(NotFound):
        report("hours", scope=community, grid_id=tree.community_b.id)
    with pytest.raises(NotFound):
        report("people", scope=community, grid_id=tree.district.id)


def test_reports_period_defaults_and_bad_periods():
    period = make_period(None, None, today=date(2026, 12, 1), zone=world.ZONE)
    assert (period.first, period.last) == (date(2026, 11, 2), date(2026, 12, 1))
    assert period.start_at.isoformat() == "2026-11-01T16:00:00+00:00"
    with pytest.raises(ValidationFailed) as error:
        make_period(date(2026, 12, 2), date(2026, 12, 1), today=date(2026, 12, 1), zone=world.ZONE)
    assert error.value.status_code == 422 and "to" in error.value.errors
    with pytest.raises(ValidationFailed) as error:
        make_period(date(2020, 1, 1), date(2026, 12, 1), today=date(2026, 12, 1), zone=world.ZONE)
    assert "from" in error.value.errors
