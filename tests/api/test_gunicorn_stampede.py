"""Two hundred people tap "accept" on twenty places at once, through gunicorn workers on the real database."""
from __future__ import annotations

import collections
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bench.stampede import free_port, start_gunicorn, tap
from notices.links import _issue_link
from notices.models import Notification, NotificationKind
from campaigns.models import CallUp, CallUpStatus, Position
from core.clock import utcnow
from extensions import db
from tests.factories import GridFactory
from tests.scheduler.helpers import make_callups, make_position

PLACES, PEOPLE = 20, 200


@pytest.mark.slow
def test_two_hundred_taps_fill_twenty_places_exactly_and_workers_never_tick(app):
    now = utcnow()
    position = make_position(now=now, headcount=PLACES, starts_in=timedelta(days=1))
    home = GridFactory().id
    callups = make_callups(position, PEOPLE, now=now, status=CallUpStatus.SENT, expires_at=now + timedelta(hours=1),
                           home_grid_id=home)
    tokens = [_issue_link(c.id, expires_at=now + timedelta(hours=1), now=now) for c in callups]
    # Due work the web workers must leave alone: only a scheduler process sends it.
    other = make_position(now=now, headcount=1)
    [due] = make_callups(other, 1, now=now, send_at=now - timedelta(minutes=1), home_grid_id=home)
    db.session.commit()

    port = free_port()
    server = start_gunicorn(app.config["SQLALCHEMY_DATABASE_URI"], port, workers=4, threads=4, log=True)
    try:
        with ThreadPoolExecutor(max_workers=64) as pool:
            statuses = collections.Counter(status for status, _ in pool.map(lambda token: tap(port, token), tokens))
        # Repeating the winners' taps is harmless.
        db.session.expire_all()
        winners = [t for t, c in zip(tokens, callups) if db.session.get(CallUp, c.id).status is CallUpStatus.ACCEPTED]
        db.session.rollback()  # hold no SQLite lock while the workers write
        with ThreadPoolExecutor(max_workers=16) as pool:
            repeats = collections.Counter(status for status, _ in pool.map(lambda token: tap(port, token), winners))
        time.sleep(2.5)  # long past a scheduler's one-second tick
    finally:
        server.send_signal(signal.SIGTERM)
        log, _ = server.communicate(timeout=30)

    assert statuses == {200: PLACES, 409: PEOPLE - PLACES}, (statuses, log[-3000:])
    assert repeats == {200: PLACES}
    db.session.expire_all()
    assert db.session.get(Position, position.id).accepted_count == PLACES
    states = collections.Counter(db.session.scalars(select(CallUp.status).where(CallUp.position_id == position.id)))
    assert states == {CallUpStatus.ACCEPTED: PLACES, CallUpStatus.SENT: PEOPLE - PLACES}
    standby = db.session.scalar(select(func.count()).select_from(CallUp).where(
        CallUp.position_id == position.id, CallUp.standby_at.is_not(None)))
    assert standby == PEOPLE - PLACES
    # No gunicorn worker ran a scheduler: the due call-up is still waiting and nothing was sent for it.
    assert db.session.get(CallUp, due.id).status is CallUpStatus.SCHEDULED
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.callup_id == due.id)) == 0
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind == NotificationKind.CONFIRMATION)) == PLACES
    assert "scheduler started" not in log and "Traceback" not in log
