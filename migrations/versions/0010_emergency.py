"""emergencies at any hour: emergency preference, duty rota, unfilled reasons, follow-ups, grid alerts

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 22:00:00

Existing people stay callable in emergencies at any hour (the default), nobody is on duty, and
nothing already sent is followed up again.
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('callup', 'reminder', 'confirmation', 'filled', 'cancellation', 'coordinator', 'change')"
NEW_KINDS = ("kind IN ('callup', 'reminder', 'confirmation', 'filled', 'cancellation', 'coordinator', 'change', "
             "'follow_up', 'alert')")


def upgrade():
    with op.batch_alter_table('volunteers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('emergency_calls', sa.String(length=16), server_default='any_hour',
                                      nullable=False))
        batch_op.create_check_constraint('emergency_calls_known',
                                         "emergency_calls IN ('any_hour', 'available_hours')")

    op.create_table(
        'duty_rota',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('volunteer_id', sa.Integer(), nullable=False),
        sa.Column('week_start', sa.Date(), nullable=False),
        sa.Column('created_by', sa.String(length=100), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], name=op.f('fk_duty_rota_volunteer_id_volunteers'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_duty_rota')),
        sa.UniqueConstraint('volunteer_id', 'week_start', name=op.f('uq_duty_rota_volunteer_id')),
    )
    op.create_index(op.f('ix_duty_rota_week_start'), 'duty_rota', ['week_start'], unique=False)

    with op.batch_alter_table('positions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unfilled_reasons', sa.JSON(), nullable=True))

    with op.batch_alter_table('call_ups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('followed_up_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        'grid_alerts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('message', sa.String(length=300), nullable=False),
        sa.Column('created_by', sa.String(length=100), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_grid_alerts_campaign_id_campaigns'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_alerts')),
    )
    op.create_index(op.f('ix_grid_alerts_campaign_id'), 'grid_alerts', ['campaign_id'], unique=False)
    op.create_table(
        'grid_alert_recipients',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('alert_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('volunteer_id', sa.Integer(), nullable=True),
        sa.Column('grid_id', sa.Integer(), nullable=True),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('acked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('note', sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(['alert_id'], ['grid_alerts.id'], name=op.f('fk_grid_alert_recipients_alert_id_grid_alerts'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_grid_alert_recipients_user_id_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'],
                                name=op.f('fk_grid_alert_recipients_volunteer_id_volunteers'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_grid_alert_recipients_grid_id_grids'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_alert_recipients')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_grid_alert_recipients_token_hash')),
        sa.CheckConstraint('(user_id IS NULL) <> (volunteer_id IS NULL)', name=op.f('ck_grid_alert_recipients_one_person')),
    )
    op.create_index(op.f('ix_grid_alert_recipients_alert_id'), 'grid_alert_recipients', ['alert_id'], unique=False)

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint('notification_kind', type_='check')
        batch_op.create_check_constraint('notification_kind', NEW_KINDS)


def downgrade():
    op.execute("DELETE FROM notifications WHERE kind IN ('follow_up', 'alert')")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint('notification_kind', type_='check')
        batch_op.create_check_constraint('notification_kind', OLD_KINDS)
    op.drop_index(op.f('ix_grid_alert_recipients_alert_id'), table_name='grid_alert_recipients')
    op.drop_table('grid_alert_recipients')
    op.drop_index(op.f('ix_grid_alerts_campaign_id'), table_name='grid_alerts')
    op.drop_table('grid_alerts')
    with op.batch_alter_table('call_ups', schema=None) as batch_op:
        batch_op.drop_column('followed_up_at')
    with op.batch_alter_table('positions', schema=None) as batch_op:
        batch_op.drop_column('unfilled_reasons')
    op.drop_index(op.f('ix_duty_rota_week_start'), table_name='duty_rota')
    op.drop_table('duty_rota')
    with op.batch_alter_table('volunteers', schema=None) as batch_op:
        batch_op.drop_constraint('emergency_calls_known', type_='check')
        batch_op.drop_column('emergency_calls')
