"""On a phone (390x844) in headless Chromium: a grid member raises a whistle with a photo, a visitor records visits."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from accounts.models import Role
from accounts.users import create_user
from core.clock import utcnow
from core.scope import Scope
from extensions import db
from gridwork import units
from gridwork.models import (RoundKind, Visit, VisitOutcome, VisitPriority, VisitRound, VisitTarget, VisitTargetKind,
                             Whistle)
from tests.conftest import LOGIN_PASSWORD
from tests.factories import VolunteerFactory

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
SHOTS = Path(__file__).parent / "screenshots"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e221bc330000000049454e44ae426082")


def _sign_in(page, live_server, login, target):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/login?next={target}")
    page.fill("#login", login)
    page.fill("#password", LOGIN_PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(live_server + target)


def _touch_targets_too_small(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, """nodes => nodes.filter(n => n.offsetParent !== null)
        .filter(n => n.getBoundingClientRect().height < 44).map(n => n.id || n.outerHTML.slice(0, 60))""")


def test_grid_member_raises_a_whistle_with_a_photo_on_a_phone(page, live_server, tree, tmp_path):
    duty = VolunteerFactory(home_grid_id=tree.grid_a1.id)
    units.register_unit({"name": "西兴供水站", "office_grid_id": tree.street.id, "kinds": ["water_power"],
                         "grid_ids": [tree.street.id], "member_ids": [duty.id]}, scope=Scope.system("t"), now=utcnow())
    create_user(login="grid-a1", display_name="江南网格长", password=LOGIN_PASSWORD, role=Role.OFFICE, actor="test",
                now=utcnow(), grid_id=tree.grid_a1.id)
    db.session.commit()
    photo = tmp_path / "pipe.png"
    photo.write_bytes(PNG)
    _sign_in(page, live_server, "grid-a1", "/grid/whistles/new")
    page.fill("#title", "3幢楼道水管爆裂")
    page.fill("#address", "3幢1单元楼道")
    page.select_option("#kind", "water_power")
    page.check("input[name=grade][value=urgent]")
    page.set_input_files("#photo", str(photo))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert _touch_targets_too_small(page, "button, select, input[type=text]") == []
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "whistle_new_phone.png"), full_page=True)
    page.click("#whistle-submit")
    page.wait_for_selector("#flashes")
    assert "1 个部门" in page.locator("#flashes").inner_text()
    assert "西兴供水站" in page.locator("#summons").inner_text()
    page.wait_for_function("document.querySelector('img.whistle-photo').complete")
    assert page.evaluate("document.querySelector('img.whistle-photo').naturalWidth") == 1
    page.screenshot(path=str(SHOTS / "whistle_board_phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(live_server + "/grid/whistles")
    assert "3幢楼道水管爆裂" in page.locator("#whistles").inner_text()
    page.screenshot(path=str(SHOTS / "whistles_desktop.png"), full_page=True)
    page.goto(live_server + "/grid/reports?group_by=unit")
    assert "西兴供水站" in page.locator("#whistle-report").inner_text()
    page.screenshot(path=str(SHOTS / "whistle_report_desktop.png"), full_page=True)
    db.session.rollback()
    whistle = db.session.scalars(select(Whistle)).one()
    assert (whistle.title, whistle.grade.value, whistle.photo_type) == ("3幢楼道水管爆裂", "urgent", "image/png")
    assert all(url.startswith(live_server) for url in page.requests_seen)


def test_visitor_records_a_visit_and_a_problem_on_a_phone(page, live_server, tree):
    person = VolunteerFactory(home_grid_id=tree.grid_a1.id)
    now = utcnow()
    round_ = VisitRound(grid_id=tree.community_a.id, kind=RoundKind.MONTHLY, title="十二月循环走访", period="2026-12",
                        target_kinds="household", due_at=now + timedelta(days=20), created_by="t", created_at=now)
    db.session.add(round_)
    db.session.flush()
    ids = []
    for label, flag in (("3幢1单元101", VisitPriority.LIVING_ALONE), ("3幢1单元102", None)):
        target = VisitTarget(grid_id=tree.grid_a1.id, kind=VisitTargetKind.HOUSEHOLD, label=label, x=0, y=0,
                             active=True, priority=flag)
        db.session.add(target)
        db.session.flush()
        visit = Visit(round_id=round_.id, target_id=target.id, visitor_id=person.id, outcome=VisitOutcome.PENDING)
        db.session.add(visit)
        db.session.flush()
        ids.append(visit.id)
    create_user(login="visitor", display_name="联户党员", password=LOGIN_PASSWORD, role=Role.VOLUNTEER, actor="test",
                now=now, volunteer_id=person.id)
    db.session.commit()
    _sign_in(page, live_server, "visitor", "/grid/visits")
    assert "独居" in page.locator(f"#visit-{ids[0]}").inner_text()
    page.click(f"#visit-{ids[0]} summary")
    assert _touch_targets_too_small(page, f"#visit-{ids[0]} button, #visit-{ids[0]} summary") == []
    page.check(f"#outcome-{ids[0]}-done")
    page.fill(f"#note-{ids[0]}", "老人身体好")
    page.screenshot(path=str(SHOTS / "visits_phone.png"), full_page=True)
    page.click(f"#save-{ids[0]}")
    page.wait_for_selector("#flashes")
    assert page.locator(f"#visit-{ids[0]}").get_attribute("data-outcome") == "done"
    page.click(f"#visit-{ids[1]} summary")
    page.check(f"#outcome-{ids[1]}-problem")
    page.fill(f"#problem-{ids[1]}", "燃气软管老化")
    page.select_option(f"#kind-{ids[1]}", "gas_safety")
    page.click(f"#save-{ids[1]}")
    page.wait_for_selector("#flashes")
    assert "已吹哨" in page.locator("#flashes").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(SHOTS / "visits_done_phone.png"), full_page=True)
    db.session.rollback()
    visit = db.session.get(Visit, ids[1])
    assert visit.outcome is VisitOutcome.PROBLEM and db.session.get(Whistle, visit.whistle_id).title == "燃气软管老化"
