"""Records keep the SHA-256 of their canonical JSON (`ipvalue.api.digest`), which documents
print and ``GET /v1/records/verify`` looks up.

Existing records get theirs from their stored documents: the immutability triggers are lifted
for that one update inside the migration's transaction and put back at once.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.add_column(sa.Column("sha256", sa.String(64), nullable=True))
    op.create_index("ix_records_sha256", "records", ["tenant", "sha256"])
    _backfill()


def _backfill() -> None:
    from ipvalue.api.db import iso
    from ipvalue.api.digest import record_digest

    table = sa.table(
        "records",
        *(sa.column(name) for name in ("id", "kind", "seed", "job_id")),
        *(sa.column(name, sa.Text) for name in ("versions", "request", "inputs", "result")),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(table)).all()
    if not rows:
        return
    _set_immutability(bind.dialect.name, enabled=False)
    for row in rows:
        document = {
            "id": row.id,
            "kind": row.kind,
            "created_at": iso(row.created_at),
            "versions": json.loads(row.versions),
            "seed": row.seed,
            "request": json.loads(row.request),
            "inputs": json.loads(row.inputs),
            "job_id": row.job_id,
            "result": json.loads(row.result),
        }
        bind.execute(
            sa.text("UPDATE records SET sha256 = :digest WHERE id = :id"),
            {"digest": record_digest(document), "id": row.id},
        )
    _set_immutability(bind.dialect.name, enabled=True)


def _set_immutability(dialect: str, *, enabled: bool) -> None:
    if dialect == "sqlite":
        op.execute(
            "CREATE TRIGGER records_no_update BEFORE UPDATE ON records "
            "BEGIN SELECT RAISE(ABORT, 'records are immutable'); END"
            if enabled
            else "DROP TRIGGER records_no_update"
        )
    elif dialect == "postgresql":
        state = "ENABLE" if enabled else "DISABLE"
        op.execute(f"ALTER TABLE records {state} TRIGGER records_immutable")


def downgrade() -> None:
    op.drop_index("ix_records_sha256", table_name="records")
    with op.batch_alter_table("records") as batch:
        batch.drop_column("sha256")
