"""Time every report and the cockpit page on a seeded district with a million call-ups (PostgreSQL by default).

Seeds the demo district (``demo.seed``: grid tree, people, partner teams) into a throwaway database, then
writes a year of published campaigns, shifts, positions and call-ups in known proportions (COPY on PostgreSQL,
multi-row inserts on SQLite), and times each report query (district and one street office) and the /cockpit
page: the median of a few rounds.

    python -m bench.reports --database-url postgresql://postgres@127.0.0.1:5432/postgres
    python -m bench.reports --callups 50000 --sqlite        # a quick look on SQLite
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from contextlib import nullcontext
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from bench.seed import DEFAULT_SERVER, postgres_database, sqlite_database

CALLUPS_PER_POSITION = 12
POSITIONS_PER_SHIFT = 2
SHIFTS_PER_CAMPAIGN = 2
EMERGENCY_SHARE = 0.05
DAYS = 365


def _seed_callups(target: int, *, seed: int, now: datetime) -> dict[str, int]:
    """A year of done campaigns and their call-ups, written column-wise by the demo's bulk writer (COPY)."""
    from sqlalchemy import func, select

    from campaigns.models import CallUp, Campaign, CampaignStatus, HoursEntry, Position, Priority, Shift
    from core.kinds import CampaignKind
    from demo.seed import _BulkWriter, _refresh_statistics
    from extensions import db
    from grids.models import Grid
    from volunteers.models import Volunteer

    rng = np.random.default_rng(seed)
    writer = _BulkWriter()
    grids = np.array(db.session.execute(select(Grid.id, Grid.parent_id).where(Grid.level == 3)).all())
    people = int(db.session.scalar(select(func.max(Volunteer.id))))
    start_ids = {table: int(db.session.scalar(select(func.coalesce(func.max(table.c.id), 0)))) + 1
                 for table in (Campaign.__table__, Shift.__table__, Position.__table__, CallUp.__table__)}
    # At least ``target`` call-ups: whole campaigns of 2 shifts × 2 positions × 12 call-ups.
    campaigns = -(-target // (CALLUPS_PER_POSITION * POSITIONS_PER_SHIFT * SHIFTS_PER_CAMPAIGN))
    kinds = [kind.value for kind in CampaignKind]

    # Campaigns: an office (a community), published 1-7 days before their first shift; some emergencies.
    place = rng.integers(len(grids), size=campaigns)
    emergency = rng.random(campaigns) < EMERGENCY_SHARE
    first_start = [now - timedelta(days=DAYS) + timedelta(seconds=float(s)) for s in rng.uniform(0, DAYS * 86400, campaigns)]
    lead = np.where(emergency, 0.5 / 24, rng.uniform(1, 7, campaigns))
    published = [start - timedelta(days=float(d)) for start, d in zip(first_start, lead)]
    camp_ids = np.arange(start_ids[Campaign.__table__], start_ids[Campaign.__table__] + campaigns)
    counts = {}
    writer.begin()
    counts["campaigns"] = writer.write(Campaign.__table__, (
        "id", "title", "kind", "priority", "status", "office_grid_id", "policy", "published_at", "created_at",
        "updated_at"), {
        "id": camp_ids.tolist(), "title": [f"基准活动{i}" for i in camp_ids.tolist()],
        "kind": [("flood_emergency" if e else kinds[k]) for e, k in zip(emergency.tolist(),
                                                                         rng.integers(len(kinds), size=campaigns).tolist())],
        "priority": [(Priority.EMERGENCY if e else Priority.ROUTINE).value for e in emergency.tolist()],
        "status": [CampaignStatus.DONE.value] * campaigns, "office_grid_id": grids[place, 1].tolist(),
        "policy": ["{}"] * campaigns, "published_at": published, "created_at": published, "updated_at": published})

    # Shifts: at grids of the campaign's community (its own grid or a random one), 2-4 hours.
    shift_campaign = np.repeat(np.arange(campaigns), SHIFTS_PER_CAMPAIGN)
    shift_ids = np.arange(start_ids[Shift.__table__], start_ids[Shift.__table__] + len(shift_campaign))
    offset_days = np.tile(np.arange(SHIFTS_PER_CAMPAIGN), campaigns)
    shift_start = [first_start[c] + timedelta(days=int(d)) for c, d in zip(shift_campaign.tolist(), offset_days.tolist())]
    length = rng.choice([2, 3, 4], size=len(shift_ids))
    counts["shifts"] = writer.write(Shift.__table__, ("id", "campaign_id", "start_at", "end_at", "grid_id"), {
        "id": shift_ids.tolist(), "campaign_id": camp_ids[shift_campaign].tolist(), "start_at": shift_start,
        "end_at": [s + timedelta(hours=int(h)) for s, h in zip(shift_start, length.tolist())],
        "grid_id": grids[place[shift_campaign], 0].tolist()})

    # Positions and call-ups: each position asks 12 people; the first ``taken`` said yes (within the headcount).
    pos_shift = np.repeat(np.arange(len(shift_ids)), POSITIONS_PER_SHIFT)
    pos_ids = np.arange(start_ids[Position.__table__], start_ids[Position.__table__] + len(pos_shift))
    headcount = rng.integers(2, 9, size=len(pos_ids))
    taken = np.minimum(headcount, rng.binomial(CALLUPS_PER_POSITION, 0.45, size=len(pos_ids)))
    counts["positions"] = writer.write(Position.__table__, (
        "id", "shift_id", "role", "headcount", "min_party_members", "required_identities", "accepted_count"), {
        "id": pos_ids.tolist(), "shift_id": shift_ids[pos_shift].tolist(), "role": ["志愿者"] * len(pos_ids),
        "headcount": headcount.tolist(), "min_party_members": [0] * len(pos_ids),
        "required_identities": [0] * len(pos_ids), "accepted_count": taken.tolist()})
    db.session.commit()

    cu_pos = np.repeat(np.arange(len(pos_ids)), CALLUPS_PER_POSITION)
    k = np.tile(np.arange(CALLUPS_PER_POSITION), len(pos_ids))
    base = rng.integers(people, size=len(pos_ids))
    volunteer = (base[cu_pos] + k) % people + 1  # distinct people per position
    is_taken = k < taken[cu_pos]
    draw = rng.random(len(cu_pos))
    status = np.where(is_taken, np.where(draw < 0.85, "attended", np.where(draw < 0.95, "no_show", "accepted")),
                      np.where(draw < 0.55, "declined", np.where(draw < 0.9, "expired", "withdrawn")))
    camp_of = shift_campaign[pos_shift[cu_pos]]
    sent = [published[c] for c in camp_of.tolist()]
    answered = np.isin(status, ("attended", "no_show", "accepted", "declined"))
    answer_minutes = rng.exponential(45, len(cu_pos))
    responded = [s + timedelta(minutes=float(m)) if a else None
                 for s, m, a in zip(sent, answer_minutes.tolist(), answered.tolist())]
    arrive_minutes = rng.uniform(15, 90, len(cu_pos))
    start_of = [shift_start[i] for i in pos_shift[cu_pos].tolist()]
    attended_at = [(s + timedelta(minutes=float(m)) if emergency[c] else start) if st == "attended" else None
                   for s, m, c, start, st in zip(sent, arrive_minutes.tolist(), camp_of.tolist(), start_of,
                                                 status.tolist())]
    cu_ids = np.arange(start_ids[CallUp.__table__], start_ids[CallUp.__table__] + len(cu_pos))
    columns = ("id", "position_id", "volunteer_id", "status", "breakdown", "wave", "send_at", "sent_at",
               "responded_at", "attended_at", "created_at", "updated_at")
    counts["call-ups"] = 0
    for chunk in range(0, len(cu_ids), 200_000):
        part = slice(chunk, chunk + 200_000)
        writer.begin()
        counts["call-ups"] += writer.write(CallUp.__table__, columns, {
            "id": cu_ids[part].tolist(), "position_id": pos_ids[cu_pos[part]].tolist(),
            "volunteer_id": volunteer[part].tolist(), "status": status[part].tolist(),
            "breakdown": ["{}"] * len(cu_ids[part]), "wave": [1] * len(cu_ids[part]), "send_at": sent[part],
            "sent_at": sent[part], "responded_at": responded[part], "attended_at": attended_at[part],
            "created_at": sent[part], "updated_at": sent[part]})
        db.session.commit()
        print(f"\r  {counts['call-ups']:,} call-ups", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    # The hours ledger, as the scheduler books it after each shift: check-in to the shift's end, in minutes.
    shift_of = pos_shift[cu_pos]
    booked = [i for i, st in enumerate(status.tolist()) if st == "attended"]
    ends = [shift_start[shift_of[i]] + timedelta(hours=int(length[shift_of[i]])) for i in booked]
    minutes = [max(int((end - max(attended_at[i], start_of[i])).total_seconds() // 60), 0)
               for i, end in zip(booked, ends)]
    zone = ZoneInfo("Asia/Shanghai")
    for chunk in range(0, len(booked), 200_000):
        part = booked[chunk:chunk + 200_000]
        writer.begin()
        writer.write(HoursEntry.__table__, ("volunteer_id", "callup_id", "source", "minutes", "served_on",
                                            "booked_at", "booked_by"), {
            "volunteer_id": volunteer[part].tolist(), "callup_id": cu_ids[part].tolist(),
            "source": ["recorded"] * len(part), "minutes": minutes[chunk:chunk + 200_000],
            "served_on": [start_of[i].astimezone(zone).date() for i in part],
            "booked_at": [ends[chunk + j] for j in range(len(part))], "booked_by": ["bench"] * len(part)})
        db.session.commit()
    counts["hours entries"] = len(booked)
    writer.begin()
    writer.fix_sequences([Campaign.__table__, Shift.__table__, Position.__table__, CallUp.__table__,
                          HoursEntry.__table__])
    db.session.commit()
    _refresh_statistics()
    _vacuum()
    return counts


def _vacuum() -> None:
    """PostgreSQL: set the visibility map of the bulk-loaded tables, as autovacuum does on a live database;
    without it the reports' index-only scans would read the table for every row."""
    from extensions import db

    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM (ANALYZE)")


def _median_ms(run, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def run_bench(url: str, *, volunteers: int, callups: int, rounds: int, seed: int) -> list[tuple[str, str, float]]:
    from flask_migrate import upgrade
    from sqlalchemy import select

    from sqlalchemy import delete

    from accounts.models import Role, User
    from accounts.users import create_user
    from app import create_app
    from core.clock import utcnow
    from core.scope import Scope
    from demo.seed import seed_demo
    from extensions import db
    from grids.models import Grid
    from reports import services

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    results = []
    with app.app_context():
        upgrade()
        now = utcnow()
        started = time.perf_counter()
        if not db.session.scalar(select(Grid.id).limit(1)):
            summary = seed_demo(volunteers=volunteers, seed=seed, now=now, timezone_name=app.config["TIMEZONE"])
            print(f"  {summary.line()}", file=sys.stderr)
            counts = _seed_callups(callups, seed=seed, now=now)
            print(f"  seeded {', '.join(f'{v:,} {k}' for k, v in counts.items())} "
                  f"in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        else:
            print("  the database holds a district already: timing it as it is", file=sys.stderr)
        zone = app.config["TIMEZONE"]
        today = now.date()
        street = db.session.scalar(select(Grid).where(Grid.level == 1).order_by(Grid.id).limit(1))
        scope = Scope.system("bench")
        for area, grid_id in (("district", None), ("street", street.id)):
            for name in services.REPORTS:
                def one(name=name, grid_id=grid_id):
                    services.build_report(name, scope=scope, grid_id=grid_id, today=today, zone=zone)
                    db.session.rollback()
                results.append((name, area, _median_ms(one, rounds)))
        db.session.execute(delete(User).where(User.login == "bench-admin"))
        create_user(login="bench-admin", display_name="bench", password="bench-pass-42", role=Role.ADMIN,
                    actor="bench", now=now)
        street_id = street.id
        db.session.commit()
    client = app.test_client()
    client.post("/login", data={"login": "bench-admin", "password": "bench-pass-42"})
    for area, query in (("district", {}), ("street", {"grid_id": street_id})):
        def page(query=query):
            response = client.get("/cockpit", query_string=query)
            assert response.status_code == 200, response.status_code
        results.append(("/cockpit page (all six)", area, _median_ms(page, rounds)))
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return results


def main(argv: list[str] | None = None) -> None:
    """Print a markdown table of report timings (median milliseconds)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--volunteers", type=int, default=100_000)
    parser.add_argument("--callups", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--database-url", default=DEFAULT_SERVER, help="a PostgreSQL server's maintenance DB")
    parser.add_argument("--sqlite", action="store_true", help="a throwaway SQLite file instead")
    parser.add_argument("--keep", metavar="URL", help="use (and keep) this database: seeded when empty, else timed as it is")
    args = parser.parse_args(argv)

    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)
    label, database = ("SQLite", sqlite_database()) if args.sqlite else ("PostgreSQL", postgres_database(args.database_url))
    if args.keep:
        label, database = ("SQLite" if args.keep.startswith("sqlite") else "PostgreSQL"), nullcontext(args.keep)
    print(f"{label}:", file=sys.stderr)
    with database as url:
        results = run_bench(url, volunteers=args.volunteers, callups=args.callups, rounds=args.rounds, seed=args.seed)
    print(f"| report ({label}, {args.callups:,} call-ups, last 30 days) | area | median ms |")
    print("|---|---|---:|")
    for name, area, ms in results:
        print(f"| {name} | {area} | {ms:,.0f} |")


if __name__ == "__main__":
    main()
