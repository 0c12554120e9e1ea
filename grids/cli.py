"""`flask grids …`: look at the grid tree."""
from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from extensions import db
from grids.models import LEVEL_NAMES, Grid

grids_cli = AppGroup("grids", help="The grid tree.")


@grids_cli.command("stats")
def stats_command():
    """Print how many nodes each level of the tree has."""
    counts = dict(db.session.execute(select(Grid.level, func.count()).group_by(Grid.level)).all())
    for level, (english, name) in LEVEL_NAMES.items():
        click.echo(f"{level}  {str(name):<4} {english:<14} {counts.get(level, 0):>7,}")
    click.echo(f"total {sum(counts.values()):,} nodes")
