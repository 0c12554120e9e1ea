"""hardening: sign-in throttles per login and address, one-time codes proving a mobile number

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 10:00:00

The per-account lock (users.failed_logins, users.locked_until) is no longer used; the columns stay
so older code can run against this schema during a rolling deploy.
"""
from alembic import op
import sqlalchemy as sa

import core.db

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'login_throttles',
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('blocked_until', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_failure_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key_hash', name=op.f('pk_login_throttles')),
    )
    op.create_index(op.f('ix_login_throttles_last_failure_at'), 'login_throttles', ['last_failure_at'], unique=False)
    op.create_table(
        'mobile_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('mobile_hash', sa.String(length=64), nullable=False),
        sa.Column('ip_hash', sa.String(length=64), nullable=True),
        sa.Column('code_hash', sa.String(length=200), nullable=False),
        sa.Column('created_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('used_at', core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mobile_codes')),
    )
    op.create_index('ix_mobile_codes_mobile_created', 'mobile_codes', ['mobile_hash', 'created_at'], unique=False)
    op.create_index('ix_mobile_codes_ip_created', 'mobile_codes', ['ip_hash', 'created_at'], unique=False)


def downgrade():
    op.drop_index('ix_mobile_codes_ip_created', table_name='mobile_codes')
    op.drop_index('ix_mobile_codes_mobile_created', table_name='mobile_codes')
    op.drop_table('mobile_codes')
    op.drop_index(op.f('ix_login_throttles_last_failure_at'), table_name='login_throttles')
    op.drop_table('login_throttles')
