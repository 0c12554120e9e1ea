"""`flask demo …`: the demo district."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from core.clock import utcnow
from demo.seed import MAX_VOLUNTEERS, DemoAccount, existing_rows, reset_demo_data, seed_demo

demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("seed")
@click.option("--volunteers", type=click.IntRange(0, MAX_VOLUNTEERS), default=20_000, show_default=True,
              help="How many people to register.")
@click.option("--seed", "seed", type=int, default=42, show_default=True,
              help="Random seed: the same seed gives the same district.")
@click.option("--reset", is_flag=True, help="Delete all existing data first (API tokens are kept).")
@click.option("--if-empty", is_flag=True, help="Do nothing, successfully, when the database already has data.")
def seed_command(volunteers: int, seed: int, reset: bool, if_empty: bool) -> None:
    """Fill an empty database with a demo district: grids, skills, people, teams and draft campaigns."""
    if reset and if_empty:
        raise click.UsageError("--reset and --if-empty contradict each other; give one of them.")
    found = existing_rows()
    if found and if_empty:
        click.echo(f"The database already has data ({_describe(found)}); nothing seeded.")
        return
    if found and not reset:
        raise click.ClickException(
            f"The database is not empty ({_describe(found)}). "
            "Run with --reset to delete everything first, or --if-empty to skip.")
    if found:
        click.echo(f"Deleting existing data ({_describe(found)}) …", err=True)
        reset_demo_data()
    with click.progressbar(length=volunteers, label="volunteers", file=sys.stderr,
                           show_pos=True) as bar:
        summary = seed_demo(volunteers=volunteers, seed=seed, now=utcnow(),
                            timezone_name=current_app.config["TIMEZONE"], progress=bar.update)
    click.echo(summary.line())
    if summary.accounts:
        click.echo(_accounts_table(summary.accounts))


def _accounts_table(accounts: list[DemoAccount]) -> str:
    """The demo sign-in accounts and their passwords, shown this once (only hashes are stored)."""
    rows = [("login", "role", "grid", "password")] + [(a.login, a.role, a.grid, a.password) for a in accounts]
    widths = [max(_width(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell + " " * (width - _width(cell)) for cell, width in zip(row, widths)).rstrip()
             for row in rows]
    return "\n".join(["Demo sign-in accounts (演示账号), for trying the demo only; the passwords are shown once:",
                      *("  " + line for line in lines)])


def _width(text: str) -> int:
    # Chinese characters take two columns in a terminal.
    return sum(2 if ord(char) > 0x2E7F else 1 for char in text)


def _describe(counts: dict[str, int]) -> str:
    # The tables people recognise first, then the biggest others.
    first = ("grids", "volunteers", "campaigns", "skills", "enterprises")
    shown = sorted(counts.items(), key=lambda item: (item[0] not in first, first.index(item[0])
                                                      if item[0] in first else -item[1]))[:3]
    return ", ".join(f"{count:,} {name}" for name, count in shown)
