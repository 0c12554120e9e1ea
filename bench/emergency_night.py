"""A night emergency end to end: publish at 03:00, how soon the last person's phone gets the SMS.

    python -m bench.emergency_night [--places 10 500] [--rounds 3] [--database-url postgresql://…/postgres]

Each round drafts an emergency campaign for a shift starting in 30 minutes, in a zone where it is
03:xx now, over ``2 × places`` people who only help on weekday daytimes (so before emergencies
ranked availability, nobody would have been called). The matcher runs, the campaign is published
(call-ups and outbox rows written in one transaction), and a real `flask scheduler run` process,
already running as in a deployment, hands the SMS to a local HTTP gateway. The table shows, per
place count, the people texted and the seconds from the start of publishing to the first and the
last SMS received; medians of ``--rounds`` rounds. A temporary SQLite file by default; with
--database-url, a throwaway database on that PostgreSQL server as well.
"""
from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from bench.dispatch import Receiver
from bench.seed import postgres_database, sqlite_database

ROOT = Path(__file__).resolve().parents[1]
DAYTIME = [(day, 9 * 60, 17 * 60) for day in range(5)]  # Monday to Friday, 09:00-17:00


def night_zone(hour: int) -> str:
    """A fixed-offset zone in which the local time is now ``hour``:xx (Etc/GMT-3 is UTC+3)."""
    from core.clock import utcnow

    offset = (hour - utcnow().hour) % 24
    if offset > 14:
        offset -= 24
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def _spawn_scheduler(url: str, zone: str, gateway: str) -> subprocess.Popen:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GRIDMUSTER_")}
    env.update({"DATABASE_URL": url, "TIMEZONE": zone, "GRIDMUSTER_SMS_GATEWAY_URL": gateway,
                "GRIDMUSTER_PUBLIC_URL": "https://gm.example.cn", "GRIDMUSTER_ENV": "development",
                "GRIDMUSTER_LOG_LEVEL": "warning"})
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "scheduler", "run"], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _draft(app, places: int, tag: str, zone: str) -> int:
    """A district, ``2 × places`` weekday-daytime people with SMS consent, and an emergency draft."""
    from campaigns.models import Priority
    from campaigns.services import draft_campaign
    from core.clock import utcnow
    from core.kinds import CampaignKind
    from core.scope import Scope
    from extensions import db
    from grids.services import create_grid
    from volunteers.availability import windows_to_mask
    from volunteers.models import AvailabilityWindow, ChannelConsent, Volunteer

    now = utcnow()
    system = Scope.system("bench")
    mask = windows_to_mask(DAYTIME)
    with app.app_context():
        district = create_grid({"code": f"N{tag}", "name": "夜间基准区", "level": 0}, scope=system)
        people = [Volunteer(name=f"志愿者{i}", mobile=f"13{int(tag) % 10}{i:08d}", home_grid_id=district.id,
                            availability_mask=mask, emergency_calls="any_hour") for i in range(2 * places)]
        for person in people:
            person.availability = [AvailabilityWindow(weekday=d, start_minute=s, end_minute=e) for d, s, e in DAYTIME]
            person.channel_consents = [ChannelConsent(channel="sms", granted_at=now)]
        db.session.add_all(people)
        start = now + timedelta(minutes=30)
        campaign = draft_campaign({
            "title": "爆管抢修", "kind": CampaignKind.FLOOD_EMERGENCY, "priority": Priority.EMERGENCY,
            "office_grid_id": district.id, "policy": {},
            "shifts": [{"start": start, "end": start + timedelta(hours=2), "grid_id": district.id,
                        "place": "江南小区3幢",
                        "positions": [{"role": "抢修协助", "headcount": places, "min_party_members": 0,
                                       "required_skills": [], "preferred_skills": [],
                                       "required_identities": []}]}]}, scope=system, now=now)
        db.session.commit()
        return campaign.id


def _publish(app, campaign_id: int, zone: str) -> tuple[float, set[int]]:
    """Match and publish; the wall-clock time publishing began and the call-up ids written."""
    from sqlalchemy import select

    from campaigns import services
    from campaigns.models import CallUp, Position, Shift
    from core.clock import utcnow
    from extensions import db

    with app.app_context():
        began = time.time()
        services.publish_campaign(campaign_id, actor="bench", now=utcnow(), timezone_name=zone)
        ids = set(db.session.scalars(select(CallUp.id).join(Position).join(Shift)
                                     .where(Shift.campaign_id == campaign_id)))
        db.session.remove()
    return began, ids


def run(url: str, args) -> dict:
    from flask_migrate import upgrade

    from app import create_app
    from extensions import db

    zone = night_zone(3)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TIMEZONE": zone})
    with app.app_context():
        upgrade()
        dialect = db.engine.dialect.name
    receiver = Receiver()
    scheduler = _spawn_scheduler(url, zone, receiver.url)
    results: dict[int, list[dict]] = {places: [] for places in args.places}
    try:
        time.sleep(3)  # the scheduler is up and ticking, as in a deployment
        serial = 0
        for round_no in range(1, args.rounds + 1):
            for places in args.places:
                serial += 1
                campaign_id = _draft(app, places, str(serial), zone)
                began, ids = _publish(app, campaign_id, zone)
                published = time.time() - began
                keys = {f"{callup_id}:callup:sms:" for callup_id in ids}
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    with receiver.lock:
                        arrived = [at for key, at in receiver.arrivals if key[:key.rfind(":") + 1] in keys]
                    if len(arrived) >= len(ids):
                        break
                    time.sleep(0.01)
                results[places].append({"texted": len(ids), "received": len(arrived), "publish": published,
                                        "first": min(arrived) - began if arrived else float("nan"),
                                        "last": max(arrived) - began if arrived else float("nan")})
                print(f"  {dialect} round {round_no}: {places} places, {len(arrived)}/{len(ids)} SMS, "
                      f"last after {results[places][-1]['last']:.1f} s", file=sys.stderr, flush=True)
    finally:
        scheduler.send_signal(signal.SIGINT)
        scheduler.wait(timeout=30)
        with app.app_context():
            db.engine.dispose()
    return {"dialect": dialect, "results": results}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--places", type=int, nargs="+", default=[10, 500])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server (its maintenance database)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)
    runs = []
    for database in [sqlite_database()] + ([postgres_database(args.database_url)] if args.database_url else []):
        with database as url:
            runs.append(run(url, args))
    print(f"\nEmergency published at 03:00 local time, shift in 30 min, people available on weekday daytimes "
          f"only; a running `flask scheduler run`; medians of {args.rounds} rounds\n")
    print("| database | places | people texted | SMS received | publish (s) | first SMS (s) | last SMS (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for result in runs:
        for places, rows in result["results"].items():
            def median(key):
                return statistics.median(row[key] for row in rows)

            print(f"| {result['dialect']} | {places} | {median('texted'):.0f} | {median('received'):.0f} "
                  f"| {median('publish'):.2f} | {median('first'):.2f} | {median('last'):.2f} |")
    print("\nSeconds count from the start of publishing (matching, call-ups and outbox rows written) "
          "to the gateway receiving the message.")


if __name__ == "__main__":
    main()
