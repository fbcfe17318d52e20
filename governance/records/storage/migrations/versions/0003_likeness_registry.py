"""likeness registry (people, sealed face descriptors, keyring) and consent evidence digests

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 06:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('likeness_person',
    sa.Column('person_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('embedder', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('photos', sa.Integer(), nullable=False),
    sa.Column('enrolled_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('person_id')
    )
    op.create_table('likeness_keyring',
    sa.Column('check', sa.LargeBinary(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('salt_hex', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('likeness_descriptor',
    sa.Column('sealed', sa.LargeBinary(), nullable=False),
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('person_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['likeness_person.person_id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('likeness_descriptor', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_likeness_descriptor_person_id'), ['person_id'], unique=False)

    with op.batch_alter_table('consent_license', schema=None) as batch_op:
        batch_op.add_column(sa.Column('evidence_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('consent_license', schema=None) as batch_op:
        batch_op.drop_column('evidence_sha256')
    with op.batch_alter_table('likeness_descriptor', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_likeness_descriptor_person_id'))
    op.drop_table('likeness_descriptor')
    op.drop_table('likeness_keyring')
    op.drop_table('likeness_person')
