"""Records name their subject (e.g. a monitored asset), so its history can be listed.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("records", sa.Column("subject", sa.String(200), nullable=True))
    op.create_index("ix_records_subject", "records", ["tenant", "kind", "subject"])


def downgrade() -> None:
    op.drop_index("ix_records_subject", table_name="records")
    with op.batch_alter_table("records") as batch:
        batch.drop_column("subject")
