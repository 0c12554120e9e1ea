"""Recurring campaigns: occurrence_at and one campaign per template occurrence

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 05:48:49.778255

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    # Batch mode: SQLite rebuilds the table to add the constraint; PostgreSQL alters it in place.
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('occurrence_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint('uq_campaigns_template_occurrence', ['template_id', 'occurrence_at'])


def downgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_constraint('uq_campaigns_template_occurrence', type_='unique')
        batch_op.drop_column('occurrence_at')
