"""party organisation contacts: an account (and its sign-in tokens) bound to a workplace party organisation

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 06:00:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

OLD_ROLES = "role IN ('admin', 'office', 'volunteer', 'enterprise', 'gateway')"
NEW_ROLES = "role IN ('admin', 'office', 'volunteer', 'enterprise', 'gateway', 'party_org')"
TABLES = (('users', 'user_role'), ('api_tokens', 'token_role'))


def upgrade():
    for table, check in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('party_org_id', sa.Integer(), nullable=True))
            batch_op.create_foreign_key(batch_op.f(f'fk_{table}_party_org_id_party_organisations'),
                                        'party_organisations', ['party_org_id'], ['id'], ondelete='CASCADE')
            batch_op.drop_constraint(check, type_='check')
            batch_op.create_check_constraint(check, NEW_ROLES)


def downgrade():
    for table, check in TABLES:
        op.execute(sa.text(f"DELETE FROM {table} WHERE role = 'party_org'"))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(check, type_='check')
            batch_op.create_check_constraint(check, OLD_ROLES)
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_party_org_id_party_organisations'), type_='foreignkey')
            batch_op.drop_column('party_org_id')
