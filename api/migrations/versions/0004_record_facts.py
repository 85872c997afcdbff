"""Records carry the facts lists filter on (asset, currency, status, ...) in columns, and an index
for newest-first pages.

Existing records get their facts from their stored documents: the immutability triggers are
lifted for that one update inside the migration's transaction and put back at once.

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-01
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None

FACTS = ("asset_name", "asset_kind", "currency", "status", "category", "source_id")
_WIDTHS = {"asset_name": 200, "asset_kind": 32, "currency": 3, "status": 32, "category": 32}


def upgrade() -> None:
    with op.batch_alter_table("records") as batch:
        for name in FACTS:
            batch.add_column(sa.Column(name, sa.String(_WIDTHS.get(name, 64)), nullable=True))
    op.create_index("ix_records_newest", "records", ["tenant", "kind", "created_at", "id"])
    op.create_index(
        "ix_records_asset_name", "records", ["tenant", "kind", "asset_name", "created_at"]
    )
    op.create_index("ix_records_source", "records", ["tenant", "source_id"])
    op.drop_index("ix_records_tenant_kind", table_name="records")
    _backfill()


def _backfill() -> None:
    from ipvalue.api.facts import record_facts

    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, kind, request, inputs, result FROM records")).all()
    if not rows:
        return
    _lift_immutability(bind.dialect.name)
    for row in rows:
        facts = record_facts(
            row.kind,
            {
                "request": json.loads(row.request),
                "inputs": json.loads(row.inputs),
                "result": json.loads(row.result),
            },
        )
        sets = ", ".join(f"{name} = :{name}" for name in FACTS)
        bind.execute(sa.text(f"UPDATE records SET {sets} WHERE id = :id"), {**facts, "id": row.id})
    _restore_immutability(bind.dialect.name)


def _lift_immutability(dialect: str) -> None:
    if dialect == "sqlite":
        op.execute("DROP TRIGGER records_no_update")
    elif dialect == "postgresql":
        op.execute("ALTER TABLE records DISABLE TRIGGER records_immutable")


def _restore_immutability(dialect: str) -> None:
    if dialect == "sqlite":
        op.execute(
            "CREATE TRIGGER records_no_update BEFORE UPDATE ON records "
            "BEGIN SELECT RAISE(ABORT, 'records are immutable'); END"
        )
    elif dialect == "postgresql":
        op.execute("ALTER TABLE records ENABLE TRIGGER records_immutable")


def downgrade() -> None:
    op.create_index("ix_records_tenant_kind", "records", ["tenant", "kind"])
    op.drop_index("ix_records_source", table_name="records")
    op.drop_index("ix_records_asset_name", table_name="records")
    op.drop_index("ix_records_newest", table_name="records")
    with op.batch_alter_table("records") as batch:
        for name in FACTS:
            batch.drop_column(name)
