"""channel consents: per person and channel (sms, email, wecom), granted and withdrawn times

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 08:09:46.416559

No consent is inferred for existing people: until an office or the person records it, only the
in-app inbox and the office's webhook integration carry their messages.
"""
from alembic import op
import sqlalchemy as sa

import core.db


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('channel_consents',
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('granted_at', core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', core.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("channel IN ('sms', 'email', 'wecom')", name=op.f('ck_channel_consents_channel_known')),
    sa.CheckConstraint('withdrawn_at IS NULL OR withdrawn_at >= granted_at', name=op.f('ck_channel_consents_withdrawn_after_granted')),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], name=op.f('fk_channel_consents_volunteer_id_volunteers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('volunteer_id', 'channel', name=op.f('pk_channel_consents'))
    )


def downgrade():
    op.drop_table('channel_consents')
