"""Backups and restores of the database while the service runs (scripts/backup, scripts/restore).

SQLite: the online backup API copies a consistent snapshot while others keep writing (WAL), then the copy's
integrity is checked. PostgreSQL: ``pg_dump --format=custom`` (one consistent snapshot, no lock beyond
ACCESS SHARE) and ``pg_restore --single-transaction`` into an empty database (or ``--clean``). A backup is
written under a temporary name and renamed when complete, so a half-written file never looks like a backup.

    python -m core.backup backup [--database-url URL] PATH      # PATH: a file, or a folder for a dated name
    python -m core.backup restore [--database-url URL] [--clean] FILE
"""
from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
# Where create_app puts the embedded database when DATABASE_URL is unset.
DEFAULT_SQLITE = ROOT / "instance" / "gridmuster.db"


class BackupError(RuntimeError):
    """The backup or restore could not be made; nothing usable was written."""


def database_url(explicit: str | None = None) -> str:
    """The URL given, else DATABASE_URL, else the embedded SQLite file."""
    return explicit or os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE}"


def _kind(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"cannot back up a {backend} database")
    return backend


def _sqlite_file(url: str) -> Path:
    name = make_url(url).database
    if not name or name == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(name)


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password (it goes in PGPASSWORD, out of the process list) and the environment."""
    parsed = make_url(url).set(drivername="postgresql")
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return parsed.set(password=None).render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


def _integrity(path: Path) -> None:
    with sqlite3.connect(path) as check:
        result = check.execute("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        raise BackupError(f"{path}: integrity check says {result}")


def _copy_sqlite(source: Path, target: Path) -> None:
    """One step of the online backup API: a consistent snapshot of ``source`` while writers go on (WAL)."""
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.execute("PRAGMA busy_timeout = 30000")
        src.backup(dst)
        # The copy is one self-contained file (the source's WAL mode would give it -wal and -shm companions);
        # the service turns WAL on again when it opens the database.
        dst.execute("PRAGMA journal_mode = DELETE")
    finally:
        dst.close()
        src.close()


def backup_name(url: str, when: datetime | None = None) -> str:
    stamp = (when or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    return f"gridmuster-{stamp}." + ("sqlite3" if _kind(url) == "sqlite" else "dump")


def backup(url: str, path: Path) -> Path:
    """Write a backup of ``url`` to ``path`` (or a dated file in the folder ``path``); returns the file."""
    kind = _kind(url)
    target = path / backup_name(url) if path.is_dir() else path
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if kind == "sqlite":
            source = _sqlite_file(url)
            if not source.exists():
                raise BackupError(f"{source} does not exist")
            _copy_sqlite(source, partial)
            _integrity(partial)
        else:
            libpq, env = _libpq(url)
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}", libpq], env)
            _run(["pg_restore", "--list", str(partial)], env)  # the archive reads back
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _postgres_is_empty(libpq: str, env: dict[str, str]) -> bool:
    done = subprocess.run(["psql", "--no-psqlrc", "--tuples-only", "--no-align", "--dbname", libpq, "--command",
                           "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"],
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"cannot reach the target database: {done.stderr.strip()[-500:]}")
    return done.stdout.strip() == "0"


def restore(url: str, source: Path, *, clean: bool = False) -> None:
    """Restore the backup ``source`` into ``url``, which must be empty unless ``clean`` (then it is replaced)."""
    if not source.is_file():
        raise BackupError(f"{source} is not a backup file")
    if _kind(url) == "sqlite":
        target = _sqlite_file(url)
        _integrity(source)
        if target.exists() and target.stat().st_size and not clean:
            raise BackupError(f"{target} exists; restore into a new file, or pass --clean to replace it")
        partial = target.with_name(target.name + ".restoring")
        partial.unlink(missing_ok=True)
        try:
            _copy_sqlite(source, partial)
            for suffix in ("-wal", "-shm"):  # a stale log of the replaced file must not be replayed onto it
                target.with_name(target.name + suffix).unlink(missing_ok=True)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
        return
    libpq, env = _libpq(url)
    if not clean and not _postgres_is_empty(libpq, env):
        raise BackupError("the target database has tables; restore into a new database, or pass --clean")
    command = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
               f"--dbname={libpq}"]
    if clean:
        command += ["--clean", "--if-exists"]
    _run(command + [str(source)], env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gridmuster-backup", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("backup", help="write a backup file")
    make.add_argument("path", type=Path, help="the backup file, or a folder for a dated file name")
    put = commands.add_parser("restore", help="restore a backup file into an empty database")
    put.add_argument("path", type=Path, help="the backup file")
    put.add_argument("--clean", action="store_true", help="replace what the target database holds")
    for sub in (make, put):
        sub.add_argument("--database-url", help="default: DATABASE_URL, else the embedded SQLite file")
    args = parser.parse_args(argv)
    url = database_url(args.database_url)
    try:
        if args.command == "backup":
            written = backup(url, args.path)
            print(f"backup written: {written} ({written.stat().st_size} bytes)")
        else:
            restore(url, args.path, clean=args.clean)
            print(f"restored {args.path} into the {_kind(url)} database")
    except BackupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
