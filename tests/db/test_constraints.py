"""Do the database's own constraints refuse bad rows, whatever the code above them does?"""
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from campaigns.models import Position
from core.clock import utcnow
from extensions import db
from tests.factories import CampaignFactory, GridFactory, PositionFactory, ShiftFactory, VolunteerFactory


def _refused(statement: str, **params) -> None:
    with pytest.raises(IntegrityError):
        db.session.execute(text(statement), params)
        db.session.flush()
    db.session.rollback()


def test_constraint_grid_level_must_be_parent_plus_one():
    district = GridFactory()
    db.session.commit()
    _refused("INSERT INTO grids (code, name, level, parent_id, parent_level, path, created_at, updated_at) "
             "VALUES ('X', 'x', 3, :p, 0, '/x/', :t, :t)", p=district.id, t=utcnow().replace(tzinfo=None))
    # parent_level that lies about the parent's real level breaks the composite foreign key
    _refused("INSERT INTO grids (code, name, level, parent_id, parent_level, path, created_at, updated_at) "
             "VALUES ('Y', 'y', 2, :p, 1, '/y/', :t, :t)", p=district.id, t=utcnow().replace(tzinfo=None))
    _refused("INSERT INTO grids (code, name, level, path, created_at, updated_at) "
             "VALUES ('Z', 'z', 1, '/z/', :t, :t)", t=utcnow().replace(tzinfo=None))


def test_constraint_mobile_unique_and_length():
    volunteer = VolunteerFactory(mobile="13900000001")
    db.session.commit()
    with pytest.raises(IntegrityError):
        VolunteerFactory(mobile="13900000001", home_grid_id=volunteer.home_grid_id)
    db.session.rollback()
    with pytest.raises(IntegrityError):
        VolunteerFactory(mobile="139", home_grid_id=volunteer.home_grid_id)
    db.session.rollback()


def test_constraint_party_branch_needs_party_member():
    with pytest.raises(IntegrityError):
        VolunteerFactory(party_branch="第一支部", identity_flags=0)
    db.session.rollback()
    assert VolunteerFactory(party_branch="第一支部", identity_flags=1).id


def test_constraint_headcount_and_accepted_count():
    with pytest.raises(IntegrityError):
        PositionFactory(headcount=0)
    db.session.rollback()
    position = PositionFactory(headcount=2)
    db.session.commit()
    position.accepted_count = 3
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(IntegrityError):
        PositionFactory(headcount=2, min_party_members=3)
    db.session.rollback()


def test_constraint_shift_end_after_start():
    start = utcnow()
    with pytest.raises(IntegrityError):
        ShiftFactory(start_at=start, end_at=start - timedelta(hours=1))
    db.session.rollback()


def test_constraint_enum_values_checked_by_database():
    campaign = CampaignFactory()
    db.session.commit()
    _refused("UPDATE campaigns SET status = 'exploded' WHERE id = :i", i=campaign.id)


def test_constraint_callup_unique_per_position_and_volunteer():
    from campaigns.models import CallUp

    position = PositionFactory()
    volunteer = VolunteerFactory()
    db.session.add(CallUp(position_id=position.id, volunteer_id=volunteer.id))
    db.session.commit()
    db.session.add(CallUp(position_id=position.id, volunteer_id=volunteer.id))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_times_round_trip_as_utc():
    start = utcnow().replace(microsecond=0)
    shift = ShiftFactory(start_at=start, end_at=start + timedelta(hours=2))
    db.session.commit()
    db.session.expire_all()
    loaded = db.session.get(type(shift), shift.id)
    assert loaded.start_at == start and loaded.start_at.utcoffset() == timedelta(0)


def test_sqlite_engine_pragmas(is_postgres):
    if is_postgres:
        assert db.engine.dialect.name == "postgresql"
        assert db.session.execute(text("SHOW lock_timeout")).scalar() == "5s"
        return
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
