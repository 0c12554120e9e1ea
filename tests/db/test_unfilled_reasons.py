"""Do the reasons kept for open places count everyone lost per gate, name blackout days as such, and speak each language?"""
from datetime import date

from campaigns import services
from campaigns.models import Position
from extensions import db
from tests.db.test_recruitment import NOW, TZ, campaign, match, person
from volunteers.services import create_skill


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
    assert "busy" not in reason["text"] and "rest" not in reason["text"]
    assert "休息" not in reason["text_zh"] and "不能服务" in reason["text_zh"]


def test_unfilled_reasons_name_skills_in_the_readers_language(tree):
    create_skill({"code": "sign_language", "name": "手语", "name_en": "Sign language"})
    person(tree.grid_a1, "13900000001")
    c = campaign(tree, skills=[("sign_language", 1)])
    services.publish_campaign(c.id, actor="test", now=NOW, timezone_name=TZ)
    db.session.expire_all()
    kept = db.session.get(Position, c.shifts[0].positions[0].id).unfilled_reasons
    [reason] = kept["reasons"]
    assert reason["code"] == "no_skill" and reason["params"]["skill"] == "sign_language"
    assert "手语" in reason["text_zh"] and "sign_language" not in reason["text_zh"]
    assert "Sign language" in reason["text"] and "sign_language" not in reason["text"]
