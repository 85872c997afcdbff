"""Tenants, API keys, immutable records and jobs.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(64), sa.ForeignKey("tenants.name"), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("label", sa.String(200), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("revoked_at", _TS, nullable=True),
    )
    op.create_table(
        "records",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("tenant", sa.String(64), sa.ForeignKey("tenants.name"), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("request", sa.Text, nullable=False),
        sa.Column("inputs", sa.Text, nullable=False),
        sa.Column("seed", sa.String(80), nullable=True),
        sa.Column("versions", sa.Text, nullable=False),
        sa.Column("result", sa.Text, nullable=False),
        sa.Column("job_id", sa.String(36), nullable=True),
    )
    op.create_index("ix_records_tenant_kind", "records", ["tenant", "kind"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("tenant", sa.String(64), sa.ForeignKey("tenants.name"), nullable=False),
        sa.Column("fn", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Float, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("context", sa.Text, nullable=False),
        sa.Column("record_id", sa.String(36), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("owner", sa.String(64), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("started_at", _TS, nullable=True),
        sa.Column("finished_at", _TS, nullable=True),
    )
    op.create_index("ix_jobs_status", "jobs", ["status"])
    op.create_index("ix_jobs_tenant", "jobs", ["tenant"])
    _forbid_record_changes()


def _forbid_record_changes() -> None:
    """Records are immutable in the database itself, not only by convention."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER records_no_{event.lower()} BEFORE {event} ON records "
                "BEGIN SELECT RAISE(ABORT, 'records are immutable'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION records_immutable() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'records are immutable'; END $$"
        )
        op.execute(
            "CREATE TRIGGER records_immutable BEFORE UPDATE OR DELETE ON records "
            "FOR EACH ROW EXECUTE FUNCTION records_immutable()"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS records_immutable ON records")
        op.execute("DROP FUNCTION IF EXISTS records_immutable()")
    op.drop_table("jobs")
    op.drop_table("records")
    op.drop_table("api_keys")
    op.drop_table("tenants")
