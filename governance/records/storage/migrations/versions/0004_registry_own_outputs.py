"""registry works carry an origin (protected | generated) and, for our own outputs, the content id

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 06:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('registry_work', schema=None) as batch_op:
        # Every work registered before this revision was a rights holder's.
        batch_op.add_column(sa.Column('origin', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False,
                                      server_default='protected'))
        batch_op.add_column(sa.Column('content_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_registry_work_origin'), ['origin'], unique=False)
        batch_op.create_index(batch_op.f('ix_registry_work_content_id'), ['content_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('registry_work', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registry_work_content_id'))
        batch_op.drop_index(batch_op.f('ix_registry_work_origin'))
        batch_op.drop_column('content_id')
        batch_op.drop_column('origin')
