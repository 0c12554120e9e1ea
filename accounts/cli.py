"""`flask users …` and `flask tokens …`: accounts with passwords and API tokens; the audited `flask volunteers export`."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup, ScriptInfo, pass_script_info

from accounts.audit import record_event
from accounts.models import Role
from accounts.services import issue_token, list_tokens, revoke_token
from accounts.users import create_user, deactivate_user
from core.clock import utcnow
from core.errors import DomainError
from core.scope import STAFF_ROLES, Scope
from grids.services import find_grid_by_code
from volunteers import roster
from volunteers.cli import login_name
from volunteers.services import list_volunteers

tokens_cli = AppGroup("tokens", help="Issue, list and revoke API tokens.")
users_cli = AppGroup("users", help="Create and deactivate accounts that sign in with a password.")


def _fail(error: DomainError):
    return click.ClickException(f"{error.message}: {error.errors}" if error.errors else error.message)


@tokens_cli.command("create")
@click.option("--name", required=True, help="Who or what the token is for.")
@click.option("--admin", "is_admin", is_flag=True, help="A district-admin token (same as --role admin).")
@click.option("--role", type=click.Choice([role.value for role in Role]), default=None)
@click.option("--grid-id", type=int, default=None, help="Grid node an office token is bound to.")
@click.option("--volunteer-id", type=int, default=None)
@click.option("--enterprise-id", type=int, default=None)
@click.option("--party-org-id", type=int, default=None, help="Workplace party organisation a contact's token reads.")
@click.option("--days", type=click.IntRange(1, 3650), default=None,
              help="Days until the token expires (default GRIDMUSTER_INTEGRATION_TOKEN_DAYS, 90).")
@pass_script_info
def create_command(info: ScriptInfo, name, is_admin, role, grid_id, volunteer_id, enterprise_id, party_org_id, days):
    """Create an API token and print it alone on the last line."""
    if is_admin and role not in (None, Role.ADMIN.value):
        raise click.UsageError("--admin and --role disagree")
    chosen = Role.ADMIN if is_admin or role is None else Role(role)
    try:
        token, plain = issue_token(name=name, role=chosen, now=utcnow(), grid_id=grid_id, volunteer_id=volunteer_id,
                                   enterprise_id=enterprise_id, party_org_id=party_org_id, expires_in_days=days,
                                   default_days=info.load_app().config["INTEGRATION_TOKEN_DAYS"])
    except DomainError as error:
        raise click.ClickException(f"{error.message}: {error.errors}") from None
    click.echo(f"Created {chosen.value} token #{token.id} ({token.name}), expires {token.expires_at:%Y-%m-%d %H:%M} UTC."
               " Keep it safe; it is shown once:",
               err=True)
    click.echo(plain)


@tokens_cli.command("list")
def list_command():
    """List every token: id, role, name, created, expires, revoked, last used."""
    tokens = list_tokens()
    for token in tokens:
        click.echo("\t".join([str(token.id), token.role.value, token.name, f"{token.created_at:%Y-%m-%d %H:%M}",
                              f"expires {token.expires_at:%Y-%m-%d %H:%M}" if token.expires_at else "no expiry",
                              f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "live",
                              f"used {token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never used"]))
    click.echo(f"{len(tokens)} token(s).", err=True)


@tokens_cli.command("revoke")
@click.argument("token_id", type=int)
def revoke_command(token_id):
    """Revoke a token by its id; it stops working at once."""
    try:
        token = revoke_token(token_id, now=utcnow())
    except DomainError as error:
        raise _fail(error) from None
    click.echo(f"Revoked token #{token.id} ({token.name}).")


@users_cli.command("create")
@click.option("--role", type=click.Choice([r.value for r in Role if r is not Role.GATEWAY]), required=True)
@click.option("--login", required=True, help="The sign-in name (a volunteer signs in with their mobile).")
@click.option("--name", required=True, help="The name shown on the pages.")
@click.option("--grid-code", default=None, help="Grid node (street office or community) an office account is bound to.")
@click.option("--volunteer-id", type=int, default=None)
@click.option("--enterprise-id", type=int, default=None)
@click.option("--party-org-id", type=int, default=None,
              help="The workplace party organisation whose members' report a party_org contact reads.")
@click.option("--email", default=None, help="Staff: e-mail address for coordinator notices.")
@click.option("--mobile", default=None, help="Staff: mainland mobile number for coordinator notices by SMS.")
@click.option("--wecom-id", default=None, help="Staff: WeCom id the group robot mentions.")
@click.option("--notify", default=None, metavar="CHANNELS",
              help="Staff: comma-separated channels for coordinator notices besides in-app (sms,email,wecom).")
@click.password_option("--password", prompt="Password", confirmation_prompt=True, hide_input=True,
                       help="Asked twice when not given; never echoed.")
def create_user_command(role, login, name, grid_code, volunteer_id, enterprise_id, party_org_id, email, mobile,
                        wecom_id, notify, password):
    """Create an account (the first district admin, office staff, a volunteer, an enterprise or the contact of a
    workplace party organisation)."""
    contact = {key: value for key, value in (("email", email), ("mobile", mobile), ("wecom_id", wecom_id),
                                             ("notify_channels", notify)) if value is not None}
    grid_id = None
    if grid_code:
        grid = find_grid_by_code(grid_code)
        if grid is None:
            raise click.BadParameter(f"no grid with code {grid_code!r}", param_hint="--grid-code")
        grid_id = grid.id
    try:
        user = create_user(login=login, display_name=name, password=password, role=Role(role), actor="cli",
                           now=utcnow(), grid_id=grid_id, volunteer_id=volunteer_id, enterprise_id=enterprise_id,
                           party_org_id=party_org_id, contact=contact)
    except DomainError as error:
        raise _fail(error) from None
    notices = ""
    if user.role in STAFF_ROLES:
        notices = "; coordinator notices: " + ("in-app, " + ", ".join(user.notify_channel_list)
                                               if user.notify_channel_list else "in-app only")
    click.echo(f"Created {user.role.value} account #{user.id} ({user.login}){notices}.")


@users_cli.command("deactivate")
@click.argument("login")
def deactivate_command(login):
    """Disable an account: it cannot sign in and its open sessions end."""
    try:
        user = deactivate_user(login, actor="cli", now=utcnow())
    except DomainError as error:
        raise _fail(error) from None
    click.echo(f"Deactivated account #{user.id} ({user.login}); its sessions have ended.")


@click.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--grid-code", help="Only people whose home grid lies under this grid.")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]),
              help="File format (default: from FILE's extension, else csv).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True,
              help="Column headers and labels.")
def roster_export_command(file: Path, grid_code: str | None, fmt: str | None, lang: str) -> None:
    """Write the roster to a CSV or XLSX file that `volunteers import` reads back."""
    # Registered under `flask volunteers` by the app factory: an export of personal data is audited here.
    fmt = fmt or ("xlsx" if file.suffix.lower() == ".xlsx" else "csv")
    grid_id = None
    if grid_code:
        grid = find_grid_by_code(grid_code)
        if grid is None:
            raise click.BadParameter(f"no grid has the code {grid_code}", param_hint="--grid-code")
        grid_id = grid.id
    scope = Scope.system(f"cli:{login_name()}")
    body, count = roster.export_roster(list_volunteers(scope=scope, grid_id=grid_id), fmt=fmt, lang=lang)
    file.write_bytes(body)
    record_event(actor=scope.actor, role="admin", action="cli volunteers export", now=utcnow(), outcome="done",
                 object_type="grid" if grid_id else None, object_id=grid_id, detail=f"{count} rows, {fmt}")
    click.echo(f"wrote {count:,} volunteers to {file}.")
