"""audit rows carry the id of the request (or scheduler job run) that wrote them

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 17:00:00

Safe while the service runs: the column is nullable (older code writes no value), and on PostgreSQL the
index is built CONCURRENTLY, outside the migration's transaction, so audit writes never wait for it.
"""
from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

INDEX = 'ix_audit_events_request_id'


def upgrade():
    op.add_column('audit_events', sa.Column('request_id', sa.String(length=64), nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            op.create_index(INDEX, 'audit_events', ['request_id'], postgresql_concurrently=True,
                            if_not_exists=True)
    else:
        op.create_index(INDEX, 'audit_events', ['request_id'])


def downgrade():
    op.drop_index(INDEX, table_name='audit_events')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('request_id')
