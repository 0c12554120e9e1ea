"""coordinator channels: staff contact details and channels, a campaign's coordinator, sign-in tokens' account

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 10:00:00

Existing staff get no channels (in-app only) and existing campaigns no coordinator, so nothing
new is sent until someone chooses it.
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    # Batch mode: SQLite rebuilds campaigns and api_tokens to add the foreign keys (env.py turns
    # enforcement off meanwhile, so the rebuild cascades nothing); PostgreSQL alters them in place.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('mobile', sa.String(length=11), nullable=True))
        batch_op.add_column(sa.Column('wecom_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('notify_channels', sa.String(length=60), server_default='', nullable=False))

    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('coordinator_user_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_campaigns_coordinator_user_id_users'), 'users',
                                    ['coordinator_user_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_api_tokens_user_id_users'), 'users',
                                    ['user_id'], ['id'], ondelete='CASCADE')


def downgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_api_tokens_user_id_users'), type_='foreignkey')
        batch_op.drop_column('user_id')

    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_campaigns_coordinator_user_id_users'), type_='foreignkey')
        batch_op.drop_column('coordinator_user_id')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('notify_channels')
        batch_op.drop_column('wecom_id')
        batch_op.drop_column('mobile')
        batch_op.drop_column('email')
