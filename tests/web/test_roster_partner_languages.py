"""The roster, grid tree, partner-enterprise and 双报到 pages speak one language at a time: wholly Chinese by default,
wholly English with ?lang=en (text in the other language only where it is data people entered, or marked with its
own ``lang`` so a screen reader switches voice)."""
from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from api.schemas.volunteers import VolunteerCreateSchema
from core.clock import utcnow
from core.scope import Scope
from extensions import db
from tests.conftest import form_csrf_token, new_page_client
from tests.factories import TeamFactory, VolunteerFactory
from tests.web.reading import HAN, read_aloud
from volunteers.models import Enterprise, EnterpriseStatus, Identity, PartyOrganisation
from volunteers.services import register_volunteer

# Words a Chinese page may print as they are: names of formats and products, not sentences.
AS_WRITTEN = re.compile(r"\b(Gridmuster|Excel|XLSX|CSV|PDF|API|SMS|WeCom|xlsx)\b")
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")






def assert_english(html: str, data: list[str]) -> None:
    assert '<html lang="en">' in html
    found = [line for line in read_aloud(html, data).splitlines() if HAN.search(line)]
    assert found == [], found


def assert_chinese(html: str, data: list[str]) -> None:
    assert '<html lang="zh-CN">' in html
    text = AS_WRITTEN.sub(" ", read_aloud(html, data))
    found = [line for line in text.splitlines() if ENGLISH_WORD.search(line)]
    assert found == [], found
    assert HAN.search(text)


@pytest.fixture
def world(app, tree, login_as):
    """An office of community A with two people (one a party member of a workplace organisation), a partner
    enterprise with a team, and the clients of the office, the street office and the enterprise."""
    system = Scope.system("test")
    org = PartyOrganisation(name="区卫健局机关党委", created_at=utcnow())
    db.session.add(org)
    db.session.flush()
    zhang = register_volunteer(VolunteerCreateSchema().load({
        "name": "张伟", "mobile": "13912345678", "home_grid_id": tree.grid_a1.id, "identities": ["party_member"],
        "party_branch": "江南社区第一党支部", "skills": [{"code": "first_aid", "level": 2}],
        "availability": [{"weekday": 5, "start": "09:00", "end": "12:00"}]}), scope=system, now=utcnow())
    zhang.party_org_id = org.id
    register_volunteer(VolunteerCreateSchema().load({
        "name": "李娜", "mobile": "13987654321", "home_grid_id": tree.grid_a2.id}), scope=system, now=utcnow())
    member = VolunteerFactory(home_grid_id=tree.grid_a1.id, name="周强")
    team = TeamFactory(name="燃气安全服务队", members=[member], leader_id=member.id)
    team.enterprise.status = EnterpriseStatus.APPROVED.value
    pending = Enterprise(name="澜湾燃气有限公司", status=EnterpriseStatus.PENDING.value, contact_name="陈经理",
                         requested_grid_id=tree.community_a.id)
    db.session.add(pending)
    db.session.commit()
    office = login_as("office", grid_id=tree.community_a.id)
    data = [zhang.name, "李娜", zhang.party_branch, org.name, member.name, team.name, team.enterprise.name,
            pending.name, "陈经理", "office user", "enterprise user", "急救", "燃气安全检查", "宣传"]
    data += [grid.name for grid in (tree.street, tree.community_a, tree.community_b, tree.grid_a1, tree.grid_a2,
                                    tree.grid_b1)]
    return {"office": office, "enterprise": login_as("enterprise", enterprise_id=team.enterprise_id),
            "zhang": zhang, "org": org, "data": data, "app": app}


def _pages(world) -> list[tuple[str, str]]:
    zhang, org = world["zhang"], world["org"]
    return [("office", "/office/volunteers"), ("office", "/office/volunteers?q=nobody-at-all"),
            ("office", f"/office/volunteers/{zhang.id}"), ("office", f"/office/volunteers/{zhang.id}/edit"),
            ("office", "/office/volunteers/import"), ("office", "/office/grids"), ("office", "/partners/review"),
            ("office", "/office/party-orgs"), ("office", f"/office/party-orgs/{org.id}"),
            ("enterprise", "/enterprise")]


def test_the_pages_are_wholly_chinese_by_default(world):
    for who, path in _pages(world):
        response = world[who].get(path)
        assert response.status_code == 200, path
        assert_chinese(response.get_data(as_text=True), world["data"])
    signup = new_page_client(world["app"]).get("/partners/signup")
    assert_chinese(signup.get_data(as_text=True), world["data"])


def test_the_pages_are_wholly_english_when_asked(world):
    for who, path in _pages(world):
        response = world[who].get(path + ("&" if "?" in path else "?") + "lang=en")
        assert response.status_code == 200, path
        assert_english(response.get_data(as_text=True), world["data"])
    signup = new_page_client(world["app"]).get("/partners/signup", headers={"Accept-Language": "en"})
    assert_english(signup.get_data(as_text=True), world["data"])


CSV = ("姓名,手机号,网格编码,技能,可服务时间\n"
       "王芳,1234,CA1,急救:3,周六 09:00-12:00\n"
       "赵磊,13711112222,NOPE,急救,星期八 09:00-12:00\n").encode()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_row_errors_are_one_message_each_in_the_pages_language(world, lang):
    office = world["office"]
    page = office.get(f"/office/volunteers/import?lang={lang}")
    response = office.post("/office/volunteers/import", content_type="multipart/form-data",
                           data={"csrf_token": form_csrf_token(page), "file": (io.BytesIO(CSV), "roster.csv")})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    table = html[html.index('id="row-errors"'):html.index("</table>", html.index('id="row-errors"'))]
    problems = re.findall(r'<td data-label="[^"]+">([^<]*)</td>\s*</tr>', table)
    data = world["data"] + ["王芳", "赵磊", "手机号", "网格编码", "技能", "可服务时间", "星期八 09:00-12:00", "急救"]
    if lang == "zh":
        assert problems == ["手机号格式不对。", "网格编码 NOPE 不存在或不在您的管辖范围内。",
                            "急救：请写 技能:等级，如 燃气安全检查:3。",
                            "星期八 09:00-12:00：请写星期和时段，如 周六 09:00-12:00。"]
        assert_chinese(html, data + problems)
    else:
        assert problems == ["Not a valid mobile number.", "Unknown grid code NOPE.",
                            "急救: write skill:level, such as Gas safety inspection:3.",
                            "星期八 09:00-12:00: write a weekday and hours, such as Sat 09:00-12:00."]
        assert_english(html, data)


@pytest.mark.parametrize("lang, header, total", [("zh", "姓名", "合计"), ("en", "Name", "Total")])
def test_the_party_report_file_speaks_the_language_of_the_request(world, lang, header, total):
    response = world["office"].get(f"/office/party-orgs/{world['org'].id}/report.xlsx?lang={lang}")
    rows = list(load_workbook(io.BytesIO(response.get_data())).active.iter_rows(values_only=True))
    assert rows[1][0] == header and rows[-1][0] == total
    assert HAN.search(rows[0][0]) if lang == "zh" else not HAN.search(rows[0][0].replace(world["org"].name, ""))


@pytest.mark.parametrize("lang, header, sheet", [("zh", "姓名", "志愿者"), ("en", "name", "Volunteers")])
def test_the_roster_file_speaks_the_language_of_the_request(world, lang, header, sheet):
    book = load_workbook(io.BytesIO(world["office"].get(f"/office/volunteers/export?format=xlsx&lang={lang}")
                                    .get_data()))
    assert book.sheetnames == [sheet] and book.active["A1"].value == header


def test_flashed_outcomes_speak_the_pages_language(world):
    enterprise = world["enterprise"]
    page = enterprise.get("/enterprise?lang=en")
    enterprise.post("/enterprise/teams", data={"csrf_token": form_csrf_token(page), "name": "应急抢修队"})
    flashed = enterprise.get("/enterprise").get_data(as_text=True)
    assert "Team “应急抢修队” formed: add its members." in flashed and "已组建" not in flashed
    page = enterprise.get("/enterprise?lang=zh")
    enterprise.post("/enterprise/teams", data={"csrf_token": form_csrf_token(page), "name": "第二队"})
    assert "已组建队伍“第二队”，请添加成员。" in enterprise.get("/enterprise").get_data(as_text=True)


def test_a_party_members_identity_reads_in_the_pages_language(world):
    zhang = world["zhang"]
    assert Identity.PARTY_MEMBER in zhang.identities
    english = world["office"].get(f"/office/volunteers/{zhang.id}?lang=en").get_data(as_text=True)
    chinese = world["office"].get(f"/office/volunteers/{zhang.id}?lang=zh").get_data(as_text=True)
    assert '<dd id="identities">Party member</dd>' in english
    assert '<dd id="identities">党员</dd>' in chinese


def test_the_checks_catch_a_second_language():
    with pytest.raises(AssertionError):
        assert_english('<html lang="en"><p>登录 · Sign in</p></html>', [])
    with pytest.raises(AssertionError):
        assert_chinese('<html lang="zh-CN"><p>登录 · Sign in</p></html>', [])
    with pytest.raises(AssertionError):
        assert_english('<html lang="en"><input placeholder="姓名"></html>', [])
    assert_english('<html lang="en"><p>Sign in</p><a lang="zh-CN">中文</a><p>张伟</p></html>', ["张伟"])
