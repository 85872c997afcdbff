"""Jobs are leased: an expiry the running process extends (its heartbeat), and at most one record
per job.

``jobs.lease_expires_at`` is when the current attempt is presumed dead unless its process extends
it; ``jobs.heartbeat_at`` is when it last did. ``ux_records_job_id`` makes a second record of the
same job impossible, whatever re-runs happen. ``ix_jobs_queue`` serves the dispatcher (queued jobs
of a tenant, oldest first) and ``ix_jobs_tenant_started`` its round robin across tenants.

A database written before this revision may hold two records of one job (the fault this fixes):
the record the job points at keeps its ``job_id``, the others lose it (the immutability triggers
are lifted for that one update inside the migration's transaction and put back at once).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("jobs", sa.Column("lease_expires_at", _TS, nullable=True))
    op.add_column("jobs", sa.Column("heartbeat_at", _TS, nullable=True))
    op.create_index("ix_jobs_queue", "jobs", ["status", "tenant", "created_at"])
    op.create_index("ix_jobs_tenant_started", "jobs", ["tenant", "started_at"])
    _drop_duplicate_job_ids()
    op.create_index("ux_records_job_id", "records", ["job_id"], unique=True)


def _drop_duplicate_job_ids() -> None:
    bind = op.get_bind()
    dupes = bind.execute(
        sa.text(
            "SELECT job_id FROM records WHERE job_id IS NOT NULL "
            "GROUP BY job_id HAVING COUNT(*) > 1"
        )
    ).all()
    if not dupes:
        return
    dialect = bind.dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER records_no_update")
    elif dialect == "postgresql":
        op.execute("ALTER TABLE records DISABLE TRIGGER records_immutable")
    for (job_id,) in dupes:
        kept = bind.execute(
            sa.text("SELECT record_id FROM jobs WHERE id = :id"), {"id": job_id}
        ).scalar()
        if kept is None:
            kept = bind.execute(
                sa.text("SELECT MIN(id) FROM records WHERE job_id = :id"), {"id": job_id}
            ).scalar()
        bind.execute(
            sa.text("UPDATE records SET job_id = NULL WHERE job_id = :job AND id <> :kept"),
            {"job": job_id, "kept": kept},
        )
    if dialect == "sqlite":
        op.execute(
            "CREATE TRIGGER records_no_update BEFORE UPDATE ON records "
            "BEGIN SELECT RAISE(ABORT, 'records are immutable'); END"
        )
    elif dialect == "postgresql":
        op.execute("ALTER TABLE records ENABLE TRIGGER records_immutable")


def downgrade() -> None:
    op.drop_index("ux_records_job_id", table_name="records")
    op.drop_index("ix_jobs_tenant_started", table_name="jobs")
    op.drop_index("ix_jobs_queue", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("heartbeat_at")
        batch.drop_column("lease_expires_at")
