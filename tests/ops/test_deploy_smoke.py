"""The deployment on this machine: the example environment file, `flask db upgrade` on a fresh database, gunicorn
and a scheduler process as the systemd units start them; one campaign from draft to an accepted call-up over
HTTP; /readyz and /metrics (web and scheduler) show it; SIGTERM stops everything cleanly."""
from __future__ import annotations


import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from tests.ops.helpers import sample
from bench.stampede import free_port, start_gunicorn

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"

# The newest migration shipped with the code (the file names start with their revision).
MIGRATIONS = ROOT / "migrations" / "versions"
HEAD = max(path.name.split("_")[0] for path in MIGRATIONS.glob("0*.py"))


def _example_env() -> dict[str, str]:
    settings = {}
    for line in (DEPLOY / "gridmuster.env.example").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            settings[key.strip()] = value.strip()
    return settings


def _redis_url() -> str:
    import redis

    try:
        redis.Redis(socket_connect_timeout=1).ping()
        return "redis://127.0.0.1:6379/0"
    except redis.RedisError:
        return "memory://"


def test_example_environment_names_only_settings_the_code_reads():
    code = "".join((ROOT / name).read_text(encoding="utf-8") for name in ("config.py", "gunicorn.conf.py",
                                                                           "callups/cli.py"))
    unknown = [key for key in _example_env() if key not in code]
    assert not unknown, f"the example sets what nothing reads: {unknown}"
    units = {path.name: path.read_text(encoding="utf-8") for path in (DEPLOY / "systemd").iterdir()}
    assert set(units) == {"gridmuster-web.service", "gridmuster-scheduler@.service", "gridmuster-backup.service",
                          "gridmuster-backup.timer"}
    for name, text in units.items():
        if name.endswith(".service"):
            assert "EnvironmentFile=/etc/gridmuster/gridmuster.env" in text, name
            command = re.search(r"^ExecStart=(\S+)", text, re.MULTILINE).group(1)
            assert (ROOT / command.removeprefix("/opt/gridmuster/")).exists() or ".venv/bin/" in command, name
    assert "--metrics-port %i" in units["gridmuster-scheduler@.service"]
    assert "KillSignal=SIGTERM" in units["gridmuster-web.service"]


@pytest.mark.slow
def test_deploy_publish_accept_monitor_and_stop(fresh_database, tmp_path):
    metrics_token = secrets.token_urlsafe(24)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("GRIDMUSTER_") and key not in ("PROMETHEUS_MULTIPROC_DIR", "DATABASE_URL")}
    settings = _example_env() | {
        "SECRET_KEY": secrets.token_urlsafe(48), "DATABASE_URL": fresh_database, "GRIDMUSTER_WORKERS": "2",
        "GRIDMUSTER_THREADS": "2", "GRIDMUSTER_METRICS_TOKEN": metrics_token,
        "GRIDMUSTER_RATELIMIT_STORAGE_URL": _redis_url(), "GRIDMUSTER_METRICS_DIR": str(tmp_path / "metrics")}
    env |= settings

    def flask(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    flask("db", "upgrade")
    token = flask("tokens", "create", "--admin", "--name", "smoke test").strip().splitlines()[-1]
    web_port, scheduler_port = free_port(), free_port()
    server = start_gunicorn(fresh_database, web_port, workers=2, threads=2, log=True,
                            settings={key: value for key, value in settings.items() if key != "GRIDMUSTER_BIND"})
    scheduler = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "scheduler", "run",
                                  "--metrics-port", str(scheduler_port)], cwd=ROOT, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    admin = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{web_port}", headers=admin, timeout=30) as web:
            def post(path: str, body: dict | None = None, status: int = 201) -> dict:
                answer = web.post(f"/api/v1{path}", json=body or {})
                assert answer.status_code == status, (path, answer.text)
                return answer.json()

            parent = None
            for level, code in enumerate(("SMK", "SMK-S", "SMK-C", "SMK-G")):
                parent = post("/grids", {"code": code, "name": f"冒烟{level}", "level": level,
                                         "parent_id": parent and parent["id"]})
            person = post("/volunteers", {"name": "赵强", "mobile": "13600001111", "home_grid_id": parent["id"],
                                          "skills": [], "identities": ["resident_volunteer"],
                                          "availability": [{"weekday": d, "start": "00:00", "end": "23:30"}
                                                           for d in range(7)]})
            start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=2)
            campaign = post("/campaigns", {
                "title": "冒烟测试 · smoke", "kind": "flood_emergency", "priority": "emergency",
                "office_grid_id": parent["id"],
                "shifts": [{"start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat(),
                            "grid_id": parent["id"], "positions": [{"role": "转移引导员", "headcount": 1,
                                                                    "min_party_members": 0}]}]})
            assert campaign["status"] == "draft"
            match = post(f"/campaigns/{campaign['id']}/match", status=200)
            assert [p["volunteer_id"] for p in match["positions"][0]["proposals"]] == [person["id"]]
            assert post(f"/campaigns/{campaign['id']}/publish", status=200)["status"] == "published"
            deadline = time.monotonic() + 30
            while True:
                [callup] = web.get(f"/api/v1/campaigns/{campaign['id']}/callups").json()
                if callup["status"] == "sent" or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            assert callup["status"] == "sent", callup  # the scheduler process sent it
            assert post(f"/callups/{callup['id']}/accept", status=200)["status"] == "accepted"
            ready = web.get("/readyz")
            assert ready.status_code == 200, ready.text
            checks = ready.json()["checks"]
            head = checks["migrations"]["code"]
            assert head == HEAD and checks["migrations"] == {"ok": True, "database": head, "code": head}
            assert ("redis" in checks) == settings["GRIDMUSTER_RATELIMIT_STORAGE_URL"].startswith("redis")
            assert web.get("/metrics", headers={"Authorization": ""}).status_code == 401
            metrics = web.get("/metrics", headers={"Authorization": f"Bearer {metrics_token}"}).text
        assert sample(metrics, "gridmuster_callups", status="accepted") == 1
        assert sample(metrics, "gridmuster_http_requests_total", endpoint="campaigns.CampaignPublish",
                      method="POST", status="200") == 1
        assert sample(metrics, "gridmuster_http_requests_total", endpoint="callups.CallUpAccept",
                      method="POST", status="200") == 1
        assert sample(metrics, "gridmuster_match_duration_seconds_count") >= 1
        assert sample(metrics, "gridmuster_match_size_sum", dimension="candidates") >= 1
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:  # the confirmation goes out on the next dispatch tick
            scheduler_metrics = httpx.get(f"http://127.0.0.1:{scheduler_port}/metrics", timeout=5).text
            if sample(scheduler_metrics, "gridmuster_outbox_sends_total", channel="inapp", result="sent") >= 2:
                break
            time.sleep(0.3)
        assert sample(scheduler_metrics, "gridmuster_outbox_sends_total", channel="inapp", result="sent") >= 2
        assert sample(scheduler_metrics, "gridmuster_scheduler_job_runs_total", job="send_due_callups") >= 1
        assert sample(scheduler_metrics, "gridmuster_scheduler_job_failures_total", default=None,
                      job="send_due_callups") == 0
    finally:
        server.send_signal(signal.SIGTERM)
        scheduler.send_signal(signal.SIGTERM)
        web_log, _ = server.communicate(timeout=60)
        scheduler_log, _ = scheduler.communicate(timeout=60)
    assert server.returncode == 0, web_log[-3000:]
    assert scheduler.returncode == 0 and "scheduler: stopped" in scheduler_log, scheduler_log[-3000:]
    assert "Traceback" not in web_log + scheduler_log
    records = [json.loads(line) for line in web_log.splitlines() if line.startswith("{")]
    assert any(record["logger"] == "gunicorn.access" and record["path"] == "/api/v1/campaigns"
               for record in records)
    assert all(line.startswith("{") for line in (web_log + scheduler_log).splitlines() if line.strip())
