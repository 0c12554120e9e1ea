"""Call-ups: notification outbox, response links, standby and contact columns

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 04:17:40.308174

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('callup_id', sa.Integer(), nullable=True),
    sa.Column('volunteer_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.Enum('inapp', 'email', 'webhook', 'wecom', 'sms', name='notification_channel', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('kind', sa.Enum('callup', 'reminder', 'confirmation', 'filled', 'cancellation', 'coordinator', name='notification_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('idempotency_key', sa.String(length=120), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sending', 'sent', 'failed', name='notification_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.SmallInteger(), nullable=False),
    sa.Column('max_attempts', sa.SmallInteger(), nullable=False),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.CheckConstraint('attempts >= 0 AND max_attempts >= 1', name=op.f('ck_notifications_attempts_range')),
    sa.ForeignKeyConstraint(['callup_id'], ['call_ups.id'], name=op.f('fk_notifications_callup_id_call_ups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], name=op.f('fk_notifications_volunteer_id_volunteers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_notifications_idempotency_key'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_callup_id'), ['callup_id'], unique=False)
        batch_op.create_index('ix_notifications_status_due_at', ['status', 'due_at'], unique=False)
        batch_op.create_index('ix_notifications_volunteer_channel', ['volunteer_id', 'channel'], unique=False)

    op.create_table('response_links',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('callup_id', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['callup_id'], ['call_ups.id'], name=op.f('fk_response_links_callup_id_call_ups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_response_links'))
    )
    with op.batch_alter_table('response_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_response_links_callup_id'), ['callup_id'], unique=False)

    with op.batch_alter_table('call_ups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('standby_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('eta_minutes', sa.SmallInteger(), nullable=True))

    with op.batch_alter_table('volunteers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('wecom_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('notify_channels', sa.String(length=60), nullable=True))



def downgrade():
    with op.batch_alter_table('volunteers', schema=None) as batch_op:
        batch_op.drop_column('notify_channels')
        batch_op.drop_column('wecom_id')
        batch_op.drop_column('email')

    with op.batch_alter_table('call_ups', schema=None) as batch_op:
        batch_op.drop_column('eta_minutes')
        batch_op.drop_column('standby_at')

    with op.batch_alter_table('response_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_response_links_callup_id'))

    op.drop_table('response_links')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_volunteer_channel')
        batch_op.drop_index('ix_notifications_status_due_at')
        batch_op.drop_index(batch_op.f('ix_notifications_callup_id'))

    op.drop_table('notifications')
