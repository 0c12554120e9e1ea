"""The whole arrangement under load and faults at once: a 2,000-place emergency answered in a minute while
a web worker and a scheduler are killed, PostgreSQL restarts and the channels go down.

    python -m bench.load_faults --database-url postgresql://postgres@127.0.0.1:5432/postgres
                                [--volunteers 10000] [--positions 200] [--headcount 10] [--answers 2000]
                                [--office-clients 4] [--answer-until 150] [--time-limit 600] [--drain 210]

Loopback only. On a throwaway database on that server (dropped at the end) it seeds the demo district
(``bench.seed``), then starts what a deployment runs, with the settings of ``deploy/gridmuster.env.example``:
gunicorn (``gunicorn.conf.py``, its workers and threads), two `flask scheduler run` processes, and in this
process a real SMTP server (aiosmtpd) and a real HTTP receiver (the webhook and the SMS gateway), which
record every message with its idempotency key. Office clients sign in and browse the campaign list, the
emergency's board and its staffing while a coordinator drafts, matches and publishes the emergency over the
HTTP API. Each call-up's link reaches the "phone" through the webhook; the first ``--answers`` people answer
it (accept with an arrival time, or decline) as a phone does, ``POST /r/<token>``, spread over the minute after
publishing. Meanwhile: kill -9 of one web worker and one scheduler (restarted 2 s later, as systemd's
``Restart=always`` does), one restart of PostgreSQL (``pg_ctlcluster … restart``) while messages go out, and
both receivers down for 30 s. Clients retry a 5xx or a broken connection as a phone or a browser would.

It then lets the outbox drain (bounded) and checks, printing PASS/FAIL per line (exit 1 on any FAIL): no 5xx
outside the database restart window and every retried request ends answered; no position over-filled; no
call-up or message lost; each accepted person's confirmation arrives under one idempotency key and raw
re-sends stay within the crashes; /readyz, the web workers and both schedulers recover by themselves. Tables:
requests, throughput and latency per phase (before the faults, the kill, the restart, the outage, after) and
the counts. The whole run stops at ``--time-limit`` seconds, and PostgreSQL is started again if it is down.
"""
from __future__ import annotations

import argparse
import collections
import heapq
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.stampede import _percentile

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"/r/([A-Za-z0-9_-]{16,})")
PASSWORD = "bench-load-faults-42"
RETRY_WAITS = (0.5, 1.0, 2.0, 3.0, 4.0, 5.0)  # a client's pauses before retrying a 5xx or a broken connection
RESTART_GRACE = 5.0  # seconds after /readyz answers 200 again that still count as the restart window


class TimeLimit(Exception):
    pass


# --- the receivers: a real HTTP receiver (webhook, SMS gateway) and a real SMTP server ------------------


class HttpReceiver:
    """Records every POST (path, idempotency key, body, time) on a fixed port; ``down()`` refuses and drops
    every connection as a dead host would, ``up()`` listens again on the same port."""

    def __init__(self, on_message=None) -> None:
        self.records: list[dict] = []
        self.lock = threading.Lock()
        self.on_message = on_message
        self.is_down = False
        self.connections: set[socket.socket] = set()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = None
        self.up()

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def setup(self):
                super().setup()
                with receiver.lock:
                    receiver.connections.add(self.connection)

            def finish(self):
                with receiver.lock:
                    receiver.connections.discard(self.connection)
                try:
                    super().finish()
                except OSError:
                    pass

            def do_POST(self):  # noqa: N802
                if receiver.is_down:  # a dead host takes nothing: drop the connection unanswered, record nothing
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                key = self.headers.get("Idempotency-Key") or body.get("idempotency_key") or ""
                record = {"path": self.path, "key": key, "kind": body.get("kind"), "callup_id": body.get("callup_id"),
                          "text": body.get("text", ""), "at": time.monotonic()}
                with receiver.lock:
                    receiver.records.append(record)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")
                if receiver.on_message is not None:
                    receiver.on_message(record)

            def log_message(self, *args):
                return None

        return Handler

    def up(self) -> None:
        class Server(ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

            def handle_error(self, request, client_address):
                if not isinstance(sys.exc_info()[1], OSError):
                    super().handle_error(request, client_address)

        self.server = Server(("127.0.0.1", self.port), self._handler())
        self.is_down = False
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self) -> None:
        self.is_down = True
        self.server.shutdown()
        self.server.server_close()
        with self.lock:
            open_now = list(self.connections)
        for connection in open_now:  # kept-alive connections of the senders' pools die with the host
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def keys(self, path: str | None = None) -> list[str]:
        with self.lock:
            return [r["key"] for r in self.records if path is None or r["path"] == path]

    def arrivals(self) -> list[float]:
        with self.lock:
            return [r["at"] for r in self.records]


class SmtpReceiver:
    """aiosmtpd on a fixed port recording each message's X-Idempotency-Key; ``down()`` stops it, ``up()``
    starts it again on the same port."""

    def __init__(self) -> None:
        self.records: list[tuple[str, float]] = []
        self.lock = threading.Lock()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"smtp://127.0.0.1:{self.port}"
        self.controller = None
        self.up()

    def up(self) -> None:
        from aiosmtpd.controller import Controller
        from email import message_from_bytes

        receiver = self

        class Mailbox:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                key = message_from_bytes(envelope.content)["X-Idempotency-Key"] or ""
                with receiver.lock:
                    receiver.records.append((key, time.monotonic()))
                return "250 Message accepted for delivery"

        self.controller = Controller(Mailbox(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def down(self) -> None:
        self.controller.stop()

    def keys(self) -> list[str]:
        with self.lock:
            return [key for key, _ in self.records]

    def arrivals(self) -> list[float]:
        with self.lock:
            return [at for _, at in self.records]


# --- PostgreSQL on this machine -------------------------------------------------------------------------


def _cluster() -> list[str]:
    version = sorted(os.listdir("/etc/postgresql"))[0]
    return ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main"]


def restart_postgres() -> subprocess.CompletedProcess:
    return subprocess.run(_cluster() + ["restart"], capture_output=True, text=True, timeout=120)


def ensure_postgres_running() -> str:
    """Start the cluster if it is not running; what was done."""
    if subprocess.run(_cluster() + ["status"], capture_output=True).returncode == 0:
        return "running"
    done = subprocess.run(_cluster() + ["start"], capture_output=True, text=True, timeout=120)
    return f"started (exit {done.returncode}) {done.stderr.strip()}"


# --- the run --------------------------------------------------------------------------------------------


class Recorder:
    """Every HTTP attempt the clients made: kind, outcome (status or error name), start, seconds, and its
    request's id (a retried request keeps its id across attempts)."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.rows: list[tuple[str, str, float, float, int, int]] = []
        self.lock = threading.Lock()
        self.serial = 0

    def request(self, kind: str, call) -> tuple[str, object]:
        """``call()`` until it answers below 500, retrying after RETRY_WAITS; the last outcome and response."""
        with self.lock:
            self.serial += 1
            request_id = self.serial
        import httpx

        response = None
        for attempt, wait in enumerate((0.0,) + RETRY_WAITS):
            time.sleep(wait)
            begun = time.monotonic()
            try:
                response = call()
                outcome = str(response.status_code)
            except httpx.HTTPError as error:
                response, outcome = None, type(error).__name__
            with self.lock:
                self.rows.append((kind, outcome, begun - self.started, time.monotonic() - begun, request_id, attempt))
            if outcome.isdigit() and int(outcome) < 500:
                break
        return outcome, response


def _deploy_settings(database_url: str, public_url: str, webhook: str, sms: str, smtp: str) -> dict[str, str]:
    """The example environment file's settings, pointed at this run's database, receivers and address."""
    from tests.ops.test_deploy_smoke import _example_env, _redis_url

    settings = _example_env()
    settings.update({"DATABASE_URL": database_url, "GRIDMUSTER_ENV": "development", "SECRET_KEY": "bench-" * 8,
                     "GRIDMUSTER_PUBLIC_URL": public_url, "GRIDMUSTER_WEBHOOK_URL": webhook,
                     "GRIDMUSTER_SMS_GATEWAY_URL": sms, "GRIDMUSTER_SMTP_URL": smtp,
                     "GRIDMUSTER_RATELIMIT_STORAGE_URL": _redis_url(),
                     # Every phone and office client comes from 127.0.0.1: the per-address limits are lifted.
                     "GRIDMUSTER_ANSWER_RATE_LIMIT": "100000 per minute",
                     "GRIDMUSTER_LOGIN_RATE_LIMIT": "1000 per minute"})
    return {key: value for key, value in settings.items() if value != ""}


def _spawn_scheduler(settings: dict[str, str], metrics_port: int, log_path: Path) -> subprocess.Popen:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("GRIDMUSTER_") and key not in ("PROMETHEUS_MULTIPROC_DIR", "DATABASE_URL")}
    env.update(settings)
    with open(log_path, "a", encoding="utf-8") as log:
        return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "scheduler", "run",
                                 "--metrics-port", str(metrics_port)], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT)


def _scheduler_sent(port: int) -> float | None:
    """A scheduler's messages sent so far (every channel), from its metrics; None when it does not answer."""
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    try:
        body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except httpx.HTTPError:
        return None
    return sum(s.value for family in text_string_to_metric_families(body) for s in family.samples
               if s.name == "gridmuster_outbox_sends_total" and s.labels.get("result") == "sent")


def _prepare(app, volunteers: int, office_clients: int) -> dict:
    """After the demo seed: the coordinator (an admin who takes the office's notices by e-mail) and the office
    accounts that browse the board."""
    from sqlalchemy import select

    from accounts.models import Role
    from accounts.users import create_user
    from core.clock import utcnow
    from extensions import db
    from grids.models import Grid

    with app.app_context():
        district = db.session.scalar(select(Grid).where(Grid.level == 0).order_by(Grid.id).limit(1))
        create_user(login="bench-coordinator", display_name="应急指挥员", password=PASSWORD, role=Role.ADMIN,
                    actor="bench", now=utcnow(),
                    contact={"email": "zhihui@example.cn", "notify_channels": ["email"]})
        for n in range(office_clients):
            create_user(login=f"bench-office-{n}", display_name=f"区值班员{n}", password=PASSWORD, role=Role.OFFICE,
                        actor="bench", now=utcnow(), grid_id=district.id)
        db.session.commit()
        found = {"district_id": district.id}
        db.session.remove()
    return found


def run(url: str, args, work: Path) -> int:
    import httpx
    from sqlalchemy import func, select

    from app import create_app
    from bench.seed import run_seed
    from bench.stampede import free_port, start_gunicorn
    from campaigns.models import CallUp, CallUpStatus, Position, Shift
    from extensions import db
    from notices.models import Notification, NotificationStatus
    from tests.ops.test_load_and_faults import _children

    t_setup = time.monotonic()
    print(f"  seeding {args.volunteers:,} volunteers …", file=sys.stderr, flush=True)
    run_seed(url, args.volunteers, seed=11)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    ids = _prepare(app, args.volunteers, args.office_clients)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    marks: list[tuple[str, float]] = [("before publishing (match, publish)", 0.0)]

    def now_s() -> float:
        return time.monotonic() - started

    rng = random.Random(20240917)
    # (offset after publishing, call-up id, token, action, arrival): a heap by offset. A phone answers at
    # t0 + offset, or just after its message arrives when that is later.
    plan: list[tuple[float, int, str, str, float]] = []
    plan_lock = threading.Condition()
    chosen: dict[int, str] = {}
    publishing = threading.Event()
    t0_box: list[float | None] = [None]  # seconds since start when the publish request was answered
    callup_arrivals: dict[int, float] = {}

    def on_message(record: dict) -> None:
        """A call-up reaching a phone: the first ``--answers`` people answer within the minute after publishing."""
        if record["kind"] != "callup" or record["path"] != "/hook" or not publishing.is_set():
            return
        found = LINK.search(record["text"] or "")
        callup_id = record["callup_id"]
        if not found or callup_id is None:
            return
        arrival = record["at"] - started
        with plan_lock:
            callup_arrivals.setdefault(callup_id, arrival)
            if callup_id in chosen or len(chosen) >= args.answers:
                return
            action = "accept" if rng.random() < args.accept_share else "decline"
            chosen[callup_id] = action
            heapq.heappush(plan, (rng.uniform(3.0, 57.0), callup_id, found.group(1), action, arrival))
            plan_lock.notify()

    hook = HttpReceiver(on_message)
    smtp = SmtpReceiver()
    settings = _deploy_settings(url, base, hook.url + "/hook", hook.url + "/sms", smtp.url)
    web_settings = {k: v for k, v in settings.items() if k not in ("GRIDMUSTER_BIND", "DATABASE_URL")}
    workers = int(settings.get("GRIDMUSTER_WORKERS", "2"))
    threads = int(settings.get("GRIDMUSTER_THREADS", "1"))
    server = start_gunicorn(url, port, workers=workers, threads=threads, log=True, settings=web_settings)
    web_log = open(work / "gunicorn.log", "w", encoding="utf-8")
    web_errors: list[str] = []

    def drain_web_log() -> None:
        for line in server.stdout:
            web_log.write(line)
            if '"status": "5' in line or "Traceback" in line or '"level": "ERROR"' in line or "WORKER TIMEOUT" in line:
                web_errors.append(f"{now_s():7.1f}s {line.rstrip()[:400]}")

    threading.Thread(target=drain_web_log, daemon=True).start()
    scheduler_ports = [free_port(), free_port()]
    schedulers = [_spawn_scheduler(settings, p, work / f"scheduler-{i}.log") for i, p in enumerate(scheduler_ports)]
    recorder = Recorder(started)
    stop = threading.Event()
    stop_answers = threading.Event()
    readyz: list[tuple[float, int]] = []
    faults: dict[str, float] = {}
    notes: list[str] = []
    pg_state = "not restarted"
    try:
        for p in scheduler_ports:
            deadline = time.monotonic() + 60
            while _scheduler_sent(p) is None:
                if time.monotonic() > deadline:
                    raise RuntimeError("a scheduler did not start")
                time.sleep(0.3)
        print(f"  set up in {time.monotonic() - t_setup:.0f} s; gunicorn {workers}×{threads}, 2 schedulers",
              file=sys.stderr, flush=True)

        # --- clients -----------------------------------------------------------------------------------
        campaign_id = [None]

        def office(n: int) -> None:
            with httpx.Client(base_url=base, timeout=30) as web:
                page = web.get("/login").text
                token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
                signed = web.post("/login", data={"csrf_token": token, "login": f"bench-office-{n}",
                                                  "password": PASSWORD})
                if signed.status_code != 302:
                    notes.append(f"office client {n} could not sign in: {signed.status_code}")
                    return
                while not stop.is_set():
                    recorder.request("campaign list", lambda: web.get("/office/campaigns"))
                    if campaign_id[0] is not None:
                        recorder.request("board", lambda: web.get(f"/office/campaigns/{campaign_id[0]}"))
                    time.sleep(0.2)

        def monitor() -> None:
            with httpx.Client(base_url=base, timeout=10) as web:
                while not stop.is_set():
                    begun = now_s()
                    try:
                        status = web.get("/readyz").status_code
                    except httpx.HTTPError:
                        status = 0
                    readyz.append((begun, status))
                    time.sleep(0.25)

        answers: dict[int, tuple[str, str]] = {}  # call-up id → (action, final outcome)
        answered_at: dict[int, float] = {}

        def phone() -> None:
            with httpx.Client(base_url=base, timeout=30) as web:
                while True:
                    with plan_lock:
                        while True:
                            if stop_answers.is_set():
                                return
                            wait = 0.05
                            if plan and t0_box[0] is not None:
                                offset, callup_id, token, action, arrival = plan[0]
                                due = max(arrival + 0.3, t0_box[0] + offset)
                                if due <= now_s():
                                    heapq.heappop(plan)
                                    break
                                wait = min(due - now_s(), 0.2)
                            plan_lock.wait(timeout=wait)
                    form = {"action": action} | ({"eta_minutes": "15"} if action == "accept" else {})
                    outcome, _ = recorder.request(action, lambda: web.post(f"/r/{token}", data=form))
                    answers[callup_id] = (action, outcome)
                    answered_at[callup_id] = now_s()

        threads_ = [threading.Thread(target=office, args=(n,), daemon=True) for n in range(args.office_clients)]
        threads_.append(threading.Thread(target=monitor, daemon=True))
        phones = [threading.Thread(target=phone, daemon=True) for _ in range(args.phones)]
        for thread in threads_ + phones:
            thread.start()
        time.sleep(5)

        # --- the emergency, over the API -----------------------------------------------------------------
        with httpx.Client(base_url=base, timeout=120) as api:
            issued = api.post("/api/v1/auth/token", json={"login": "bench-coordinator", "password": PASSWORD})
            assert issued.status_code == 201, issued.text
            api.headers["Authorization"] = f"Bearer {issued.json()['token']}"
            start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=1)
            per_shift = 20
            shifts = [{"start": start.isoformat(), "end": (start + timedelta(hours=4)).isoformat(),
                       "grid_id": ids["district_id"], "place": f"第{s + 1}集合点",
                       "positions": [{"role": f"抢险岗{s * per_shift + p + 1}", "headcount": args.headcount,
                                      "min_party_members": 0}
                                     for p in range(min(per_shift, args.positions - s * per_shift))]}
                      for s in range(-(-args.positions // per_shift))]
            drafted = api.post("/api/v1/campaigns", json={
                "title": "暴雨内涝抢险（压测）", "kind": "flood_emergency", "priority": "emergency",
                "office_grid_id": ids["district_id"], "shifts": shifts})
            assert drafted.status_code == 201, drafted.text[:2000]
            campaign_id[0] = drafted.json()["id"]
            t = time.monotonic()
            matched = api.post(f"/api/v1/campaigns/{campaign_id[0]}/match", json={})
            match_seconds = time.monotonic() - t
            assert matched.status_code == 200, matched.text[:2000]
            proposed = sum(len(p["proposals"]) for p in matched.json()["positions"])
            publishing.set()
            t = time.monotonic()
            published = api.post(f"/api/v1/campaigns/{campaign_id[0]}/publish", json={})
            publish_seconds = time.monotonic() - t
            assert published.status_code == 200, published.text[:2000]
            t0 = t0_box[0] = now_s()
            marks.append(("published, no fault yet", t0))
        with plan_lock:
            plan_lock.notify_all()
        print(f"  published at {t0:.1f} s: {proposed} proposed, match {match_seconds:.1f} s, publish "
              f"{publish_seconds:.1f} s", file=sys.stderr, flush=True)

        def at(offset: float) -> None:
            while now_s() < t0 + offset:
                time.sleep(0.05)

        # --- faults --------------------------------------------------------------------------------------
        at(args.kill_at)
        victim = sorted(_children(server.pid))[0]
        os.kill(victim, signal.SIGKILL)
        os.kill(schedulers[0].pid, signal.SIGKILL)
        schedulers[0].wait()
        faults["kill"] = now_s()
        marks.append(("kill -9 web worker + scheduler", faults["kill"]))
        print(f"  {faults['kill']:.1f} s: kill -9 web worker {victim} and scheduler {schedulers[0].pid}",
              file=sys.stderr, flush=True)
        time.sleep(2)  # systemd: Restart=always, RestartSec=2
        scheduler_ports[0] = free_port()
        schedulers[0] = _spawn_scheduler(settings, scheduler_ports[0], work / "scheduler-0b.log")

        at(args.restart_at)
        faults["pg_start"] = now_s()
        marks.append(("PostgreSQL restart", faults["pg_start"]))
        done = restart_postgres()
        pg_state = f"restart exit {done.returncode}"
        faults["pg_done"] = now_s()
        if done.returncode != 0:
            notes.append(f"pg_ctlcluster restart failed: {done.stderr.strip()[:500]}")
        while not any(s == 200 and t > faults["pg_done"] for t, s in readyz) and now_s() < faults["pg_done"] + 60:
            time.sleep(0.05)
        faults["pg_ready"] = next((t for t, s in readyz if s == 200 and t > faults["pg_done"]), now_s())
        print(f"  {faults['pg_start']:.1f} s: PostgreSQL restart took {faults['pg_done'] - faults['pg_start']:.1f} s, "
              f"/readyz 200 again at {faults['pg_ready']:.1f} s", file=sys.stderr, flush=True)
        marks.append(("after the restart", faults["pg_ready"]))

        at(max(args.outage_at, faults["pg_ready"] - t0 + 5))
        sent_before_outage = [_scheduler_sent(p) for p in scheduler_ports]
        hook.down()
        smtp.down()
        faults["outage"] = now_s()
        marks.append(("channels down 30 s", faults["outage"]))
        print(f"  {faults['outage']:.1f} s: SMTP server and HTTP receiver down", file=sys.stderr, flush=True)
        time.sleep(args.outage)
        hook.up()
        smtp.up()
        faults["outage_end"] = now_s()
        marks.append(("after the faults", faults["outage_end"]))
        sent_after_outage = [_scheduler_sent(p) for p in scheduler_ports]
        print(f"  {faults['outage_end']:.1f} s: receivers up again", file=sys.stderr, flush=True)

        time.sleep(args.after)
        # The phones whose call-up came late still answer it, up to --answer-until seconds after publishing.
        while len(answers) < args.answers and now_s() < t0 + args.answer_until:
            time.sleep(0.2)
        stop_answers.set()
        for thread in phones:
            thread.join(timeout=60)
        stop.set()
        for thread in threads_:
            thread.join(timeout=60)
        load_end = now_s()
        marks.append(("(drain)", load_end))

        # --- drain: every message sent, or waiting for a retry it still has ------------------------------
        def outbox_state():
            with app.app_context():
                rows = db.session.execute(select(Notification.channel, Notification.status, func.count())
                                          .group_by(Notification.channel, Notification.status)).all()
                unsettled = db.session.scalar(select(func.count()).select_from(Notification).where(
                    Notification.status.in_([NotificationStatus.PENDING, NotificationStatus.SENDING])))
                db.session.remove()
            return rows, unsettled

        drain_deadline = time.monotonic() + args.drain
        while True:
            try:
                _, unsettled = outbox_state()
            except Exception as error:  # the database may still be warming up
                notes.append(f"drain poll: {type(error).__name__}")
                unsettled = -1
            if unsettled == 0 or time.monotonic() > drain_deadline:
                break
            time.sleep(1)
        drained_at = now_s()
        sent_at_end = [_scheduler_sent(p) for p in scheduler_ports]
        with httpx.Client(base_url=base, timeout=30) as web:
            final_ready = web.get("/readyz")
        live_workers = len(_children(server.pid))
        schedulers_alive = [s.poll() is None for s in schedulers]

        # --- the database's account ----------------------------------------------------------------------
        with app.app_context():
            now_db = datetime.now(timezone.utc)
            positions = db.session.execute(
                select(Position.id, Position.headcount, Position.accepted_count,
                       select(func.count()).select_from(CallUp).where(CallUp.position_id == Position.id,
                                                                      CallUp.status == CallUpStatus.ACCEPTED)
                       .scalar_subquery())
                .join(Shift).where(Shift.campaign_id == campaign_id[0])).all()
            callups = db.session.execute(
                select(CallUp.id, CallUp.status, CallUp.standby_at, CallUp.send_at)
                .join(Position).join(Shift).where(Shift.campaign_id == campaign_id[0])).all()
            outbox = db.session.execute(
                select(Notification.idempotency_key, Notification.channel, Notification.status, Notification.attempts,
                       Notification.max_attempts, Notification.due_at, Notification.lease_until,
                       Notification.kind)).all()
            db.session.remove()
            db.engine.dispose()
    finally:
        stop.set()
        stop_answers.set()
        with plan_lock:
            plan_lock.notify_all()
        try:
            pg_state += "; at the end: " + ensure_postgres_running()
        finally:
            server.send_signal(signal.SIGTERM)
            for scheduler in schedulers:
                if scheduler.poll() is None:
                    scheduler.send_signal(signal.SIGTERM)
            for process in [server] + schedulers:
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
            web_log.close()
            for receiver in (hook, smtp):
                try:
                    receiver.down()
                except Exception:
                    pass
    return report(args, locals())


def report(args, run: dict) -> int:
    """Print the tables and the checks; 1 when a check fails."""
    rows, marks, faults = run["recorder"].rows, run["marks"], run["faults"]
    positions, callups, outbox = run["positions"], run["callups"], run["outbox"]
    hook, smtp = run["hook"], run["smtp"]
    from campaigns.models import CallUpStatus
    from notices.models import Channel, NotificationStatus

    # Phases: each mark starts one, the next ends it.
    bounds = [(name, begin, marks[i + 1][1] if i + 1 < len(marks) else run["load_end"])
              for i, (name, begin) in enumerate(marks) if name != "(drain)"]
    deliveries = sorted(hook.arrivals() + smtp.arrivals())
    started = run["started"]
    print(f"\n{args.answers:,} answers to a {args.positions * args.headcount:,}-place emergency "
          f"({args.positions} positions × {args.headcount}), {args.volunteers:,} volunteers, "
          f"{args.office_clients} office clients, gunicorn {run['workers']}×{run['threads']}, 2 schedulers, "
          f"PostgreSQL; published at {run['t0']:.1f} s\n")
    print("| phase | from–to (s) | requests | req/s | answers | answer p50 / p95 / p99 (ms) "
          "| board p50 / p95 / p99 (ms) | all p50 / p95 / p99 (ms) | 5xx | broken connections "
          "| messages received/s |")
    print("|---|---|---:|---:|---:|---|---|---|---:|---:|---:|")

    def trio(values):
        return " / ".join(f"{_percentile(values, q) * 1000:.0f}" for q in (0.5, 0.95, 0.99)) if values else "–"

    for name, begin, end in bounds:
        inside = [r for r in rows if begin <= r[2] < end]
        span = max(end - begin, 1e-9)
        ok = [r for r in inside if r[1].isdigit()]
        answered = [r for r in ok if r[0] in ("accept", "decline")]
        boards = [r for r in ok if r[0] == "board"]
        fives = sum(1 for r in inside if r[1].isdigit() and int(r[1]) >= 500)
        broken = sum(1 for r in inside if not r[1].isdigit())
        received = sum(1 for a in deliveries if begin <= a - started < end)
        print(f"| {name} | {begin:.0f}–{end:.0f} | {len(inside):,} | {len(inside) / span:.1f} | {len(answered):,} "
              f"| {trio([r[3] for r in answered])} | {trio([r[3] for r in boards])} | {trio([r[3] for r in ok])} "
              f"| {fives} | {broken} | {received / span:.0f} |")

    answers = run["answers"]
    finals = collections.Counter(f"{action} {outcome}" for action, outcome in answers.values())
    in_minute = sum(1 for cid, t in run["answered_at"].items() if t - run["t0"] <= 60)
    statuses = collections.Counter(c.status.value + (" (standby)" if c.status is CallUpStatus.SENT and c.standby_at
                                                     else "") for c in callups)
    accepted = {c.id for c in callups if c.status is CallUpStatus.ACCEPTED}
    by_status = collections.Counter((o.channel.value, o.status.value) for o in outbox)
    print("\n| count | value |\n|---|---|")
    print(f"| call-ups written at publish / their states now | {len(callups):,} / "
          f"{', '.join(f'{k} {v:,}' for k, v in sorted(statuses.items()))} |")
    print(f"| answers (final outcome) | {', '.join(f'{k}: {v:,}' for k, v in sorted(finals.items()))} |")
    print(f"| answers given within 60 s of publishing | {in_minute:,} of {len(answers):,} |")
    arrived = sorted(t - run["t0"] for t in run["callup_arrivals"].values())
    if arrived:
        print(f"| call-up messages at the webhook after publishing: first / median / 95 % / last (s) | "
              f"{arrived[0]:.1f} / {_percentile(arrived, 0.5):.1f} / {_percentile(arrived, 0.95):.1f} / "
              f"{arrived[-1]:.1f} ({len(arrived):,} call-ups) |")
    print(f"| match / publish over HTTP (s) | {run['match_seconds']:.1f} / {run['publish_seconds']:.1f} |")
    print(f"| outbox rows by channel and state | {', '.join(f'{c} {s} {n:,}' for (c, s), n in sorted(by_status.items()))} |")
    hook_keys, sms_keys, mail_keys = hook.keys("/hook"), hook.keys("/sms"), smtp.keys()
    print(f"| received: webhook / SMS / e-mail (distinct keys) | {len(hook_keys):,} ({len(set(hook_keys)):,}) / "
          f"{len(sms_keys):,} ({len(set(sms_keys)):,}) / {len(mail_keys):,} ({len(set(mail_keys)):,}) |")
    restart = faults.get("pg_start"), faults.get("pg_done"), faults.get("pg_ready")
    print(f"| PostgreSQL restart: command / until /readyz 200 (s) | {restart[1] - restart[0]:.1f} / "
          f"{restart[2] - restart[0]:.1f} |" if None not in restart else "| PostgreSQL restart | not done |")
    print(f"| drain after the load (s) | {run['drained_at'] - run['load_end']:.0f} |")

    # --- checks ---------------------------------------------------------------------------------------------
    checks: list[tuple[bool, str]] = []
    window = (faults.get("pg_start", 1e9), faults.get("pg_ready", 1e9) + RESTART_GRACE)
    fives = [r for r in rows if r[1].isdigit() and int(r[1]) >= 500]
    # A request counts as in the window when it was in flight during it (begun before, answered after the start).
    outside = [r for r in fives if not (r[2] <= window[1] and r[2] + r[3] >= window[0])]
    checks.append((not outside, f"no 5xx outside the database restart window ({window[0]:.1f}–{window[1]:.1f} s): "
                   f"{len(fives)} 5xx in all, {len(outside)} outside"
                   + (f"; first: {[(r[0], r[1], round(r[2], 1)) for r in outside[:5]]}" if outside else "")))
    troubled = {r[4] for r in rows if not (r[1].isdigit() and int(r[1]) < 500)}
    last = {}
    for r in rows:
        last[r[4]] = r
    unresolved = [last[i] for i in troubled if not (last[i][1].isdigit() and int(last[i][1]) < 500)]
    checks.append((not unresolved, f"every request that met a 5xx or a broken connection was retried and then "
                   f"answered: {len(troubled)} such requests, {len(unresolved)} not"
                   + (f"; {[(r[0], r[1], round(r[2], 1)) for r in unresolved[:5]]}" if unresolved else "")))
    over = [p for p in positions if p[2] > p[1] or p[3] > p[1] or p[2] != p[3]]
    checks.append((not over, f"no position over-filled or miscounted: {len(positions)} positions, "
                   f"{sum(p[3] for p in positions):,} accepted of {sum(p[1] for p in positions):,} places, "
                   f"{len(over)} wrong" + (f" {over[:5]}" if over else "")))
    stuck = [c.id for c in callups if c.status is CallUpStatus.SCHEDULED and c.send_at <= run["now_db"]]
    said_yes = {cid for cid, (action, outcome) in answers.items() if action == "accept" and outcome == "200"}
    said_no = {cid for cid, (action, outcome) in answers.items() if action == "decline" and outcome == "200"}
    on_standby = {cid for cid, (action, outcome) in answers.items() if action == "accept" and outcome == "409"}
    standby_db = {c.id for c in callups if c.status is CallUpStatus.SENT and c.standby_at is not None}
    declined_db = {c.id for c in callups if c.status is CallUpStatus.DECLINED}
    lost_answers = (said_yes - accepted) | (said_no - declined_db) | (on_standby - standby_db - accepted)
    checks.append((not stuck and not lost_answers,
                   f"no call-up lost: {len(stuck)} still unsent after their time, {len(lost_answers)} answers "
                   f"the phone saw taken but the database does not hold"))
    bad_rows = [o for o in outbox if not (o.status is NotificationStatus.SENT or (
        o.status is NotificationStatus.PENDING and o.attempts < o.max_attempts))]
    checks.append((not bad_rows, f"no message lost: {len(outbox):,} outbox rows, "
                   f"{sum(o.status is NotificationStatus.SENT for o in outbox):,} sent, "
                   f"{sum(o.status is NotificationStatus.PENDING for o in outbox):,} still due with retries left, "
                   f"{len(bad_rows)} failed or stuck"
                   + (f" {[(o.idempotency_key, o.status.value, o.attempts) for o in bad_rows[:5]]}" if bad_rows else "")))
    received = {"webhook": set(hook_keys), "sms": set(sms_keys), "email": set(mail_keys)}
    missing = {name: [o.idempotency_key for o in outbox if o.channel is Channel(name)
                      and o.status is NotificationStatus.SENT and o.idempotency_key not in keys]
               for name, keys in received.items()}
    checks.append((not any(missing.values()), "every row marked sent reached its receiver: "
                   + ", ".join(f"{name} {len(keys):,} missing" for name, keys in missing.items())
                   + "".join(f"; {name} e.g. {keys[:3]}" for name, keys in missing.items() if keys)))
    confirmed = {int(key.split(":")[0]) for key in received["webhook"] if key.endswith(":confirmation:webhook:accepted")}
    checks.append((confirmed == accepted, f"every accepted person confirmed once (webhook, distinct keys): "
                   f"{len(confirmed):,} confirmation keys for {len(accepted):,} accepted people, "
                   f"{len(accepted - confirmed)} unconfirmed, {len(confirmed - accepted)} confirmed but not accepted"))
    counts = collections.Counter(hook.keys()) + collections.Counter(mail_keys)
    resent = {key: n for key, n in counts.items() if n > 1}
    raw = sum(n - 1 for n in resent.values())
    crashes = 1 + 2  # kill -9 of a scheduler; the database restart cut both schedulers' connections
    checks.append((raw <= crashes, f"raw re-sends (one key delivered again) within the crashes: {raw} re-sends, "
                   f"{crashes} crashes (kill -9 of a scheduler, the restart under 2 schedulers)"
                   + (f"; {dict(list(resent.items())[:6])}" if resent else "")))
    ready_ok = run["final_ready"].status_code == 200
    checks.append((ready_ok and run["live_workers"] == run["workers"] and all(run["schedulers_alive"]),
                   f"recovered by itself: /readyz {run['final_ready'].status_code}, {run['live_workers']} of "
                   f"{run['workers']} web workers, schedulers alive {run['schedulers_alive']}"))
    after = [None if a is None or b is None else b - a for a, b in zip(run["sent_after_outage"], run["sent_at_end"])]
    checks.append((all(a is not None and a > 0 for a in after),
                   f"both schedulers sending after the faults: sent since the receivers came back {after}"))
    by_code = collections.Counter(r[1] for r in rows if r[1].isdigit() and int(r[1]) >= 500)
    print(f"| 5xx answers by status (all in the restart window unless a check below fails) | "
          f"{dict(sorted(by_code.items())) or 'none'} |")
    broken = [(r[0], r[1], round(r[2], 1)) for r in rows if not r[1].isdigit()]
    if broken:
        print(f"| broken connections (kind, error, at s) | {broken[:12]} |")
    print()
    for ok, line in checks:
        print(f"- {'PASS' if ok else 'FAIL'}: {line}")
    print(f"\nPostgreSQL: {run['pg_state']}. Logs: {run['work']}")
    for note in run["notes"]:
        print(f"note: {note}")
    if run["web_errors"]:
        print(f"\nweb error lines ({len(run['web_errors'])}), the first 15:")
        for line in run["web_errors"][:15]:
            print("    " + line)
    return 0 if all(ok for ok, _ in checks) else 1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a PostgreSQL server on this machine (its maintenance "
                        "database); a throwaway database is made on it and dropped")
    parser.add_argument("--volunteers", type=int, default=10_000)
    parser.add_argument("--positions", type=int, default=200)
    parser.add_argument("--headcount", type=int, default=10)
    parser.add_argument("--answers", type=int, default=2000)
    parser.add_argument("--accept-share", type=float, default=0.85)
    parser.add_argument("--phones", type=int, default=24, help="client threads answering")
    parser.add_argument("--office-clients", type=int, default=4)
    parser.add_argument("--kill-at", type=float, default=10.0, help="seconds after publishing")
    parser.add_argument("--restart-at", type=float, default=22.0)
    parser.add_argument("--outage-at", type=float, default=40.0)
    parser.add_argument("--outage", type=float, default=30.0)
    parser.add_argument("--after", type=float, default=20.0, help="seconds of load after the outage")
    parser.add_argument("--answer-until", type=float, default=150.0,
                        help="seconds after publishing: the load goes on until every planned answer is given or then")
    parser.add_argument("--drain", type=float, default=210.0, help="at most this long for the outbox to settle")
    parser.add_argument("--time-limit", type=int, default=600, help="the whole run, seconds")
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)
    from bench.seed import postgres_database

    def out_of_time(*_):
        raise TimeLimit(f"the run passed its limit of {args.time_limit} s")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(args.time_limit)
    work = Path(tempfile.mkdtemp(prefix="gridmuster-load-faults-"))
    code = 1
    try:
        with postgres_database(args.database_url) as url:
            try:
                code = run(url, args, work)
            finally:
                signal.alarm(0)
                print(f"PostgreSQL at the end: {ensure_postgres_running()}", file=sys.stderr)
    finally:
        signal.alarm(0)
        if code == 0 and not args.keep_logs:
            shutil.rmtree(work, ignore_errors=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
