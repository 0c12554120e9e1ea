"""Do the reasons kept for open places count everyone lost per gate, name blackout days as such, and speak each language?"""
from datetime import date

from campaigns import services
from campaigns.models import Position
from campaigns.reasons import said
from core.i18n import in_language
from extensions import db
from tests.db.test_recruitment import NOW, TZ, campaign, match, person
from volunteers.services import create_skill


def in_words(reasons, lang):
    """The reasons' sentences as a reader of ``lang`` sees them."""
    with in_language(lang):
        return [reason["text"] for reason in said(reasons)]


def test_unfilled_reasons_count_every_gate_not_only_the_first(tree):
    person(tree.grid_a1, "13900000001")
    person(tree.grid_a1, "13900000002", skills=[("gas_check", 2, date(2027, 6, 30))])  # level too low
    person(tree.grid_a1, "13900000003", max_callups_per_month=0)
    person(tree.grid_a1, "13900000004", availability=[{"weekday": 6, "start": "08:00", "end": "13:00"}])
    person(tree.grid_a1, "13900000005", blackout_dates=[date(2026, 12, 5)])
    person(tree.grid_a1, "13900000006", blackout_dates=[date(2026, 12, 5)])
    plan = match(campaign(tree, headcount=3))
    position = plan.positions[0]
    assert len(position.proposals) == 1
    lost = {r["code"]: r["params"]["lost"] for r in position.reasons}
    assert lost == {"no_skill": 1, "cap_reached": 1, "unavailable": 1, "blackout": 2}


def test_unfilled_reasons_blackout_day_is_not_called_busy(tree):
    person(tree.grid_a1, "13900000001", blackout_dates=[date(2026, 12, 5)])
    plan = match(campaign(tree, headcount=1))
    [reason] = plan.positions[0].reasons
    assert reason["code"] == "blackout" and reason["params"]["lost"] == 1
    [english], [chinese] = in_words([reason], "en"), in_words([reason], "zh")
    assert english == "1 of 1 people marked the day as one they cannot serve; 0 left for 1 place"
    assert chinese == "1 人中有 1 人已登记当天不能服务，剩 0 人，需 1 人"
    assert reason["text"] == chinese  # the dry run says them in the language spoken (Chinese by default)


def test_unfilled_reasons_name_skills_in_the_readers_language(tree):
    create_skill({"code": "sign_language", "name": "手语", "name_en": "Sign language"})
    person(tree.grid_a1, "13900000001")
    c = campaign(tree, skills=[("sign_language", 1)])
    services.publish_campaign(c.id, actor="test", now=NOW, timezone_name=TZ)
    db.session.expire_all()
    kept = db.session.get(Position, c.shifts[0].positions[0].id).unfilled_reasons
    [reason] = kept["reasons"]
    assert set(reason) == {"code", "params"}  # kept without words: each reader gets their own language
    assert reason["code"] == "no_skill" and reason["params"]["skill"] == "sign_language"
    [english], [chinese] = in_words([reason], "en"), in_words([reason], "zh")
    assert chinese == "1 人中有 1 人不具备“手语”1级及以上，剩 0 人，需 1 人"
    assert english == "1 of 1 people lack Sign language at level 1 or above; 0 left for 1 place"
