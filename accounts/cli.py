"""`flask tokens …`: issue API tokens."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from accounts.models import Role
from accounts.services import create_token
from core.clock import utcnow
from core.errors import DomainError

tokens_cli = AppGroup("tokens", help="Issue API tokens.")


@tokens_cli.command("create")
@click.option("--name", required=True, help="Who or what the token is for.")
@click.option("--admin", "is_admin", is_flag=True, help="A district-admin token (same as --role admin).")
@click.option("--role", type=click.Choice([role.value for role in Role]), default=None)
@click.option("--grid-id", type=int, default=None, help="Grid node an office token is bound to.")
@click.option("--volunteer-id", type=int, default=None)
@click.option("--enterprise-id", type=int, default=None)
def create_command(name, is_admin, role, grid_id, volunteer_id, enterprise_id):
    """Create an API token and print it alone on the last line."""
    if is_admin and role not in (None, Role.ADMIN.value):
        raise click.UsageError("--admin and --role disagree")
    chosen = Role.ADMIN if is_admin or role is None else Role(role)
    try:
        token, plain = create_token(name=name, role=chosen, now=utcnow(), grid_id=grid_id,
                                    volunteer_id=volunteer_id, enterprise_id=enterprise_id)
    except DomainError as error:
        raise click.ClickException(f"{error.message}: {error.errors}") from None
    click.echo(f"Created {chosen.value} token #{token.id} ({token.name}). Keep it safe; it is shown once:",
               err=True)
    click.echo(plain)
