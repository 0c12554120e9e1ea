"""hours ledger: check-out times, attendance corrections, the append-only hours ledger, certificates, 双报到

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 17:00:00

The ledger refuses UPDATE on both databases (a trigger), and DELETE on PostgreSQL too: a correction is a
new row. (SQLite keeps DELETE possible so that tests can empty their tables.)
"""
from alembic import op
import sqlalchemy as sa

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

PG_FUNCTION = """
CREATE FUNCTION hours_entries_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'hours_entries is append-only: add a correction row instead';
END;
$$ LANGUAGE plpgsql
"""


def upgrade():
    op.create_table(
        'party_organisations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_party_organisations')),
        sa.UniqueConstraint('name', name=op.f('uq_party_organisations_name')),
    )
    with op.batch_alter_table('volunteers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('party_org_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_volunteers_party_org_id_party_organisations'),
                                    'party_organisations', ['party_org_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('call_ups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checked_out_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        'attendance_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('callup_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(length=100), nullable=False),
        sa.Column('field', sa.String(length=20), nullable=False),
        sa.Column('before', sa.String(length=40), nullable=True),
        sa.Column('after', sa.String(length=40), nullable=True),
        sa.Column('reason', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['callup_id'], ['call_ups.id'], name=op.f('fk_attendance_changes_callup_id_call_ups'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance_changes')),
    )
    op.create_index(op.f('ix_attendance_changes_callup_id'), 'attendance_changes', ['callup_id'])

    op.create_table(
        'hours_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('volunteer_id', sa.Integer(), nullable=False),
        sa.Column('callup_id', sa.Integer(), nullable=False),
        sa.Column('source', sa.Enum('recorded', 'manual', name='hours_source', native_enum=False,
                                    create_constraint=True, length=32), nullable=False),
        sa.Column('minutes', sa.Integer(), nullable=False),
        sa.Column('served_on', sa.Date(), nullable=False),
        sa.Column('corrects_id', sa.Integer(), nullable=True),
        sa.Column('booked_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('booked_by', sa.String(length=100), nullable=False),
        sa.Column('approved_by', sa.String(length=100), nullable=True),
        sa.Column('reason', sa.String(length=500), nullable=True),
        sa.CheckConstraint('corrects_id IS NOT NULL OR minutes >= 0', name=op.f('ck_hours_entries_booking_not_negative')),
        sa.CheckConstraint('corrects_id IS NULL OR (approved_by IS NOT NULL AND reason IS NOT NULL)',
                           name=op.f('ck_hours_entries_correction_approved')),
        sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'], name=op.f('fk_hours_entries_volunteer_id_volunteers'),
                                ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['callup_id'], ['call_ups.id'], name=op.f('fk_hours_entries_callup_id_call_ups'),
                                ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['corrects_id'], ['hours_entries.id'],
                                name=op.f('fk_hours_entries_corrects_id_hours_entries'), ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_hours_entries')),
    )
    op.create_index(op.f('ix_hours_entries_callup_id'), 'hours_entries', ['callup_id'])
    op.create_index('ix_hours_entries_volunteer_served', 'hours_entries', ['volunteer_id', 'served_on'])
    op.create_index('uq_hours_entries_recorded_callup', 'hours_entries', ['callup_id'], unique=True,
                    sqlite_where=sa.text("source = 'recorded' AND corrects_id IS NULL"),
                    postgresql_where=sa.text("source = 'recorded' AND corrects_id IS NULL"))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(PG_FUNCTION)
        op.execute("CREATE TRIGGER hours_entries_append_only BEFORE UPDATE OR DELETE ON hours_entries "
                   "FOR EACH ROW EXECUTE FUNCTION hours_entries_append_only()")
    else:
        op.execute("CREATE TRIGGER hours_entries_append_only BEFORE UPDATE ON hours_entries "
                   "BEGIN SELECT RAISE(ABORT, 'hours_entries is append-only: add a correction row instead'); END")

    op.create_table(
        'service_certificates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=16), nullable=False),
        sa.Column('volunteer_id', sa.Integer(), nullable=False),
        sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('through_entry_id', sa.Integer(), nullable=False),
        sa.Column('recorded_minutes', sa.Integer(), nullable=False),
        sa.Column('manual_minutes', sa.Integer(), nullable=False),
        sa.Column('shifts', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['volunteer_id'], ['volunteers.id'],
                                name=op.f('fk_service_certificates_volunteer_id_volunteers'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_service_certificates')),
        sa.UniqueConstraint('code', name=op.f('uq_service_certificates_code')),
    )
    op.create_index(op.f('ix_service_certificates_volunteer_id'), 'service_certificates', ['volunteer_id'])


def downgrade():
    op.drop_index(op.f('ix_service_certificates_volunteer_id'), table_name='service_certificates')
    op.drop_table('service_certificates')
    op.execute("DROP TRIGGER IF EXISTS hours_entries_append_only" +
               (" ON hours_entries" if op.get_bind().dialect.name == 'postgresql' else ""))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP FUNCTION IF EXISTS hours_entries_append_only()")
    op.drop_index('uq_hours_entries_recorded_callup', table_name='hours_entries')
    op.drop_index('ix_hours_entries_volunteer_served', table_name='hours_entries')
    op.drop_index(op.f('ix_hours_entries_callup_id'), table_name='hours_entries')
    op.drop_table('hours_entries')
    op.drop_index(op.f('ix_attendance_changes_callup_id'), table_name='attendance_changes')
    op.drop_table('attendance_changes')
    with op.batch_alter_table('call_ups', schema=None) as batch_op:
        batch_op.drop_column('checked_out_at')
    with op.batch_alter_table('volunteers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_volunteers_party_org_id_party_organisations'), type_='foreignkey')
        batch_op.drop_column('party_org_id')
    op.drop_table('party_organisations')
