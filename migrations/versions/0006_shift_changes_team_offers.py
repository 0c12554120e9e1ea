"""shift changes, team offers and at-risk extra offers

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 08:25:00.000000

"""
from alembic import op
import sqlalchemy as sa

import core.db

LIVE = "status <> 'declined'"
OLD_KINDS = "kind IN ('callup', 'reminder', 'confirmation', 'filled', 'cancellation', 'coordinator')"
NEW_KINDS = "kind IN ('callup', 'reminder', 'confirmation', 'filled', 'cancellation', 'coordinator', 'change')"


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('shifts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('changed_at', core.db.UTCDateTime(timezone=True), nullable=True))

    # A decline no longer blocks a new offer after the shift's time or place changed, so the
    # unique key covers live call-ups only (a partial unique index on both databases).
    with op.batch_alter_table('call_ups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('places', sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column('extra', sa.Boolean(), server_default=sa.text('false'), nullable=False))
        batch_op.drop_constraint('uq_call_ups_position_volunteer', type_='unique')
        batch_op.create_check_constraint('places_positive', 'places IS NULL OR places >= 1')
    op.create_index('uq_call_ups_live_position_volunteer', 'call_ups', ['position_id', 'volunteer_id'],
                    unique=True, sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint('notification_kind', type_='check')
        batch_op.create_check_constraint('notification_kind', NEW_KINDS)


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint('notification_kind', type_='check')
        batch_op.create_check_constraint('notification_kind', OLD_KINDS)
    op.drop_index('uq_call_ups_live_position_volunteer', table_name='call_ups')
    with op.batch_alter_table('call_ups', schema=None) as batch_op:
        batch_op.drop_constraint('places_positive', type_='check')
        batch_op.create_unique_constraint('uq_call_ups_position_volunteer', ['position_id', 'volunteer_id'])
        batch_op.drop_column('extra')
        batch_op.drop_column('places')
    with op.batch_alter_table('shifts', schema=None) as batch_op:
        batch_op.drop_column('changed_at')
