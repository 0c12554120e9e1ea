"""The floor of the answer-path benchmark: the whole app plus one endpoint that does one database write.

    gunicorn -c gunicorn.conf.py "bench.floor:create_floor_app()"

``POST /bench/floor`` appends one row (an audit event) in its own transaction and answers 204: the
same app, middleware, engine settings and gunicorn workers as an accept, minus the accept's own work.
Only ``bench/stampede.py`` serves it; the service itself never registers it.
"""
from __future__ import annotations

from flask import Flask
from sqlalchemy import insert

from accounts.models import AuditEvent
from app import create_app
from core.clock import utcnow
from extensions import csrf, db


def create_floor_app() -> Flask:
    """The app with the one-write endpoint added."""
    app = create_app()

    @csrf.exempt
    def floor():
        db.session.execute(insert(AuditEvent).values(at=utcnow(), actor="bench", action="bench.floor", outcome="204"))
        db.session.commit()
        return "", 204

    app.add_url_rule("/bench/floor", "bench_floor", floor, methods=["POST"])
    return app
