"""`flask volunteers …`: roster import and export."""
from __future__ import annotations

from flask.cli import AppGroup

volunteers_cli = AppGroup("volunteers", help="Volunteer rosters.")
