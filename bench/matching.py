"""End-to-end matcher benchmark on one seeded district: database floor, our matcher from the
database and from arrays, dense linear_sum_assignment and greedy, all on the same instance.

    python -m bench.matching --slots 2000 --volunteers 200000 [--database-url postgresql://…/postgres]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np

from bench.matching_arrays import contenders, markdown
from bench.seed import postgres_database, sqlite_database

SKILLS = ("publicity", "garbage_sorting_guide", "elderly_care", "patrol", "first_aid", "gas_check")


def _next_saturday_9(now: datetime, zone: ZoneInfo) -> datetime:
    local = now.astimezone(zone)
    days = (5 - local.weekday()) % 7 or 7
    start = (local + timedelta(days=days)).replace(hour=9, minute=0, second=0, microsecond=0)
    return start.astimezone(timezone.utc)


def draft_big_campaign(slots: int, seed: int, now: datetime, zone: ZoneInfo) -> int:
    """A district-wide routine campaign whose positions add up to ``slots`` places over many grids."""
    from sqlalchemy import select

    from campaigns.models import Priority
    from campaigns.services import draft_campaign
    from core.kinds import CampaignKind
    from core.scope import Scope
    from extensions import db
    from grids.models import Grid

    rng = np.random.default_rng(seed)
    district = db.session.scalar(select(Grid).where(Grid.level == 0))
    grid_ids = db.session.scalars(select(Grid.id).where(Grid.level == 3).order_by(Grid.id)).all()
    start = _next_saturday_9(now, zone)
    shifts, left = [], slots
    while left > 0:
        grid = int(rng.choice(grid_ids))
        positions = []
        for _ in range(2):
            headcount = int(min(left, rng.integers(1, 11)))
            if headcount <= 0:
                break
            skill = SKILLS[int(rng.integers(0, len(SKILLS)))]
            positions.append({"role": f"{skill} 岗", "headcount": headcount,
                              "min_party_members": int(rng.random() < 0.2),
                              "required_skills": [{"code": skill, "min_level": int(rng.integers(1, 3))}],
                              "preferred_skills": [], "required_identities": []})
            left -= headcount
        shifts.append({"start": start, "end": start + timedelta(hours=3), "grid_id": grid, "positions": positions})
    campaign = draft_campaign({"title": "基准测试", "kind": CampaignKind.GARBAGE_SORTING, "priority": Priority.ROUTINE,
                               "office_grid_id": district.id, "policy": {}, "shifts": shifts},
                              scope=Scope.system("bench"), now=now)
    return campaign.id


def read_floor(campaign, zone_name: str) -> float:
    """Seconds to only fetch the rows the matcher reads about people: their own columns and the skills the
    positions name, as plain driver rows (the way campaigns/recruitment.py reads a district-wide match, which
    the benchmark's campaign is)."""
    from campaigns.recruitment import _candidate_rows, _covers_every_grid, _plain_rows
    from extensions import db
    from grids.models import Grid
    from volunteers.models import VolunteerSkill
    from sqlalchemy import select

    scopes = [db.session.get(Grid, campaign.office_grid_id).path]
    paths = db.session.scalars(select(Grid.path)).all()
    used = sorted({s.skill_id for shift in campaign.shifts for p in shift.positions for s in p.skills})
    started = time.perf_counter()
    _candidate_rows(scopes, _covers_every_grid(scopes, paths))
    _plain_rows(select(VolunteerSkill.volunteer_id, VolunteerSkill.skill_id, VolunteerSkill.level,
                       VolunteerSkill.certificate_no.is_not(None), VolunteerSkill.certificate_expires_on)
                .where(VolunteerSkill.skill_id.in_(used)))
    seconds = time.perf_counter() - started
    db.session.rollback()
    return seconds


def run(url: str, slots: int, volunteers: int, seed: int, repeats: int, dense_limit: int) -> list[dict]:
    from flask_migrate import upgrade

    from app import create_app
    from campaigns.recruitment import build_problem, open_positions_of, plan_recruitment
    from campaigns.services import get_campaign
    from core.clock import utcnow
    from demo.seed import seed_demo
    from extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        zone_name = app.config["TIMEZONE"]
        now = utcnow()
        print(f"seeding {volunteers:,} volunteers …", file=sys.stderr, flush=True)
        seed_demo(volunteers=volunteers, seed=seed, now=now, timezone_name=zone_name)
        campaign_id = draft_big_campaign(slots, seed, now, ZoneInfo(zone_name))
        campaign = get_campaign(campaign_id)

        floors, e2e, plan = [], [], None
        for _ in range(repeats):
            floors.append(read_floor(campaign, zone_name))
            started = time.perf_counter()
            plan = plan_recruitment(campaign, now=now, timezone_name=zone_name)
            e2e.append(time.perf_counter() - started)
            db.session.rollback()
        problem, _ = build_problem(campaign, open_positions_of(campaign, fill_all=True), now=now,
                                   timezone_name=zone_name)
        db.session.rollback()
        rows = contenders(problem, dense_limit, repeats)
        floor, end_to_end = statistics.median(floors), statistics.median(e2e)
        filled = sum(len(p.proposals) for p in plan.positions)
        timings = plan.stats["timings"]
        rows.insert(0, {"contender": "ours end to end from the database", "time_s": end_to_end,
                        "total_cost": plan.total_cost, "filled": filled, "slots": rows[0]["slots"], "peak_mib": None,
                        "note": f"{end_to_end / floor:.1f}x the read floor; read people {timings['read_people']:.2f} s, "
                                f"history {timings['read_history']:.2f} s, solve {timings['solve']:.2f} s"})
        rows.insert(0, {"contender": "floor: read the candidate rows", "time_s": floor, "total_cost": None,
                        "filled": None, "slots": rows[0]["slots"], "peak_mib": None,
                        "note": f"{problem.candidates.n:,} people in scope and their skills"})
        db.session.remove()
        db.engine.dispose()
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slots", type=int, default=2000)
    parser.add_argument("--volunteers", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dense-limit-gib", type=float, default=8.0)
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server URL (its maintenance DB); a throwaway database is made there")
    args = parser.parse_args(argv)
    database = postgres_database(args.database_url) if args.database_url else sqlite_database()
    with database as url:
        rows = run(url, args.slots, args.volunteers, args.seed, args.repeats, int(args.dense_limit_gib * 2**30))
    engine = "PostgreSQL" if args.database_url else "SQLite"
    print(f"{args.slots:,} slots, {args.volunteers:,} volunteers, {engine}, medians of {args.repeats}")
    print(markdown(rows))


if __name__ == "__main__":
    main()
