"""report indexes: call-up answer and check-in times with the person (the activity report's range scans), and the
positions of team answers (the enterprise report)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 23:00:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

ANSWERED = "volunteer_id IS NOT NULL AND responded_at IS NOT NULL"
CHECKED_IN = "volunteer_id IS NOT NULL AND attended_at IS NOT NULL"
TEAM = "team_id IS NOT NULL"


def upgrade():
    op.create_index('ix_call_ups_responded_volunteer', 'call_ups', ['responded_at', 'volunteer_id'],
                    sqlite_where=sa.text(ANSWERED), postgresql_where=sa.text(ANSWERED))
    op.create_index('ix_call_ups_attended_volunteer', 'call_ups', ['attended_at', 'volunteer_id'],
                    sqlite_where=sa.text(CHECKED_IN), postgresql_where=sa.text(CHECKED_IN))
    op.create_index('ix_call_ups_team_position', 'call_ups', ['position_id', 'team_id'],
                    sqlite_where=sa.text(TEAM), postgresql_where=sa.text(TEAM))


def downgrade():
    op.drop_index('ix_call_ups_team_position', table_name='call_ups')
    op.drop_index('ix_call_ups_attended_volunteer', table_name='call_ups')
    op.drop_index('ix_call_ups_responded_volunteer', table_name='call_ups')
