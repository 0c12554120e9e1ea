"""The pages at scale: the campaign list, the staffing board of a 2,000-position emergency and the roster.

    python -m bench.pages [--volunteers 200000] [--positions 2000] [--rounds 7] [--database-url postgresql://…/postgres]

Seeds the demo district with ``--volunteers`` people, adds an emergency campaign of ``--positions``
positions (one place each) whose call-ups are in every state (a third accepted, a third awaiting an
answer, a third declined), and signs in as the district admin through the login page. Each round then
fetches, in turn, the campaign list, that campaign's board, the dry-run-free roster list (the web page if
the service has one, and `GET /api/v1/volunteers`), timing each request server-side through the WSGI app
(no network). The table shows medians of ``--rounds`` interleaved rounds and the page sizes. A temporary
SQLite file by default; with --database-url, a throwaway database on that PostgreSQL server as well.
"""
from __future__ import annotations

import argparse
import gc
import re
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

from bench.seed import postgres_database, run_seed, sqlite_database

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-pages-password-42"


def _emergency(app, positions: int) -> int:
    """An emergency campaign with ``positions`` one-place positions over 20 shifts and call-ups in three states."""
    from sqlalchemy import insert, select

    from campaigns.models import CallUp, CallUpStatus, Campaign, CampaignStatus, Position, Priority, Shift
    from core.clock import utcnow
    from core.kinds import CampaignKind
    from extensions import db
    from grids.models import Grid
    from volunteers.models import Volunteer

    now = utcnow()
    with app.app_context():
        district = db.session.scalar(select(Grid).where(Grid.level == 0))
        grids = db.session.scalars(select(Grid.id).where(Grid.level == 3).limit(20)).all()
        campaign = Campaign(title="暴雨内涝抢险（基准）", kind=CampaignKind.FLOOD_EMERGENCY, priority=Priority.EMERGENCY,
                            office_grid_id=district.id, status=CampaignStatus.PUBLISHED, policy={},
                            published_at=now, created_by="bench", created_at=now, updated_at=now)
        db.session.add(campaign)
        db.session.flush()
        per_shift = -(-positions // len(grids))
        shift_ids = []
        for number, grid_id in enumerate(grids):
            shift = Shift(campaign_id=campaign.id, grid_id=grid_id, place=f"第{number + 1}集合点",
                          start_at=now + timedelta(hours=1), end_at=now + timedelta(hours=5))
            db.session.add(shift)
            db.session.flush()
            shift_ids.append(shift.id)
        db.session.execute(insert(Position), [
            {"shift_id": shift_ids[i // per_shift], "role": f"抢险岗{i + 1}", "headcount": 1, "min_party_members": 0,
             "required_identities": 0, "accepted_count": 1 if i % 3 == 0 else 0} for i in range(positions)])
        position_ids = db.session.scalars(select(Position.id).join(Shift).where(Shift.campaign_id == campaign.id)
                                          .order_by(Position.id)).all()
        people = db.session.scalars(select(Volunteer.id).order_by(Volunteer.id).limit(len(position_ids))).all()
        states = (CallUpStatus.ACCEPTED, CallUpStatus.SENT, CallUpStatus.DECLINED)
        db.session.execute(insert(CallUp), [
            {"position_id": position_id, "volunteer_id": person, "status": states[i % 3], "wave": 1,
             "breakdown": {}, "send_at": now, "sent_at": now, "expires_at": now + timedelta(minutes=10),
             "responded_at": now if i % 3 != 1 else None, "created_at": now, "updated_at": now}
            for i, (position_id, person) in enumerate(zip(position_ids, people))])
        db.session.commit()
        return campaign.id


def _signed_in(app):
    """A test client signed in through /login as a fresh district admin, and the admin's API header."""
    from accounts.models import Role
    from accounts.users import create_user
    from core.clock import utcnow
    from extensions import db

    from accounts.services import create_token

    with app.app_context():
        create_user(login="bench-admin", display_name="基准管理员", password=PASSWORD, role=Role.ADMIN,
                    actor="bench", now=utcnow())
        _, plain = create_token(name="bench", role=Role.ADMIN, now=utcnow())
        db.session.commit()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"csrf_token": token, "login": "bench-admin", "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client, {"Authorization": f"Bearer {plain}"}


def run(url: str, args) -> dict:
    from app import create_app

    print(f"  seeding {args.volunteers:,} volunteers …", file=sys.stderr)
    run_seed(url, args.volunteers, seed=7)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    campaign_id = _emergency(app, args.positions)
    client, bearer = _signed_in(app)
    pages = {"campaign list": "/office/campaigns",
             f"board ({args.positions:,} positions)": f"/office/campaigns/{campaign_id}",
             "roster, API (50 a page)": "/api/v1/volunteers?page=1&page_size=50"}
    if "roster.volunteers" in app.view_functions:
        pages["roster page"] = "/office/volunteers"
    timings = {name: [] for name in pages}
    sizes = {}
    def fetch(path: str):
        return client.get(path, headers=bearer if path.startswith("/api/") else {})

    for path in pages.values():  # warm the caches once
        fetch(path)
    # Start-up objects out of the cyclic collector's reach (full collections over them took a third of the
    # board's time). gunicorn's workers do not do this yet: see the README's pages-at-scale section.
    gc.collect()
    gc.freeze()
    for _ in range(args.rounds):
        for name, path in pages.items():
            began = time.perf_counter()
            response = fetch(path)
            timings[name].append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, (path, response.status_code)
            sizes[name] = len(response.data)
    gc.unfreeze()
    with app.app_context():
        from extensions import db

        dialect = db.engine.dialect.name
        db.engine.dispose()
    return {"dialect": dialect, "timings": timings, "sizes": sizes}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volunteers", type=int, default=200_000)
    parser.add_argument("--positions", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server (its maintenance database)")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)
    runs = []
    databases = ([] if args.skip_sqlite else [sqlite_database()]) + (
        [postgres_database(args.database_url)] if args.database_url else [])
    for database in databases:
        with database as url:
            runs.append(run(url, args))
    print(f"\nPages at scale: {args.volunteers:,} volunteers, an emergency of {args.positions:,} positions; "
          f"medians of {args.rounds} rounds, signed in as the district admin\n")
    print("| database | page | median (ms) | max (ms) | size (KB) |")
    print("|---|---|---:|---:|---:|")
    for result in runs:
        for name, values in result["timings"].items():
            print(f"| {result['dialect']} | {name} | {statistics.median(values):.0f} | {max(values):.0f} "
                  f"| {result['sizes'][name] / 1024:.0f} |")


if __name__ == "__main__":
    main()
