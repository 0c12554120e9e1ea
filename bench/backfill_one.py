"""One freed place: offered to the next person on standby at once, versus a re-match of the campaign.

    python -m bench.backfill_one [--people 2000] [--places 20] [--rounds 5] [--database-url postgresql://…/postgres]

Each round seeds a campaign whose position of ``--places`` places is full, with ``--standby`` people who
said yes too late waiting on standby, and ``--people`` more registered in the grid. Then, interleaved:
(a) an accepted person withdraws: the answer itself offers the freed place to the first on standby
(``places._give_back_place``; timed: the whole decline, commit included); (b) the same with nobody on
standby: the place waits for the backfill, which re-runs the campaign's match (``backfill_campaign``;
timed). It prints the medians per database. SQLite always; PostgreSQL too with --database-url.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

from bench.seed import on_each_database

ROOT = Path(__file__).resolve().parents[1]


def _full_position(app, *, people: int, places: int, standby: int, tag: str) -> tuple[int, list[int]]:
    """An emergency campaign's position filled by ``places`` people, ``standby`` more on standby, ``people``
    more in the grid (``tag``: two digits, unique per campaign); returns the campaign id and the accepted call-ups."""
    from campaigns.models import CallUp, CallUpStatus, CampaignStatus, Priority
    from campaigns.services import draft_campaign
    from core.clock import utcnow
    from core.kinds import CampaignKind
    from core.scope import Scope
    from extensions import db
    from grids.services import create_grid
    from volunteers.models import Volunteer

    now = utcnow()
    system = Scope.system("bench")
    with app.app_context():
        district = create_grid({"code": f"B{tag}", "name": "基准区", "level": 0}, scope=system)
        start = now + timedelta(days=1)
        campaign = draft_campaign({
            "title": "防汛转移", "kind": CampaignKind.FLOOD_EMERGENCY, "priority": Priority.EMERGENCY,
            "office_grid_id": district.id, "policy": {},
            "shifts": [{"start": start, "end": start + timedelta(hours=3), "grid_id": district.id,
                        "positions": [{"role": "转移引导员", "headcount": places, "min_party_members": 0,
                                       "required_skills": [], "preferred_skills": [],
                                       "required_identities": []}]}]}, scope=system, now=now)
        campaign.status, campaign.published_at = CampaignStatus.PUBLISHED, now
        position = campaign.shifts[0].positions[0]
        position.accepted_count = places
        crowd = [Volunteer(name=f"志愿者{i}", mobile=f"1{tag}{i:08d}", home_grid_id=district.id)
                 for i in range(people + places + standby)]
        db.session.add_all(crowd)
        db.session.flush()
        expires = now + timedelta(hours=2)
        accepted = [CallUp(position_id=position.id, volunteer_id=p.id, status=CallUpStatus.ACCEPTED, send_at=now,
                           sent_at=now, responded_at=now) for p in crowd[:places]]
        waiting = [CallUp(position_id=position.id, volunteer_id=p.id, status=CallUpStatus.SENT, send_at=now,
                          sent_at=now, expires_at=expires, standby_at=now + timedelta(seconds=i))
                   for i, p in enumerate(crowd[places:places + standby])]
        db.session.add_all(accepted + waiting)
        db.session.commit()
        return campaign.id, [c.id for c in accepted]


def _offered(campaign_id: int) -> int:
    """Call-ups of the campaign offered a place from standby (their event says so)."""
    from sqlalchemy import func, select

    from campaigns.models import CallUp, CallUpEvent, Shift
    from campaigns.places import join_shift
    from extensions import db

    return db.session.scalar(join_shift(select(func.count()).select_from(CallUpEvent)
                                        .join(CallUp, CallUp.id == CallUpEvent.callup_id))
                             .where(Shift.campaign_id == campaign_id,
                                    CallUpEvent.note == "standby: a place freed, offered"))


def _timed(app, call) -> float:
    with app.app_context():
        started = time.perf_counter()
        call()
        took = time.perf_counter() - started
        from extensions import db
        db.session.remove()
    return took


def run(url: str, args) -> dict:
    from flask_migrate import upgrade

    from app import create_app
    from campaigns.backfill import backfill_campaign
    from campaigns.responses import decline_callup
    from core.clock import utcnow
    from extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        dialect = db.engine.dialect.name
        zone = app.config["TIMEZONE"]
    rows = []
    for round_no in range(1, args.rounds + 1):
        timings = {}
        for side in ("standby", "rematch") if round_no % 2 else ("rematch", "standby"):
            campaign_id, accepted = _full_position(app, people=args.people, places=args.places,
                                                   standby=1 if side == "standby" else 0,
                                                   tag=f"{round_no % 10}{int(side == 'standby')}")
            withdraw = _timed(app, lambda: decline_callup(accepted[0], actor="bench", now=utcnow()))
            if side == "standby":
                timings["standby"] = withdraw
                with app.app_context():
                    assert _offered(campaign_id) == 1, "the place did not go to the one on standby"
            else:
                created = []
                timings["rematch"] = withdraw + _timed(app, lambda: created.append(backfill_campaign(
                    campaign_id, now=utcnow(), timezone_name=zone, actor="bench", at_once=True)))
                assert created[0], "the re-match called no one"
        rows.append(timings)
    with app.app_context():
        db.engine.dispose()
    return {"dialect": dialect, "rows": rows}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--places", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server (its maintenance database)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    results = on_each_database(run, args)
    print(f"\nOne freed place of {args.places}, {args.people:,} more people in the grid; medians of {args.rounds} "
          "interleaved rounds\n")
    print("| database | offered to the first on standby (ms) | no one on standby: withdrawal + re-match (ms) |")
    print("|---|---:|---:|")
    for result in results:
        standby = statistics.median(row["standby"] for row in result["rows"]) * 1000
        rematch = statistics.median(row["rematch"] for row in result["rows"]) * 1000
        print(f"| {result['dialect']} | {standby:.0f} | {rematch:.0f} |")


if __name__ == "__main__":
    main()
