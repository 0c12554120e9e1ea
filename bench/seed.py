"""Time the demo seed on a throwaway SQLite file and, given a server URL, a throwaway PostgreSQL database."""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import uuid
from contextlib import contextmanager
from collections.abc import Iterator

from sqlalchemy.engine import make_url

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextmanager
def sqlite_database() -> Iterator[str]:
    """A SQLite file in a temporary folder, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="gridmuster-bench-") as folder:
        yield "sqlite:///" + os.path.join(folder, "bench.db")


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A new database on the server of ``server_url`` (its maintenance DB), dropped afterwards."""
    import psycopg

    server = make_url(server_url).set(drivername="postgresql")
    name = f"gridmuster_bench_{uuid.uuid4().hex[:10]}"
    admin = server.render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_seed(url: str, volunteers: int, seed: int) -> tuple[float, int]:
    """Build the schema by migration, seed, and return (seconds, rows written)."""
    from flask_migrate import upgrade

    from app import create_app
    from core.clock import utcnow
    from demo.seed import seed_demo
    from extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        done = 0

        def progress(step: int) -> None:
            nonlocal done
            done += step
            print(f"\r  {done:,}/{volunteers:,} volunteers", end="", file=sys.stderr, flush=True)

        summary = seed_demo(volunteers=volunteers, seed=seed, now=utcnow(),
                            timezone_name=app.config["TIMEZONE"], progress=progress)
        print(f"\n  {summary.line()}", file=sys.stderr)
        db.session.remove()
        db.engine.dispose()
    return summary.seconds, sum(summary.counts.values())


def main(argv: list[str] | None = None) -> None:
    """Print a markdown table of seed times, one line per database."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--volunteers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--database-url", help=f"a PostgreSQL server's maintenance DB, e.g. {DEFAULT_SERVER}")
    args = parser.parse_args(argv)

    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)
    targets = [("SQLite", sqlite_database())]
    if args.database_url:
        targets.append(("PostgreSQL", postgres_database(args.database_url)))
    results = []
    for label, database in targets:
        print(f"{label}:", file=sys.stderr)
        with database as url:
            seconds, rows = run_seed(url, args.volunteers, args.seed)
        results.append((label, seconds, rows))
    print("| database | volunteers | seconds | rows/s |")
    print("|---|---:|---:|---:|")
    for label, seconds, rows in results:
        print(f"| {label} | {args.volunteers:,} | {seconds:.1f} | {rows / seconds:,.0f} |")
    print(f"\nrows/s counts every row written (people, their skills, windows and blackouts, grids, …); "
          f"{os.cpu_count()} CPUs.")


if __name__ == "__main__":
    main()


def on_each_database(run, args) -> list:
    """``run(url, args)`` on a temporary SQLite file, then on a throwaway PostgreSQL database when
    ``args.database_url`` names a server; their results in that order."""
    results = []
    for database in [sqlite_database()] + ([postgres_database(args.database_url)] if args.database_url else []):
        with database as url:
            results.append(run(url, args))
    return results
