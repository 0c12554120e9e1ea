"""pairing agreements: a partner enterprise's signed co-building agreement with a street office or community

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 21:05:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pairing_agreements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('valid_until >= signed_on', name=op.f('ck_pairing_agreements_valid_after_signing')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_pairing_agreements_enterprise_id_enterprises'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_pairing_agreements_grid_id_grids'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pairing_agreements')),
    sa.UniqueConstraint('enterprise_id', 'grid_id', 'signed_on', name='uq_pairing_agreements_signed')
    )
    with op.batch_alter_table('pairing_agreements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pairing_agreements_enterprise_id'), ['enterprise_id'], unique=False)


def downgrade():
    with op.batch_alter_table('pairing_agreements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pairing_agreements_enterprise_id'))
    op.drop_table('pairing_agreements')
