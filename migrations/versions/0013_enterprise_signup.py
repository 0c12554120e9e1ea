"""enterprise sign-up: an enterprise registers itself and waits for approval by its street office or the district

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 13:10:00

Enterprises registered before this revision were registered by the district admin: they stay approved.
"""
from alembic import op
import sqlalchemy as sa

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=16), server_default='approved', nullable=False))
        batch_op.add_column(sa.Column('requested_grid_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reviewed_by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('review_note', sa.String(length=500), nullable=True))
        batch_op.create_check_constraint('enterprise_status_known',
                                         "status IN ('pending', 'approved', 'rejected')")
        batch_op.create_foreign_key(batch_op.f('fk_enterprises_requested_grid_id_grids'), 'grids',
                                    ['requested_grid_id'], ['id'], ondelete='RESTRICT')


def downgrade():
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_enterprises_requested_grid_id_grids'), type_='foreignkey')
        batch_op.drop_constraint('enterprise_status_known', type_='check')
        batch_op.drop_column('review_note')
        batch_op.drop_column('reviewed_by')
        batch_op.drop_column('reviewed_at')
        batch_op.drop_column('requested_grid_id')
        batch_op.drop_column('status')
