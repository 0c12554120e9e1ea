"""certificates: the number of the certificate behind a person's skill

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 10:00:00

A skill the catalogue marks as certified counts only with a certificate on record (its number, its
expiry date, or both) that is valid on the shift date. Existing rows keep their expiry dates.
"""
from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN on both databases: no table rebuild, so no rows at risk on SQLite.
    op.add_column('volunteer_skills', sa.Column('certificate_no', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('volunteer_skills', schema=None) as batch_op:
        batch_op.drop_column('certificate_no')
