"""Does the office console speak one language: wholly Chinese by default, wholly English with ?lang=en?"""
from __future__ import annotations

import re

from campaigns.models import CallUp, CallUpStatus
from core.clock import utcnow
from core.kinds import KIND_LABELS
from extensions import db
from tests.conftest import form_csrf_token
from tests.web.test_office_pages import ALWAYS, _campaign
from tests.factories import VolunteerFactory
from tests.web.reading import HAN, read_aloud

# Words a Chinese page may show as they are: the product, the API's path, the language switch, a time zone.
NAMES = re.compile(r"Gridmuster|POST /api/v1/campaigns|English|Asia/Shanghai|cron|office user|\d+")






def _seeded(tree) -> tuple[int, int, list[str]]:
    """A published emergency with more places than people (reasons on the board), one person who accepted and
    a draft; returns the campaign's and its shift's ids and the data typed in Chinese, which stays as typed."""
    VolunteerFactory(home_grid_id=tree.grid_a1.id, availability_mask=ALWAYS, name="李娜")
    campaign = _campaign(tree.community_a, "江南垃圾分类", headcount=3)
    _campaign(tree.community_a, "江南燃气入户")
    db.session.commit()
    person = VolunteerFactory(home_grid_id=tree.grid_a1.id, name="赵磊")
    now = utcnow()
    db.session.add(CallUp(position_id=campaign.shifts[0].positions[0].id, volunteer_id=person.id,
                          status=CallUpStatus.ACCEPTED, sent_at=now, responded_at=now, created_at=now, updated_at=now))
    db.session.commit()
    data = ["江南垃圾分类", "江南燃气入户", "分类指导员", "江南小区3幢", "李娜", "赵磊", tree.community_a.name,
            tree.grid_a1.name, tree.grid_a2.name, tree.street.name, tree.district.name, tree.community_b.name,
            tree.grid_b1.name, "燃气安全检查", "急救", "宣传", "志愿者"]
    # Campaign kinds are named by core/kinds.py, which still has Chinese names only.
    data += [str(label) for label in KIND_LABELS.values()]
    return campaign.id, campaign.shifts[0].id, data


def _pages(office, campaign_id: int, shift_id: int) -> dict[str, str]:
    board = office.get(f"/office/campaigns/{campaign_id}")
    token = form_csrf_token(board)
    published = office.post(f"/office/campaigns/{campaign_id}/publish", data={"csrf_token": token, "confirm": "1"})
    assert published.status_code == 302
    paths = {"list": "/office/campaigns", "board": f"/office/campaigns/{campaign_id}",
             "new": "/office/campaigns/new", "messages": f"/office/campaigns/{campaign_id}/messages?status=all",
             "code": f"/office/campaigns/{campaign_id}/shifts/{shift_id}/code"}
    found = {name: office.get(path) for name, path in paths.items()}
    assert all(response.status_code == 200 for response in found.values()), {k: v.status_code for k, v in found.items()}
    return {name: read_aloud(response.get_data(as_text=True)) for name, response in found.items()}


def _without(text: str, data: list[str]) -> str:
    for typed in sorted(data, key=len, reverse=True):
        text = text.replace(typed, "")
    return text


def test_the_office_console_speaks_chinese_by_default(login_as, tree):
    campaign_id, shift_id, data = _seeded(tree)
    office = login_as("office", grid_id=tree.community_a.id)
    pages = _pages(office, campaign_id, shift_id)
    for name, text in pages.items():
        # (the check-in sheet prints its link; the switch names English in English; the clerk is "office user")
        english = re.findall(r"[A-Za-z]{3,}(?:[ '’-][A-Za-z]+)*", NAMES.sub("", re.sub(r"https?:\S+", "", text)))
        assert english == [], f"{name}: English on the Chinese page: {english[:10]}"
    board = pages["board"]
    assert "2 个名额无人可召集：" in board and "到岗登记" in board and "已发布" in board
    assert "搜索范围（社区）内只有 2 名人员，少于所需的 3 人" in board  # the reasons, said in Chinese
    assert "2 人中有 1 人该时段不在其空闲时间内，剩 1 人，需 3 人" in board
    assert "保存草稿" in pages["new"] and "草稿" in pages["list"] and "志愿者请扫码签到" in pages["code"]


def test_the_office_console_speaks_english_when_asked(login_as, tree):
    campaign_id, shift_id, data = _seeded(tree)
    office = login_as("office", grid_id=tree.community_a.id)
    assert office.get("/office/campaigns?lang=en").status_code == 200  # the switch sticks in a cookie
    pages = _pages(office, campaign_id, shift_id)
    for name, text in pages.items():
        chinese = HAN.findall(_without(text, data + ["中文"]))  # the switch names Chinese in Chinese
        assert chinese == [], f"{name}: Chinese on the English page: {chinese[:10]}"
    board = pages["board"]
    assert "2 places have nobody to call:" in board and "Roster and attendance" in board
    assert "only 2 people live within the community for 3 places" in board  # the reasons, said in English
    assert "1 of 2 people are not available at that time of the week; 1 left for 3 places" in board
    assert "Published" in board and "Draft" in pages["list"] and "Save draft" in pages["new"]
