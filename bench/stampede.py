"""Hot-position stampede over HTTP: many people tap "accept" on a few places at once, through gunicorn.

    python -m bench.stampede [--taps 400] [--places 20] [--concurrency 64] [--rounds 3]
                             [--workers 4] [--threads 4] [--database-url postgresql://…/postgres]

Each round publishes a fresh position with ``--places`` places and ``--taps`` open call-ups (one
answer link each), then POSTs every link's accept at once from ``--concurrency`` client threads to
a real gunicorn (``gunicorn.conf.py``). Side by side in the same round (the order alternating), the
same number of POSTs at the same concurrency go to the floor: the same app under the same gunicorn
settings with one endpoint that does one database write (``bench/floor.py``). It prints, per
database, the answers (200 accepted, 409 full: kept on standby, 5xx), p50/p95/p99 latency, requests
per second of both and the accept's share of the floor's, and whether the position over-filled:
medians over the rounds. SQLite always (a temporary file); PostgreSQL too with --database-url (a
throwaway database on that server).
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from bench.seed import on_each_database

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _hot_position(app, taps: int, places: int, round_no: int) -> tuple[int, list[str]]:
    """A position with ``places`` places and ``taps`` sent call-ups; returns its id and the link tokens."""
    from notices.links import _issue_link
    from campaigns.models import CallUp, CallUpStatus, Priority
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
        district = create_grid({"code": f"D{round_no}", "name": "基准区", "level": 0}, scope=system)
        start = now + timedelta(days=1)
        campaign = draft_campaign({
            "title": "防汛转移", "kind": CampaignKind.FLOOD_EMERGENCY, "priority": Priority.EMERGENCY,
            "office_grid_id": district.id, "policy": {},
            "shifts": [{"start": start, "end": start + timedelta(hours=3), "grid_id": district.id,
                        "positions": [{"role": "转移引导员", "headcount": places, "min_party_members": 0,
                                       "required_skills": [], "preferred_skills": [],
                                       "required_identities": []}]}]}, scope=system, now=now)
        position_id = campaign.shifts[0].positions[0].id
        people = [Volunteer(name=f"志愿者{i}", mobile=f"13{round_no % 10}{i:08d}", home_grid_id=district.id)
                  for i in range(taps)]
        db.session.add_all(people)
        db.session.flush()
        expires = now + timedelta(hours=1)
        callups = [CallUp(position_id=position_id, volunteer_id=p.id, status=CallUpStatus.SENT, send_at=now,
                          sent_at=now, expires_at=expires) for p in people]
        db.session.add_all(callups)
        db.session.flush()
        tokens = [_issue_link(c.id, expires_at=expires, now=now) for c in callups]
        db.session.commit()
    return position_id, tokens


def start_gunicorn(url: str, port: int, *, workers: int, threads: int, log: bool = False,
                   app: str | None = None, settings: dict[str, str] | None = None) -> subprocess.Popen:
    """gunicorn with gunicorn.conf.py on ``url``, answering on ``port`` once /healthz does; its log on stdout
    (a pipe) when ``log``, else discarded. Every tap comes from 127.0.0.1, so the per-address limit is lifted.
    ``settings`` adds environment variables (GRIDMUSTER_LOG_FORMAT, …)."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("GRIDMUSTER_") and key != "PROMETHEUS_MULTIPROC_DIR"}
    env.update({"DATABASE_URL": url, "GRIDMUSTER_BIND": f"127.0.0.1:{port}", "GRIDMUSTER_WORKERS": str(workers),
                "GRIDMUSTER_THREADS": str(threads), "GRIDMUSTER_ENV": "development",
                "GRIDMUSTER_ANSWER_RATE_LIMIT": "100000 per minute"})
    env.update(settings or {})
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"] + ([app] if app else [])
    if not log:
        env["GRIDMUSTER_LOG_LEVEL"] = "warning"
        command += ["--access-logfile", os.devnull]
    output = subprocess.PIPE if log else subprocess.DEVNULL
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
            return server
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError("gunicorn did not start: " + (server.communicate()[0] or "")[-2000:]) from None
            time.sleep(0.2)


def tap(port: int, token: str) -> tuple[int, float]:
    """POST accept on one answer link: the status and the seconds it took."""
    return _post(f"http://127.0.0.1:{port}/r/{token}", urllib.parse.urlencode({"action": "accept"}).encode())


def floor_tap(port: int, _n: int) -> tuple[int, float]:
    """POST to the floor's one-write endpoint: the status and the seconds it took."""
    return _post(f"http://127.0.0.1:{port}/bench/floor", b"")


def _post(url: str, body: bytes) -> tuple[int, float]:
    request = urllib.request.Request(url, data=body, method="POST")
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            answer.read()
            status = answer.status
    except urllib.error.HTTPError as error:
        status = error.code
    return status, time.perf_counter() - started


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _burst(pool_size: int, call, items) -> tuple[list[tuple[int, float]], float]:
    """Every item through ``call`` from ``pool_size`` threads at once: the results and the wall seconds."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=pool_size) as pool:
        results = list(pool.map(call, items))
    return results, time.perf_counter() - started


def _latencies(results: list[tuple[int, float]]) -> dict[str, float]:
    seconds = [took for _, took in results]
    return {"p50": _percentile(seconds, 0.5), "p95": _percentile(seconds, 0.95), "p99": _percentile(seconds, 0.99),
            "max": max(seconds)}


def run(url: str, args) -> dict:
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from app import create_app
    from campaigns.models import CallUp, CallUpStatus, Position
    from extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        dialect = db.engine.dialect.name
    port, floor_port = free_port(), free_port()
    server = start_gunicorn(url, port, workers=args.workers, threads=args.threads)
    floor = start_gunicorn(url, floor_port, workers=args.workers, threads=args.threads,
                           app="bench.floor:create_floor_app()")
    rounds = []
    try:
        for round_no in range(1, args.rounds + 1):
            position_id, tokens = _hot_position(app, args.taps, args.places, round_no)
            accept_first = round_no % 2 == 1  # interleaved: neither side always runs on a warmer machine
            for side in ("accept", "floor") if accept_first else ("floor", "accept"):
                if side == "accept":
                    results, wall = _burst(args.concurrency, lambda token: tap(port, token), tokens)
                else:
                    floor_results, floor_wall = _burst(args.concurrency, lambda n: floor_tap(floor_port, n),
                                                       range(args.taps))
            with app.app_context():
                accepted = db.session.scalar(select(func.count()).select_from(CallUp).where(
                    CallUp.position_id == position_id, CallUp.status == CallUpStatus.ACCEPTED))
                counter = db.session.get(Position, position_id).accepted_count
                db.session.remove()
            statuses = Counter(status for status, _ in results)
            floor_statuses = Counter(status for status, _ in floor_results)
            rounds.append({"ok": statuses.get(200, 0), "full": statuses.get(409, 0),
                           "5xx": sum(n for s, n in statuses.items() if s >= 500),
                           "other": sum(n for s, n in statuses.items() if s not in (200, 409) and s < 500),
                           **_latencies(results), "rps": len(results) / wall,
                           "floor_ok": floor_statuses.get(204, 0), "floor_rps": len(floor_results) / floor_wall,
                           **{f"floor_{key}": value for key, value in _latencies(floor_results).items()},
                           "overfilled": accepted > args.places or counter != accepted})
    finally:
        for process in (server, floor):
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
        with app.app_context():
            db.engine.dispose()
    return {"dialect": dialect, "rounds": rounds}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taps", type=int, default=400)
    parser.add_argument("--places", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server (its maintenance database)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    results = on_each_database(run, args)
    print(f"\n{args.taps} taps on {args.places} places, {args.concurrency} at once, gunicorn "
          f"{args.workers} workers × {args.threads} threads; medians of {args.rounds} interleaved rounds\n")
    print("| database | 200 accepted | 409 full (standby) | 5xx | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) "
          "| over-filled rounds |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for result in results:
        rows = result["rounds"]

        def median(key):
            return statistics.median(row[key] for row in rows)

        print(f"| {result['dialect']} | {median('ok'):.0f} | {median('full'):.0f} | {median('5xx'):.0f} "
              f"| {median('p50') * 1000:.0f} | {median('p95') * 1000:.0f} | {median('p99') * 1000:.0f} "
              f"| {median('max') * 1000:.0f} | {sum(row['overfilled'] for row in rows)} of {len(rows)} |")
    print(f"\nThe same {args.taps} POSTs, {args.concurrency} at once, to the accept endpoint and to a bare endpoint "
          "doing one database write (bench/floor.py), same gunicorn settings, side by side in each round\n")
    print("| database | endpoint | requests/s | p50 (ms) | p95 (ms) | p99 (ms) | accept ÷ floor |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for result in results:
        rows = result["rounds"]

        def median(key):
            return statistics.median(row[key] for row in rows)

        share = statistics.median(row["rps"] / row["floor_rps"] for row in rows)
        print(f"| {result['dialect']} | accept | {median('rps'):.0f} | {median('p50') * 1000:.0f} "
              f"| {median('p95') * 1000:.0f} | {median('p99') * 1000:.0f} | {share:.0%} |")
        print(f"| {result['dialect']} | one write (floor) | {median('floor_rps'):.0f} "
              f"| {median('floor_p50') * 1000:.0f} | {median('floor_p95') * 1000:.0f} "
              f"| {median('floor_p99') * 1000:.0f} | |")


if __name__ == "__main__":
    main()
