"""Volunteer self-service pages without a browser: the home-grid picker, the profile steps, their refusals, the summary."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from core.errors import PermissionDenied
from core.scope import Role, Scope
from core.clock import utcnow
from extensions import db
from tests.conftest import form_csrf_token
from tests.web.test_sign_in import request_code
from volunteers.models import Volunteer
from volunteers.services import update_volunteer


def _volunteer(client) -> Volunteer:
    db.session.expire_all()
    return db.session.get(Volunteer, client.user.volunteer_id)


def _post_step(client, path: str, data: dict):
    token = form_csrf_token(client.get(path))
    return client.post(path, data={"csrf_token": token, **data})


def test_self_service_register_picker_names_full_paths_grouped_by_community_with_nothing_chosen(client, tree):
    page = request_code(client).get_data(as_text=True)
    assert '<optgroup label="西兴街道 › 江南社区">' in page and '<optgroup label="西兴街道 › 湘湖社区">' in page
    assert f'<option value="{tree.grid_a1.id}">西兴街道 › 江南社区 › 江南第一网格</option>' in page
    select = re.search(r'<select name="home_grid_id".*?</select>', page, re.S).group(0)
    assert re.findall(r"<option[^>]*selected", select) == ['<option value="" selected']
    assert "grid-picker.js" in page


def test_self_service_register_without_a_home_grid_names_the_field_and_creates_nothing(client, tree):
    from tests.web.test_sign_in import _register

    response = _register(client, tree, home_grid_id="")
    assert response.status_code == 422 and 'id="home_grid_id-error"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Volunteer)) == 0


def test_self_service_profile_steps_save_through_the_service_and_sum_up(login_as, tree):
    client = login_as("volunteer")
    new = client.get("/me/profile").get_data(as_text=True)
    assert 'id="summary-blockers"' in new and "还没有填写每周空闲时间" in new

    publicity = tree.skills["publicity"]
    saved = _post_step(client, "/me/profile/skills?setup=1", {f"skill_{publicity.id}": "3"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/me/profile/availability?setup=1")
    saved = _post_step(client, "/me/profile/availability?setup=1",
                       {"slots": ["5-morning", "5-afternoon"], "max_callups_per_month": "6"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/me/profile/channels?setup=1")
    saved = _post_step(client, "/me/profile/channels?setup=1", {"consented_channels": ["sms"], "language": "zh"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/me/profile/emergency?setup=1")
    saved = _post_step(client, "/me/profile/emergency?setup=1", {"emergency_calls": "available_hours"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/me/profile?done=1")

    person = _volunteer(client)
    assert [(row.skill.code, row.level) for row in person.skills] == [("publicity", 3)]
    assert [(w.weekday, w.start_minute, w.end_minute) for w in person.availability] == [(5, 480, 720), (5, 720, 1080)]
    assert (person.max_callups_per_month, person.consented_channels, person.emergency_calls) == (
        6, ["sms"], "available_hours")
    summary = client.get("/me/profile?done=1").get_data(as_text=True)
    assert 'id="callable-summary"' in summary and "您可以被召集参加" in summary
    assert "宣传（3 级）" in summary and "周六 08:00–18:00" in summary and "Sat" not in summary
    assert "短信" in summary and "仅在以上时间" in summary and 'id="summary-no-sms"' not in summary
    assert 'id="me-callable"' in client.get("/me").get_data(as_text=True)
    english = client.get("/me/profile?lang=en").get_data(as_text=True)
    assert "You can be called for" in english and "Sat 08:00–18:00" in english and "(level 3)" in english
    assert "SMS" in english and "only in these hours" in english and "周六" not in english


def test_self_service_profile_pages_show_what_is_stored(login_as, tree):
    client = login_as("volunteer")
    update_volunteer(client.user.volunteer_id, {
        "skills": [{"code": "publicity", "level": 2}],
        "availability": [{"weekday": 0, "start": "08:00", "end": "12:00"},
                         {"weekday": 5, "start": "09:00", "end": "11:30"}]}, scope=Scope.system("test"), now=utcnow())
    skills = client.get("/me/profile/skills").get_data(as_text=True)
    publicity = tree.skills["publicity"].id
    assert re.search(rf'name="skill_{publicity}">.*?<option selected value="2">', skills, re.S)
    assert f'name="skill_{tree.skills["gas_check"].id}"' not in skills  # certified: the office's to record
    hours = client.get("/me/profile/availability").get_data(as_text=True)
    assert 'value="0-morning" id="slot-0-morning" checked' in hours
    assert 'value="5-09:00-11:30"' in hours  # a window the office entered is kept unless unticked


@pytest.mark.parametrize("path, data, field", [
    ("/me/profile/skills", {"skill_{publicity}": "9"}, "skill_{publicity}"),
    ("/me/profile/availability", {"slots": ["5-morning"], "max_callups_per_month": "101"}, "max_callups_per_month"),
    ("/me/profile/availability", {"slots": ["5-morning"], "max_callups_per_month": "many"}, "max_callups_per_month"),
    ("/me/profile/availability", {"slots": ["9-morning"], "max_callups_per_month": "4"}, "slots"),
    ("/me/profile/channels", {"consented_channels": ["fax"], "language": "zh"}, "consented_channels"),
    ("/me/profile/channels", {"consented_channels": ["sms"], "language": "fr"}, "language"),
    ("/me/profile/emergency", {"emergency_calls": "sometimes"}, "emergency_calls"),
])
def test_self_service_bad_input_names_the_field_and_changes_nothing(login_as, tree, path, data, field):
    client = login_as("volunteer")
    before = _volunteer(client)
    stored = (list(before.skills), list(before.availability), before.max_callups_per_month,
              before.consented_channels, before.language, before.emergency_calls)
    publicity = tree.skills["publicity"].id
    data = {key.format(publicity=publicity): value for key, value in data.items()}
    response = _post_step(client, path, data)
    assert response.status_code == 422, response.status_code
    assert f'id="{field.format(publicity=publicity)}-error"' in response.get_data(as_text=True)
    after = _volunteer(client)
    assert (list(after.skills), list(after.availability), after.max_callups_per_month, after.consented_channels,
            after.language, after.emergency_calls) == stored


def test_self_service_steps_refuse_a_post_without_csrf_token(login_as):
    client = login_as("volunteer")
    response = client.post("/me/profile/emergency", data={"emergency_calls": "any_hour"})
    assert response.status_code == 400


def test_self_service_profile_is_for_volunteers_only(login_as):
    office = login_as("office")
    assert office.get("/me/profile").status_code == 403
    assert office.get("/me/profile/skills").status_code == 403


def test_self_service_certified_skills_stay_the_offices(tree):
    """A person declares their own skills; a certified one is added or changed only by the office."""
    from tests.factories import SkillFactory

    SkillFactory(code="boat_rescue", certified=True)
    person = update_volunteer(_new_person(tree).id, {"skills": [{"code": "gas_check", "level": 3}]},
                              scope=Scope.system("office"), now=utcnow())
    own = Scope(role=Role.VOLUNTEER, actor="user:1", volunteer_id=person.id)
    for attempt in ({"code": "boat_rescue", "level": 2}, {"code": "gas_check", "level": 5}):
        with pytest.raises(PermissionDenied) as refused:
            update_volunteer(person.id, {"skills": [attempt]}, scope=own, now=utcnow())
        assert attempt["code"] in refused.value.errors["skills"][0]
        db.session.rollback()
    update_volunteer(person.id, {"skills": [{"code": "publicity", "level": 4}]}, scope=own, now=utcnow())
    db.session.expire_all()
    held = {row.skill.code: row.level for row in db.session.get(Volunteer, person.id).skills}
    assert held == {"gas_check": 3, "publicity": 4}  # the certified skill stays as the office recorded it


def _new_person(tree) -> Volunteer:
    from tests.factories import VolunteerFactory

    person = VolunteerFactory(home_grid_id=tree.grid_a1.id)
    db.session.commit()
    return person


def test_self_service_me_links_my_data_and_its_download_is_mine_and_audited(login_as):
    from accounts.models import AuditEvent

    client = login_as("volunteer")
    me = client.get("/me").get_data(as_text=True)
    assert 'id="my-data"' in me and 'id="my-erasure"' in me
    response = client.get("/me/data")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert response.get_json()["volunteer"]["id"] == client.user.volunteer_id
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "GET profile.my_data")) == 1


def test_self_service_erasure_needs_the_box_ticked_then_erases_and_signs_out(login_as):
    from accounts.privacy import is_erased

    client = login_as("volunteer")
    page = client.get("/me/erasure")
    unticked = client.post("/me/erasure", data={"csrf_token": form_csrf_token(page)})
    assert unticked.status_code == 422 and 'id="confirm-error"' in unticked.get_data(as_text=True)
    assert not is_erased(_volunteer(client))
    assert client.post("/me/erasure", data={"confirm": "y"}).status_code == 400  # no CSRF token
    erased = client.post("/me/erasure", data={"csrf_token": form_csrf_token(page), "confirm": "y"})
    assert erased.status_code == 302 and erased.headers["Location"].endswith("/login")
    assert is_erased(_volunteer(client))
    assert client.get("/me").status_code == 302  # signed out
