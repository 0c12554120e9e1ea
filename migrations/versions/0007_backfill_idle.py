"""Backfill back-off: a campaign whose last backfill found no one waits before the next

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 09:10:00

"""
from alembic import op
import sqlalchemy as sa

import core.db

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('backfill_idle_until', core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('backfill_idle_mark', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('backfill_idle_mark')
        batch_op.drop_column('backfill_idle_until')
