"""grid practice: responder units, whistles, visit rounds

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 16:43:42

Responder units with their members, kinds and grids; whistles, their summons and events; visit targets,
rounds and visits; the outbox learns the "whistle" kind.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

OLD_KINDS = ("kind IN ('callup', 'reminder', 'confirmation', 'filled', 'cancellation', 'coordinator', 'change', "
             "'follow_up', 'alert')")
NEW_KINDS = ("kind IN ('callup', 'reminder', 'confirmation', 'filled', 'cancellation', 'coordinator', 'change', "
             "'follow_up', 'alert', 'whistle')")


def upgrade():
    op.create_table('visit_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('monthly', 'drive', name='round_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('period', sa.String(length=20), nullable=False),
    sa.Column('target_kinds', sa.String(length=60), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('assigned_cost', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_visit_rounds_grid_id_grids'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_rounds'))
    )
    with op.batch_alter_table('visit_rounds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_rounds_grid_id'), ['grid_id'], unique=False)

    op.create_table('responder_units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('unit_type', sa.Enum('section', 'station', 'utility', 'partner', name='unit_type', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('office_grid_id', sa.Integer(), nullable=False),
    sa.Column('duty_volunteer_id', sa.Integer(), nullable=True),
    sa.Column('kinds', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['duty_volunteer_id'], ['volunteers.id'], name=op.f('fk_responder_units_duty_volunteer_id_volunteers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['office_grid_id'], ['grids.id'], name=op.f('fk_responder_units_office_grid_id_grids'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_responder_units')),
    sa.UniqueConstraint('name', name=op.f('uq_responder_units_name'))
    )
    with op.batch_alter_table('responder_units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_responder_units_office_grid_id'), ['office_grid_id'], unique=False)

    op.create_table('visit_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('household', 'courtyard', 'shop', name='visit_target_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('building', sa.String(length=40), nullable=True),
    sa.Column('unit_no', sa.String(length=20), nullable=True),
    sa.Column('x', sa.Float(), nullable=False),
    sa.Column('y', sa.Float(), nullable=False),
    sa.Column('priority', sa.Enum('living_alone', 'hardship', 'elderly', 'disabled', name='visit_priority', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('linked_volunteer_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_visit_targets_grid_id_grids'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['linked_volunteer_id'], ['volunteers.id'], name=op.f('fk_visit_targets_linked_volunteer_id_volunteers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_targets')),
    sa.UniqueConstraint('grid_id', 'label', name='uq_visit_targets_grid_label')
    )
    with op.batch_alter_table('visit_targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_targets_grid_id'), ['grid_id'], unique=False)

    op.create_table('responder_unit_grids',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_responder_unit_grids_grid_id_grids'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id'], ['responder_units.id'], name=op.f('fk_responder_unit_grids_unit_id_responder_units'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('unit_id', 'grid_id', name=op.f('pk_responder_unit_grids'))
    )
    op.create_table('responder_unit_members',
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('volunteer_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['responder_units.id'], name=op.f('fk_responder_unit_members_unit_id_responder_units'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], name=op.f('fk_responder_unit_members_volunteer_id_volunteers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('unit_id', 'volunteer_id', name=op.f('pk_responder_unit_members'))
    )
    op.create_table('whistles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('description', sa.String(length=1000), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('sanitation', 'gas_safety', 'fire_safety', 'water_power', 'public_order', 'building', 'traffic', 'dispute', 'other', name='problem_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('grade', sa.Enum('routine', 'urgent', 'emergency', name='whistle_grade', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('open', 'closed', name='whistle_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('raised_by', sa.String(length=100), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ack_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('arrive_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolve_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('next_escalation_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('close_note', sa.String(length=500), nullable=True),
    sa.Column('reopened_count', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('photo', sa.LargeBinary(), nullable=True),
    sa.Column('photo_type', sa.String(length=20), nullable=True),
    sa.Column('photo_size', sa.Integer(), nullable=True),
    sa.CheckConstraint('escalation_level BETWEEN 0 AND 2', name=op.f('ck_whistles_escalation_range')),
    sa.CheckConstraint('photo_size IS NULL OR photo_size <= 5242880', name=op.f('ck_whistles_photo_size_range')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_whistles_campaign_id_campaigns'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_whistles_grid_id_grids'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_whistles'))
    )
    with op.batch_alter_table('whistles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_whistles_grid_id'), ['grid_id'], unique=False)
        batch_op.create_index('ix_whistles_status_next_escalation_at', ['status', 'next_escalation_at'], unique=False)

    op.create_table('visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('visitor_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.Enum('pending', 'done', 'nobody_home', 'problem', name='visit_outcome', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('visited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('whistle_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['round_id'], ['visit_rounds.id'], name=op.f('fk_visits_round_id_visit_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_id'], ['visit_targets.id'], name=op.f('fk_visits_target_id_visit_targets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['visitor_id'], ['volunteers.id'], name=op.f('fk_visits_visitor_id_volunteers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['whistle_id'], ['whistles.id'], name=op.f('fk_visits_whistle_id_whistles'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits')),
    sa.UniqueConstraint('round_id', 'target_id', name='uq_visits_round_target')
    )
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visits_round_id'), ['round_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_target_id'), ['target_id'], unique=False)
        batch_op.create_index('ix_visits_visitor_round', ['visitor_id', 'round_id'], unique=False)

    op.create_table('whistle_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('whistle_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['unit_id'], ['responder_units.id'], name=op.f('fk_whistle_events_unit_id_responder_units'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['whistle_id'], ['whistles.id'], name=op.f('fk_whistle_events_whistle_id_whistles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_whistle_events'))
    )
    with op.batch_alter_table('whistle_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_whistle_events_whistle_id'), ['whistle_id'], unique=False)

    op.create_table('whistle_summons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('whistle_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('summoned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('arrived_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['unit_id'], ['responder_units.id'], name=op.f('fk_whistle_summons_unit_id_responder_units'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['whistle_id'], ['whistles.id'], name=op.f('fk_whistle_summons_whistle_id_whistles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_whistle_summons')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_whistle_summons_token_hash')),
    sa.UniqueConstraint('whistle_id', 'unit_id', name='uq_whistle_summons_whistle_unit')
    )
    with op.batch_alter_table('whistle_summons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_whistle_summons_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_whistle_summons_whistle_id'), ['whistle_id'], unique=False)
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint('notification_kind', type_='check')
        batch_op.create_check_constraint('notification_kind', NEW_KINDS)


def downgrade():
    op.execute("DELETE FROM notifications WHERE kind = 'whistle'")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint('notification_kind', type_='check')
        batch_op.create_check_constraint('notification_kind', OLD_KINDS)
    with op.batch_alter_table('whistle_summons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_whistle_summons_whistle_id'))
        batch_op.drop_index(batch_op.f('ix_whistle_summons_unit_id'))

    op.drop_table('whistle_summons')
    with op.batch_alter_table('whistle_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_whistle_events_whistle_id'))

    op.drop_table('whistle_events')
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index('ix_visits_visitor_round')
        batch_op.drop_index(batch_op.f('ix_visits_target_id'))
        batch_op.drop_index(batch_op.f('ix_visits_round_id'))

    op.drop_table('visits')
    with op.batch_alter_table('whistles', schema=None) as batch_op:
        batch_op.drop_index('ix_whistles_status_next_escalation_at')
        batch_op.drop_index(batch_op.f('ix_whistles_grid_id'))

    op.drop_table('whistles')
    op.drop_table('responder_unit_members')
    op.drop_table('responder_unit_grids')
    with op.batch_alter_table('visit_targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_targets_grid_id'))

    op.drop_table('visit_targets')
    with op.batch_alter_table('responder_units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_responder_units_office_grid_id'))

    op.drop_table('responder_units')
    with op.batch_alter_table('visit_rounds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_rounds_grid_id'))

    op.drop_table('visit_rounds')
