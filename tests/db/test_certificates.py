"""Does a skill that needs a certificate admit only people holding one valid on the shift date?"""
from datetime import date

from campaigns.models import Position
from campaigns.reasons import said
from core.i18n import in_language
from extensions import db
from tests.db.test_recruitment import campaign, match, person
from volunteers.services import update_skill


def certified_first_aid(tree):
    update_skill(tree.skills["first_aid"].id, {"certified": True, "name_en": "First aid"})


def test_certificates_person_without_one_is_not_picked_for_a_certified_skill(tree):
    certified_first_aid(tree)
    person(tree.grid_a1, "13900000001", skills=[("first_aid", 3, None)])  # no certificate
    holder = person(tree.grid_a1, "13900000002", skills=[("first_aid", 3, date(2027, 6, 30))])
    person(tree.grid_a1, "13900000003", skills=[("first_aid", 3, date(2026, 12, 4))])  # expired the day before
    plan = match(campaign(tree, headcount=3, skills=[("first_aid", 2)]))
    position = plan.positions[0]
    assert [p.volunteer_id for p in position.proposals] == [holder.id]
    lost = {r["code"]: r["params"]["lost"] for r in position.reasons}
    assert lost["no_certificate"] == 1 and lost["certificate_expired"] == 1
    missing = next(r for r in position.reasons if r["code"] == "no_certificate")
    assert "急救" in missing["text"]
    with in_language("en"):
        [english] = said([missing])
    assert english["text"] == "1 of 3 people hold no First aid certificate; 2 left for 3 places"


def test_certificates_number_without_expiry_is_valid_and_uncertified_skills_need_none(tree):
    certified_first_aid(tree)
    numbered = person(tree.grid_a1, "13900000001", skills=[("first_aid", 3, None, "RC-2025-0001")])
    plan = match(campaign(tree, headcount=1, skills=[("first_aid", 1)]))
    assert [p.volunteer_id for p in plan.positions[0].proposals] == [numbered.id]
    speaker = person(tree.grid_a2, "13900000002", skills=[("publicity", 2, None)])
    plan = match(campaign(tree, headcount=1, skills=[("publicity", 1)], grid=tree.grid_a2))
    assert [p.volunteer_id for p in plan.positions[0].proposals] == [speaker.id]


def test_certificates_reason_is_kept_on_the_position_when_publishing(tree):
    from campaigns import services
    from tests.db.test_recruitment import NOW, TZ

    certified_first_aid(tree)
    person(tree.grid_a1, "13900000001", skills=[("first_aid", 3, None)])
    c = campaign(tree, headcount=1, skills=[("first_aid", 1)])
    services.publish_campaign(c.id, actor="test", now=NOW, timezone_name=TZ)
    db.session.expire_all()
    kept = db.session.get(Position, c.shifts[0].positions[0].id).unfilled_reasons
    assert kept["open"] == 1 and [r["code"] for r in kept["reasons"]] == ["no_certificate"]
