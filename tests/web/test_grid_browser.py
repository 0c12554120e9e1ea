"""In headless Chromium, in Chinese and in English, on a phone (390x844) and a desktop: a grid member raises a
whistle with a photo, a visitor records visits. Screenshots land in tests/web/screenshots/."""
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
DESKTOP = {"width": 1280, "height": 800}
SHOTS = Path(__file__).parent / "screenshots"
# The browser's language (Accept-Language) picks the page's; what each page then says, per language.
LOCALES = {"zh": "zh-CN", "en": "en-GB"}
SAYS = {
    "zh": {"summoned": "已吹哨，已通知 1 个部门", "lives_alone": "独居", "whistle_raised": "已吹哨",
           "submit": "吹哨", "html_lang": "zh-CN"},
    "en": {"summoned": "Whistle raised, 1 unit summoned", "lives_alone": "Lives alone",
           "whistle_raised": "a whistle was raised", "submit": "Raise the whistle", "html_lang": "en"},
}
LANGUAGES_AND_SIZES = [pytest.param(lang, size, id=f"{lang}-{size['width']}") for lang in SAYS
                       for size in (PHONE, DESKTOP)]
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e221bc330000000049454e44ae426082")


@pytest.fixture
def open_page(browser):
    """A page in a browser speaking ``lang`` at ``size``, recording every request it makes."""
    contexts = []

    def open_(lang: str, size: dict):
        phone = size == PHONE
        context = browser.new_context(locale=LOCALES[lang], viewport=size, is_mobile=phone, has_touch=phone)
        contexts.append(context)
        page = context.new_page()
        page.requests_seen = []
        page.on("request", lambda request: page.requests_seen.append(request.url))
        return page

    yield open_
    for context in contexts:
        context.close()


def _shot(page, name: str, lang: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{lang}-{page.viewport_size['width']}.png"), full_page=True)


def _speaks(page, lang: str) -> None:
    """The page says it is in ``lang`` (a screen reader picks its voice by <html lang>)."""
    assert page.get_attribute("html", "lang") == SAYS[lang]["html_lang"]


def _sign_in(page, live_server, login, target):
    page.goto(f"{live_server}/login?next={target}")
    page.fill("#login", login)
    page.fill("#password", LOGIN_PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(live_server + target)


def _touch_targets_too_small(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, """nodes => nodes.filter(n => n.offsetParent !== null)
        .filter(n => n.getBoundingClientRect().height < 44).map(n => n.id || n.outerHTML.slice(0, 60))""")


@pytest.mark.parametrize("lang, size", LANGUAGES_AND_SIZES)
def test_grid_member_raises_a_whistle_with_a_photo(open_page, live_server, tree, tmp_path, lang, size):
    says = SAYS[lang]
    duty = VolunteerFactory(home_grid_id=tree.grid_a1.id)
    units.register_unit({"name": "西兴供水站", "office_grid_id": tree.street.id, "kinds": ["water_power"],
                         "grid_ids": [tree.street.id], "member_ids": [duty.id]}, scope=Scope.system("t"), now=utcnow())
    create_user(login="grid-a1", display_name="江南网格长", password=LOGIN_PASSWORD, role=Role.OFFICE, actor="test",
                now=utcnow(), grid_id=tree.grid_a1.id)
    db.session.commit()
    photo = tmp_path / "pipe.png"
    photo.write_bytes(PNG)
    page = open_page(lang, size)
    _sign_in(page, live_server, "grid-a1", "/grid/whistles/new")
    _speaks(page, lang)
    assert page.inner_text("#whistle-submit") == says["submit"]
    page.fill("#title", "3幢楼道水管爆裂")
    page.fill("#address", "3幢1单元楼道")
    page.select_option("#kind", "water_power")
    page.check("input[name=grade][value=urgent]")
    page.set_input_files("#photo", str(photo))
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
    assert _touch_targets_too_small(page, "button, select, input[type=text]") == []
    _shot(page, "whistle_new", lang)
    page.click("#whistle-submit")
    page.wait_for_selector("#flashes")
    assert says["summoned"] in page.locator("#flashes").inner_text()
    assert "西兴供水站" in page.locator("#summons").inner_text()
    # Wait for the photo without page.wait_for_function: its polling evaluates a string, which the CSP forbids.
    page.locator("img.whistle-photo").evaluate(
        "img => img.complete || new Promise(done => img.addEventListener('load', () => done(true), {once: true}))")
    assert page.evaluate("document.querySelector('img.whistle-photo').naturalWidth") == 1
    _shot(page, "whistle_board", lang)
    page.goto(live_server + "/grid/whistles")
    _speaks(page, lang)
    assert "3幢楼道水管爆裂" in page.locator("#whistles").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
    _shot(page, "whistles", lang)
    page.goto(live_server + "/grid/reports?group_by=unit")
    assert "西兴供水站" in page.locator("#whistle-report").inner_text()
    _shot(page, "whistle_report", lang)
    db.session.rollback()
    whistle = db.session.scalars(select(Whistle)).one()
    assert (whistle.title, whistle.grade.value, whistle.photo_type) == ("3幢楼道水管爆裂", "urgent", "image/png")
    assert all(url.startswith(live_server) for url in page.requests_seen)


@pytest.mark.parametrize("lang, size", LANGUAGES_AND_SIZES)
def test_visitor_records_a_visit_and_a_problem(open_page, live_server, tree, lang, size):
    says = SAYS[lang]
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
    page = open_page(lang, size)
    _sign_in(page, live_server, "visitor", "/grid/visits")
    _speaks(page, lang)
    assert says["lives_alone"] in page.locator(f"#visit-{ids[0]}").inner_text()
    page.click(f"#visit-{ids[0]} summary")
    assert _touch_targets_too_small(page, f"#visit-{ids[0]} button, #visit-{ids[0]} summary") == []
    page.check(f"#outcome-{ids[0]}-done")
    page.fill(f"#note-{ids[0]}", "老人身体好")
    _shot(page, "visits", lang)
    page.click(f"#save-{ids[0]}")
    page.wait_for_selector("#flashes")
    assert page.locator(f"#visit-{ids[0]}").get_attribute("data-outcome") == "done"
    page.click(f"#visit-{ids[1]} summary")
    page.check(f"#outcome-{ids[1]}-problem")
    page.fill(f"#problem-{ids[1]}", "燃气软管老化")
    page.select_option(f"#kind-{ids[1]}", "gas_safety")
    page.click(f"#save-{ids[1]}")
    page.wait_for_selector("#flashes")
    assert says["whistle_raised"] in page.locator("#flashes").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
    _shot(page, "visits_done", lang)
    db.session.rollback()
    visit = db.session.get(Visit, ids[1])
    assert visit.outcome is VisitOutcome.PROBLEM and db.session.get(Whistle, visit.whistle_id).title == "燃气软管老化"
