"""Outbox dispatch throughput and due→delivered delay, with one and two scheduler processes.

    python -m bench.dispatch [--messages N] [--rate R] [--rounds K] [--workers]
                             [--database-url postgresql://…/postgres]

Messages go to a local HTTP receiver (the generic webhook channel), sent by real
`flask scheduler run` processes (the clock process of a deployment: every job of the
table runs, the dispatch tick drains the backlog). Two phases per process count: a
backlog of N due messages (throughput, first to last arrival), then N messages falling
due at a steady rate R (delay from due time to arrival, p50/p99). ``--workers`` adds
rows for dedicated `flask outbox work` dispatchers. The configurations take turns, round
after round, and the table shows the medians of ``--rounds`` rounds. A temporary SQLite
file by default; with --database-url, a throwaway database on that PostgreSQL server.
"""
from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class Receiver:
    def __init__(self) -> None:
        self.arrivals: list[tuple[str, float]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.arrivals.append((self.headers.get("Idempotency-Key", ""), time.time()))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def count(self, prefix: str) -> int:
        with self.lock:
            return sum(1 for key, _ in self.arrivals if key.startswith(prefix))

    def times(self, prefix: str) -> dict[str, float]:
        with self.lock:
            return {key: at for key, at in self.arrivals if key.startswith(prefix)}


def _queue(app, prefix: str, dues: list[datetime]) -> None:
    from notices.models import Channel, Notification, NotificationKind, NotificationStatus
    from extensions import db

    with app.app_context():
        db.session.execute(db.insert(Notification), [
            {"channel": Channel.WEBHOOK, "kind": NotificationKind.COORDINATOR, "idempotency_key": f"{prefix}:{i}",
             "status": NotificationStatus.PENDING, "due_at": due, "attempts": 0, "max_attempts": 5,
             "created_at": due, "payload": {"recipient": "1", "subject": "bench", "text": f"消息 {i}"}}
            for i, due in enumerate(dues)])
        db.session.commit()


COMMANDS = {"scheduler run": ["scheduler", "run"], "outbox work": ["outbox", "work", "--pause", "0.02"]}


def _spawn(url: str, receiver_url: str, kind: str) -> subprocess.Popen:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GRIDMUSTER_")}
    env.update({"DATABASE_URL": url, "GRIDMUSTER_WEBHOOK_URL": receiver_url, "GRIDMUSTER_OUTBOX_BATCH_SIZE": "50"})
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", *COMMANDS[kind]],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait(receiver: Receiver, prefix: str, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while receiver.count(prefix) < count and time.monotonic() < deadline:
        time.sleep(0.01)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run(messages: int, url: str, kind: str, processes: int, receiver: Receiver, app, rate: float,
        round_no: int) -> dict:
    workers = [_spawn(url, receiver.url, kind) for _ in range(processes)]
    tag = f"{kind.split()[0]}{processes}r{round_no}"
    try:
        # Warm up: every process has started and is polling.
        warm = f"warm{tag}"
        _queue(app, warm, [datetime.now(timezone.utc)] * (processes * 4))
        _wait(receiver, warm, processes * 4, 60)
        time.sleep(1.0)
        backlog = f"backlog{tag}"
        _queue(app, backlog, [datetime.now(timezone.utc) - timedelta(seconds=1)] * messages)
        _wait(receiver, backlog, messages, 120)
        stamps = sorted(receiver.times(backlog).values())
        throughput = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else float("nan")
        steady = f"steady{tag}"
        start = datetime.now(timezone.utc) + timedelta(seconds=1)
        dues = [start + timedelta(seconds=i / rate) for i in range(messages)]
        _queue(app, steady, dues)
        _wait(receiver, steady, messages, 120 + messages / rate)
        arrived = receiver.times(steady)
        delays = [arrived[f"{steady}:{i}"] - due.timestamp() for i, due in enumerate(dues) if f"{steady}:{i}" in arrived]
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGINT)
        for worker in workers:
            worker.wait(timeout=10)
    return {"kind": kind, "processes": processes, "throughput": throughput, "delivered": len(stamps),
            "p50": statistics.median(delays), "p99": _percentile(delays, 0.99), "rate": rate,
            "steady_delivered": len(delays)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--rate", type=float, default=250.0, help="steady phase: messages falling due per second")
    parser.add_argument("--workers", action="store_true", help="also measure dedicated `flask outbox work` processes")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every configuration; medians are shown")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from bench.seed import postgres_database, sqlite_database

    with postgres_database(args.database_url) if args.database_url else sqlite_database() as url:
        dialect, results = measure(url, args)
    print(f"\nDispatch to a local HTTP receiver, {args.messages} messages per phase, database: {dialect}, "
          f"medians of {args.rounds} rounds\n")
    print("| processes | backlog throughput (msg/s) | steady rate (msg/s) | due→delivered p50 (ms) | p99 (ms) |")
    print("|---|---|---|---|---|")
    for (kind, processes), rows in results.items():
        def median(key):
            return statistics.median(row[key] for row in rows)

        print(f"| {processes} × `flask {kind}` | {median('throughput'):.0f} | {args.rate:.0f} "
              f"| {median('p50') * 1000:.0f} | {median('p99') * 1000:.0f} |")


def measure(url: str, args) -> tuple[str, dict]:
    """Every configuration, ``args.rounds`` times in turn, on the database at ``url``."""
    from flask_migrate import upgrade

    from app import create_app
    from extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        dialect = db.engine.dialect.name
    receiver = Receiver()
    kinds = [("scheduler run", 1), ("scheduler run", 2)] + ([("outbox work", 1), ("outbox work", 2)] if args.workers else [])
    results: dict[tuple[str, int], list[dict]] = {kind: [] for kind in kinds}
    try:
        for round_no in range(1, args.rounds + 1):
            for kind, processes in kinds:
                results[(kind, processes)].append(
                    run(args.messages, url, kind, processes, receiver, app, args.rate, round_no))
                print(f"  round {round_no}: {processes} × {kind} done", file=sys.stderr, flush=True)
    finally:
        with app.app_context():
            db.engine.dispose()
    return dialect, results


if __name__ == "__main__":
    main()
