"""`flask volunteers …`: roster import (the audited export is added by accounts/cli.py)."""
from __future__ import annotations

import getpass
from pathlib import Path

import click
from flask.cli import AppGroup, ScriptInfo, pass_script_info
from sqlalchemy.exc import IntegrityError

from core.clock import utcnow
from core.errors import ValidationFailed
from core.scope import Scope
from volunteers import roster

volunteers_cli = AppGroup("volunteers", help="Volunteer rosters.")

MAX_PRINTED_ERRORS = 1000


def _progress(done: int, total: int) -> None:
    click.echo(f"checked {done:,}/{total:,} rows", err=True)


@volunteers_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--skip-bad-rows", is_flag=True, help="Import the good rows and list the bad ones.")
@click.option("--dry-run", is_flag=True, help="Check every row and write nothing.")
@pass_script_info
def import_command(info: ScriptInfo, file: Path, skip_bad_rows: bool, dry_run: bool) -> None:
    """Import a roster (CSV or XLSX); if any row is bad, nothing is written."""
    app = info.load_app()
    # Rows are checked with the API's input schema, which the API layer hands to the app.
    schema = app.extensions["volunteer_create_schema"]()
    try:
        result = roster.import_roster(
            file.read_bytes(), schema=schema, scope=Scope.system(f"cli:{login_name()}"), now=utcnow(),
            max_rows=app.config["IMPORT_MAX_ROWS"], skip_bad_rows=skip_bad_rows,
            dry_run=dry_run, progress=_progress)
    except roster.RosterRejected as error:
        _print_row_errors(error.row_errors)
        click.echo(f"{file.name}: {error.message}", err=True)
        raise SystemExit(1) from None
    except ValidationFailed as error:
        for message in error.errors.get("file", [error.message]):
            click.echo(f"{file.name}: {message}", err=True)
        raise SystemExit(1) from None
    except IntegrityError:
        click.echo(f"{file.name}: a mobile number was registered meanwhile; nothing was imported, "
                   "run it again.", err=True)
        raise SystemExit(1) from None
    _print_row_errors(result.errors)
    verb = "would import" if dry_run else "imported"
    click.echo(f"{file.name}: {verb} {result.valid if dry_run else result.imported:,} of "
               f"{result.total:,} rows, skipped {result.skipped:,}.")


def _print_row_errors(errors: list[roster.RowError]) -> None:
    for error in errors[:MAX_PRINTED_ERRORS]:
        click.echo(f"row {error.row}, {error.column}: {error.message}", err=True)
    if len(errors) > MAX_PRINTED_ERRORS:
        click.echo(f"… and {len(errors) - MAX_PRINTED_ERRORS:,} more errors", err=True)


def login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "unknown"
