"""Grid practice pages: raise and close a whistle, a unit's answer link, a visitor records visits on their list."""
from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO

from sqlalchemy import func, select

from accounts.models import AuditEvent
from campaigns.models import Priority
from core.clock import utcnow
from core.scope import Scope
from extensions import db
from gridwork import units, whistles
from gridwork.models import (ProblemKind, RoundKind, Visit, VisitOutcome, VisitPriority, VisitRound, VisitTarget,
                             VisitTargetKind, Whistle, WhistleStatus)
from tests.conftest import form_csrf_token
from tests.factories import VolunteerFactory

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _unit(tree):
    duty = VolunteerFactory(home_grid_id=tree.grid_a1.id)
    return units.register_unit({"name": "供水抢修站", "office_grid_id": tree.street.id, "kinds": ["water_power"],
                                "grid_ids": [tree.street.id], "member_ids": [duty.id]},
                               scope=Scope.system("test"), now=utcnow())


def _raise_by_page(client, tree, **extra):
    token = form_csrf_token(client.get("/grid/whistles/new"))
    data = {"csrf_token": token, "grid_id": str(tree.grid_a1.id), "title": "3幢水管爆裂", "address": "3幢1单元",
            "kind": "water_power", "grade": "urgent", "description": "楼道积水"} | extra
    return client.post("/grid/whistles/new", data=data, content_type="multipart/form-data")


def test_office_raises_a_whistle_with_a_photo_and_closes_it_off(login_as, tree):
    unit = _unit(tree)
    office = login_as("office", grid_id=tree.community_a.id)
    response = _raise_by_page(office, tree, photo=(BytesIO(PNG), "pipe.png"))
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    whistle = db.session.scalars(select(Whistle)).one()
    assert (whistle.grade, whistle.kind, whistle.photo_type) == (Priority.URGENT, ProblemKind.WATER_POWER, "image/png")
    assert [s.unit_id for s in whistle.summons] == [unit.id]
    page = office.get(response.headers["Location"]).get_data(as_text=True)
    assert "供水抢修站" in page and "3幢水管爆裂" in page
    assert office.get(f"/grid/whistles/{whistle.id}/photo").data == PNG
    token = form_csrf_token(office.get(f"/grid/whistles/{whistle.id}"))
    office.post(f"/grid/whistles/{whistle.id}/answer", data={"csrf_token": token, "unit_id": unit.id, "action": "arrive"})
    office.post(f"/grid/whistles/{whistle.id}/close", data={"csrf_token": token, "note": "已修复"})
    db.session.expire_all()
    closed = db.session.get(Whistle, whistle.id)
    assert closed.status is WhistleStatus.CLOSED and closed.summons[0].arrived_at is not None


def test_a_photo_that_is_not_a_picture_is_refused_by_name_and_nothing_is_written(login_as, tree):
    office = login_as("office", grid_id=tree.community_a.id)
    response = _raise_by_page(office, tree, photo=(BytesIO(b"MZ\x90\x00 not a picture"), "pipe.png"))
    assert response.status_code == 200
    assert "JPEG" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Whistle)) == 0


def test_another_communitys_whistle_is_not_found(login_as, tree):
    whistle = whistles.raise_whistle({"grid_id": tree.grid_a1.id, "title": "江南问题", "address": "x",
                                      "kind": "other"}, scope=Scope.system("t"), now=utcnow())
    office_b = login_as("office", grid_id=tree.community_b.id)
    assert office_b.get(f"/grid/whistles/{whistle.id}").status_code == 404
    assert "江南问题" not in office_b.get("/grid/whistles").get_data(as_text=True)


def test_duty_contact_reports_on_site_from_the_link(client, tree):
    _unit(tree)
    whistle = whistles.raise_whistle({"grid_id": tree.grid_a1.id, "title": "水管爆裂", "address": "3幢",
                                      "kind": "water_power", "grade": "emergency"}, scope=Scope.system("t"), now=utcnow())
    from notices.models import Notification
    text = db.session.scalars(select(Notification.payload)).first()["text"]
    path = re.search(r"(/w/[A-Za-z0-9_-]+)", text).group(1)
    db.session.commit()
    assert "水管爆裂" in client.get(path).get_data(as_text=True)
    assert client.get(path).headers["Referrer-Policy"] == "no-referrer"
    page = client.post(path, data={"action": "arrive"}).get_data(as_text=True)
    assert "已记录" in page
    db.session.expire_all()
    assert db.session.get(Whistle, whistle.id).summons[0].arrived_at is not None
    assert client.get("/w/not-a-real-token").status_code == 404


def _round_with_visits(tree, visitor, labels, *, priority=None):
    now = utcnow()
    round_ = VisitRound(grid_id=tree.community_a.id, kind=RoundKind.MONTHLY, title="十二月走访", period="2026-12",
                        target_kinds="household", due_at=now + timedelta(days=20), created_by="t", created_at=now)
    db.session.add(round_)
    db.session.flush()
    found = []
    for label in labels:
        target = VisitTarget(grid_id=tree.grid_a1.id, kind=VisitTargetKind.HOUSEHOLD, label=label, x=0, y=0,
                             active=True, priority=priority)
        db.session.add(target)
        db.session.flush()
        visit = Visit(round_id=round_.id, target_id=target.id, visitor_id=visitor.id, outcome=VisitOutcome.PENDING)
        db.session.add(visit)
        found.append(visit)
    db.session.commit()
    return found


def test_visitor_records_visits_and_a_problem_raises_a_whistle(login_as, tree):
    person = VolunteerFactory(home_grid_id=tree.grid_a1.id)
    other = VolunteerFactory(home_grid_id=tree.grid_a1.id)
    first, second = _round_with_visits(tree, person, ["3幢1单元101", "3幢1单元102"], priority=VisitPriority.LIVING_ALONE)
    (foreign,) = _round_with_visits(tree, other, ["5幢2单元201"])
    visitor = login_as("volunteer", volunteer_id=person.id)
    page = visitor.get("/grid/visits")
    text = page.get_data(as_text=True)
    assert "3幢1单元101" in text and "独居" in text and "5幢2单元201" not in text
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "GET grid.my_visits")) == 1
    token = form_csrf_token(page)
    visitor.post(f"/grid/visits/{first.id}", data={"csrf_token": token, "outcome": "done", "note": "老人身体好"})
    visitor.post(f"/grid/visits/{second.id}", data={"csrf_token": token, "outcome": "problem",
                                                    "problem_title": "燃气软管老化", "problem_kind": "gas_safety"})
    assert visitor.post(f"/grid/visits/{foreign.id}", data={"csrf_token": token, "outcome": "done"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Visit, first.id).outcome is VisitOutcome.DONE
    problem = db.session.get(Visit, second.id)
    assert problem.outcome is VisitOutcome.PROBLEM and problem.whistle_id is not None
    whistle = db.session.get(Whistle, problem.whistle_id)
    assert (whistle.title, whistle.address, whistle.kind) == ("燃气软管老化", "3幢1单元102", ProblemKind.GAS_SAFETY)
    assert db.session.get(Visit, foreign.id).outcome is VisitOutcome.PENDING


def test_office_sees_round_coverage_and_who_is_behind(login_as, tree):
    person = VolunteerFactory(home_grid_id=tree.grid_a1.id, name="李走访")
    visits = _round_with_visits(tree, person, ["1幢101", "1幢102"])
    visits[0].outcome = VisitOutcome.DONE
    db.session.commit()
    office = login_as("office", grid_id=tree.community_a.id)
    text = office.get(f"/grid/rounds/{visits[0].round_id}").get_data(as_text=True)
    assert "江南第一网格" in text and "50%" in text
    assert login_as("office", grid_id=tree.community_b.id).get(f"/grid/rounds/{visits[0].round_id}").status_code == 404


def test_report_page_counts_the_offices_whistles_only(login_as, tree):
    _unit(tree)
    for grid in (tree.grid_a1, tree.grid_b1):
        whistles.raise_whistle({"grid_id": grid.id, "title": "问题", "address": "x", "kind": "water_power"},
                               scope=Scope.system("t"), now=utcnow())
    office = login_as("office", grid_id=tree.community_a.id)
    text = office.get("/grid/reports?group_by=grid").get_data(as_text=True)
    assert "江南第一网格" in text and "湘湖第一网格" not in text and "供水抢修站" in text


def test_whistle_page_drafts_a_staffing_campaign(login_as, tree):
    from campaigns.models import Campaign, CampaignStatus

    office = login_as("office", grid_id=tree.community_a.id)
    whistle = whistles.raise_whistle({"grid_id": tree.grid_a1.id, "title": "积水", "address": "车库", "kind": "other",
                                      "grade": "urgent"}, scope=Scope.system("t"), now=utcnow())
    token = form_csrf_token(office.get(f"/grid/whistles/{whistle.id}"))
    day = (utcnow() + timedelta(days=1)).date().isoformat()
    bad = office.post(f"/grid/whistles/{whistle.id}/campaign", data={"csrf_token": token, "day": day, "start": "09:00",
                                                                      "end": "08:00", "role": "排水", "headcount": "4"})
    assert bad.status_code == 302 and db.session.scalar(select(func.count()).select_from(Campaign)) == 0
    done = office.post(f"/grid/whistles/{whistle.id}/campaign", data={"csrf_token": token, "day": day,
                                                                       "start": "09:00", "end": "12:00", "role": "排水",
                                                                       "headcount": "4"})
    campaign = db.session.scalars(select(Campaign)).one()
    assert done.headers["Location"].endswith(f"/office/campaigns/{campaign.id}")
    assert campaign.status is CampaignStatus.DRAFT and campaign.shifts[0].positions[0].headcount == 4


def _grid_worker(grid, name):
    from volunteers.models import Identity

    return VolunteerFactory(home_grid_id=grid.id, name=name, identity_flags=Identity.GRID_WORKER.bit)


def test_office_registers_targets_and_starts_a_round_on_the_page(login_as, tree):
    """The office's own pages, not the API: add households, start a monthly round, land on its coverage."""
    workers = [_grid_worker(tree.grid_a1, "网格员甲"), _grid_worker(tree.grid_a2, "网格员乙")]
    office = login_as("office", grid_id=tree.community_a.id)
    empty = office.get("/grid/targets").get_data(as_text=True)
    assert 'id="no-targets"' in empty
    token = form_csrf_token(office.get("/grid/targets"))
    for grid, label, x in ((tree.grid_a1, "3幢2单元301", 10.0), (tree.grid_a1, "3幢2单元302", 12.0),
                           (tree.grid_a2, "5号楼院", 300.0)):
        response = office.post("/grid/targets", data={
            "csrf_token": token, "grid_id": str(grid.id), "kind": "household", "label": label, "building": "3幢",
            "unit_no": "2", "x": str(x), "y": "0", "priority": "living_alone" if label.endswith("301") else ""})
        assert response.status_code == 302, response.get_data(as_text=True)[:600]
    again = office.post("/grid/targets", data={"csrf_token": token, "grid_id": str(tree.grid_a1.id),
                                               "kind": "household", "label": "3幢2单元301", "x": "0", "y": "0"})
    assert again.status_code == 422 and 'id="label-error"' in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(VisitTarget)) == 3
    listing = office.get(f"/grid/targets?grid_id={tree.grid_a1.id}").get_data(as_text=True)
    assert listing.count('<tr id="target-') == 2 and "独居" in listing and "Lives alone" not in listing
    audited = db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "GET grid.targets")).all()
    assert "count=2" in audited[-1]

    token = form_csrf_token(office.get("/grid/rounds"))
    past = office.post("/grid/rounds", data={"csrf_token": token, "title": "十二月走访", "grid_id": str(tree.community_a.id),
                                             "kind": "monthly", "target_kinds": ["household"], "due": "2020-01-31"})
    assert past.status_code == 422 and 'id="due-error"' in past.get_data(as_text=True)
    due = (utcnow() + timedelta(days=20)).date().isoformat()
    made = office.post("/grid/rounds", data={"csrf_token": token, "title": "十二月走访", "grid_id": str(tree.community_a.id),
                                             "kind": "monthly", "target_kinds": ["household"], "due": due})
    assert made.status_code == 302, made.get_data(as_text=True)[:600]
    created = db.session.scalars(select(VisitRound)).one()
    assert made.headers["Location"].endswith(f"/grid/rounds/{created.id}")
    visitors = dict(db.session.execute(select(VisitTarget.label, Visit.visitor_id)
                                       .join(Visit, Visit.target_id == VisitTarget.id)).all())
    assert set(visitors) == {"3幢2单元301", "3幢2单元302", "5号楼院"}
    assert visitors["5号楼院"] == workers[1].id  # the visitor of its own grid
    assert {visitors["3幢2单元301"], visitors["3幢2单元302"]} == {workers[0].id}
    coverage = office.get(made.headers["Location"]).get_data(as_text=True)
    assert "十二月走访" in coverage
    stranger = login_as("office", grid_id=tree.community_b.id)
    assert f'value="{tree.community_a.id}"' not in stranger.get("/grid/rounds").get_data(as_text=True)
    assert stranger.get(f"/grid/targets?grid_id={tree.grid_a1.id}").get_data(as_text=True).count('<tr id="target-') == 0


def test_a_street_office_registers_a_unit_on_the_page_and_its_whistles_reach_it(login_as, tree):
    duty = VolunteerFactory(home_grid_id=tree.grid_b1.id, name="周值班", mobile="13955550001")
    street = login_as("office", grid_id=tree.street.id)
    page = street.get("/grid/units")
    assert 'id="no-units"' in page.get_data(as_text=True) and 'id="unit-form"' in page.get_data(as_text=True)
    data = {"csrf_token": form_csrf_token(page), "name": "西兴供水抢修站", "unit_type": "utility",
            "office_grid_id": str(tree.street.id), "kinds": ["water_power"], "grid_ids": [str(tree.community_a.id)],
            "duty_mobile": "13955550009"}
    unknown = street.post("/grid/units", data=data)
    assert unknown.status_code == 422 and "此手机号尚未登记" in unknown.get_data(as_text=True)
    no_kind = street.post("/grid/units", data=dict(data, kinds=[], duty_mobile="13955550001"))
    assert no_kind.status_code == 422 and 'id="kinds-error"' in no_kind.get_data(as_text=True)
    made = street.post("/grid/units", data=dict(data, duty_mobile="13955550001"))
    assert made.status_code == 302, made.get_data(as_text=True)[:600]
    listing = street.get("/grid/units").get_data(as_text=True)
    assert "西兴供水抢修站" in listing and "周值班" in listing and "水电气暖" in listing
    # A community office sees its street's unit but cannot register one; its whistle summons the unit.
    community = login_as("office", grid_id=tree.community_a.id)
    page = community.get("/grid/units").get_data(as_text=True)
    assert "西兴供水抢修站" in page and 'id="unit-form"' not in page
    assert _raise_by_page(community, tree).status_code == 302
    whistle = db.session.scalars(select(Whistle)).one()
    assert [s.unit.duty_volunteer_id for s in whistle.summons] == [duty.id]
