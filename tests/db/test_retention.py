"""Retention: people who left are anonymised a set time after their last activity; nobody else is touched."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from accounts.models import AuditEvent
from accounts.privacy import ERASED_NAME, purge_departed_volunteers
from callups import jobs
from callups.scheduler import JOBS
from campaigns.models import CallUp, CallUpStatus
from core.clock import utcnow
from extensions import db
from tests.factories import GridFactory, VolunteerFactory
from tests.scheduler.helpers import make_position
from volunteers.models import Volunteer, VolunteerStatus


def _person(status, *, updated_at, home):
    person = VolunteerFactory(status=status, home_grid_id=home)
    db.session.flush()
    person.updated_at = updated_at
    db.session.commit()
    return person.id


def _name(volunteer_id):
    db.session.expire_all()
    return db.session.get(Volunteer, volunteer_id).name


def test_only_people_who_left_long_ago_and_were_not_called_since_are_anonymised(now):
    home = GridFactory().id
    long_ago = now - timedelta(days=400)
    gone = _person(VolunteerStatus.LEFT, updated_at=long_ago, home=home)
    recent = _person(VolunteerStatus.LEFT, updated_at=now - timedelta(days=30), home=home)
    active = _person(VolunteerStatus.ACTIVE, updated_at=long_ago, home=home)
    paused = _person(VolunteerStatus.PAUSED, updated_at=long_ago, home=home)
    called = _person(VolunteerStatus.LEFT, updated_at=long_ago, home=home)
    position = make_position(now=now - timedelta(days=100), headcount=1)
    callup = CallUp(position_id=position.id, volunteer_id=called, status=CallUpStatus.DECLINED)
    db.session.add(callup)
    db.session.flush()
    callup.updated_at = now - timedelta(days=90)  # answered three months ago: still within the year
    db.session.commit()

    assert purge_departed_volunteers(now=now, retention_days=365) == [gone]
    assert _name(gone) == ERASED_NAME
    assert all(_name(other) != ERASED_NAME for other in (recent, active, paused, called))
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "volunteer.erased")).all()
    assert [(a.object_id, a.actor) for a in audit] == [(str(gone), "retention")]
    # A second run finds nobody: the erased person is not erased again.
    assert purge_departed_volunteers(now=now + timedelta(hours=1), retention_days=365) == []
    # Zero days means "keep forever".
    assert purge_departed_volunteers(now=now + timedelta(days=3650), retention_days=0) == []


def test_the_scheduler_runs_the_retention_job_with_the_configured_days(app, monkeypatch):
    now = utcnow()  # the job reads the wall clock
    assert {job.id: job.seconds for job in JOBS}["purge_departed_volunteers"] == 3600
    home = GridFactory().id
    # Left 40 days ago: kept with the default of a year, anonymised with 30 days.
    person = _person(VolunteerStatus.LEFT, updated_at=now - timedelta(days=40), home=home)
    db.session.remove()
    jobs.purge_departed_volunteers(app)
    assert _name(person) != ERASED_NAME
    monkeypatch.setitem(app.config, "RETENTION_DAYS", 30)
    db.session.remove()
    jobs.purge_departed_volunteers(app)
    assert _name(person) == ERASED_NAME
