"""PATCH /shifts/{id} changes only what it names, and the notice names only what changed."""
from datetime import timedelta

from sqlalchemy import select

from campaigns.models import CallUpEvent, Position, Shift
from core.clock import utcnow
from extensions import db
from tests.api.test_shifts_and_team_offers import published_campaign
from tests.scheduler.helpers import sent_callups


def test_places_patch_with_start_and_end_keeps_the_place_and_names_only_the_time(api, tree):
    campaign, start = published_campaign(api, tree)
    # Someone was asked, so the change has someone to tell.
    sent_callups(db.session.get(Position, campaign["shifts"][0]["positions"][0]["id"]), 1, now=utcnow())
    shift_id = campaign["shifts"][0]["id"]
    db.session.execute(Shift.__table__.update().where(Shift.id == shift_id).values(place="江南社区服务中心"))
    db.session.commit()
    moved = api.patch(f"/shifts/{shift_id}", json={"start": (start + timedelta(hours=1)).isoformat(),
                                                    "end": (start + timedelta(hours=3)).isoformat()})
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["place"] == "江南社区服务中心"
    db.session.expire_all()
    assert db.session.get(Shift, shift_id).place == "江南社区服务中心"
    notes = db.session.scalars(select(CallUpEvent.note).where(CallUpEvent.note.like("shift changed%"))).all()
    assert notes and set(notes) == {"shift changed: time"}


def test_places_patch_with_an_explicit_null_place_clears_it(api, tree):
    campaign, _ = published_campaign(api, tree)
    shift_id = campaign["shifts"][0]["id"]
    db.session.execute(Shift.__table__.update().where(Shift.id == shift_id).values(place="旧址"))
    db.session.commit()
    cleared = api.patch(f"/shifts/{shift_id}", json={"place": None})
    assert cleared.status_code == 200 and cleared.get_json()["place"] is None
