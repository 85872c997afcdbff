"""The pledge book: versioned assets and loans, alerts, loan leases, webhooks and their outbox.

``book_versions`` is append-only (every change is a new version; the database refuses updates
and deletes, as for ``records``); ``book_heads`` points at each asset's or loan's latest version
and carries what lists filter and sort on. ``alerts`` change status (open, acknowledged,
cleared). ``loan_leases`` let exactly one monitoring run handle a loan at a time.
``webhook_outbox`` holds each delivery, written in the transaction that raised its alert.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "book_heads",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("tenant", sa.String(64), sa.ForeignKey("tenants.name"), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("archived_at", _TS, nullable=True),
        sa.Column("label", sa.String(200), nullable=True),
        sa.Column("status", sa.String(32), nullable=True),
        sa.Column("category", sa.String(32), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("risk", sa.Float, nullable=True),
    )
    op.create_index("ix_book_heads_newest", "book_heads", ["tenant", "kind", "created_at", "id"])
    op.create_index("ix_book_heads_risk", "book_heads", ["tenant", "kind", "risk", "id"])
    op.create_table(
        "book_versions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("tenant", sa.String(64), sa.ForeignKey("tenants.name"), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("versions", sa.Text, nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
    )
    op.create_index("ix_book_versions_key", "book_versions", ["tenant", "id", "idempotency_key"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant", sa.String(64), sa.ForeignKey("tenants.name"), nullable=False),
        sa.Column("loan_id", sa.String(36), nullable=False),
        sa.Column("asset_id", sa.String(36), nullable=True),
        sa.Column("rule", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("raised_at", _TS, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("acknowledged_by", sa.String(200), nullable=True),
        sa.Column("acknowledged_at", _TS, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("cleared_at", _TS, nullable=True),
        sa.Column("run_id", sa.String(36), nullable=True),
    )
    op.create_index("ix_alerts_loan", "alerts", ["tenant", "loan_id", "status"])
    op.create_index("ix_alerts_newest", "alerts", ["tenant", "raised_at", "id"])
    op.create_table(
        "loan_leases",
        sa.Column("loan_id", sa.String(36), primary_key=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
    )
    op.create_table(
        "webhooks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant", sa.String(64), sa.ForeignKey("tenants.name"), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("events", sa.Text, nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("archived_at", _TS, nullable=True),
    )
    op.create_index("ix_webhooks_tenant", "webhooks", ["tenant"])
    op.create_table(
        "webhook_outbox",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant", sa.String(64), sa.ForeignKey("tenants.name"), nullable=False),
        sa.Column("webhook_id", sa.String(36), sa.ForeignKey("webhooks.id"), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", _TS, nullable=False),
        sa.Column("delivered_at", _TS, nullable=True),
        sa.Column("last_status", sa.Integer, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
    )
    op.create_index("ix_webhook_outbox_due", "webhook_outbox", ["status", "next_attempt_at"])
    op.create_index("ix_webhook_outbox_hook", "webhook_outbox", ["webhook_id", "created_at", "id"])
    _forbid_version_changes()


def _forbid_version_changes() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER book_versions_no_{event.lower()} BEFORE {event} ON book_versions "
                "BEGIN SELECT RAISE(ABORT, 'book versions are immutable'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION book_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'book versions are immutable'; END $$"
        )
        op.execute(
            "CREATE TRIGGER book_versions_immutable BEFORE UPDATE OR DELETE ON book_versions "
            "FOR EACH ROW EXECUTE FUNCTION book_versions_immutable()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS book_versions_immutable ON book_versions")
        op.execute("DROP FUNCTION IF EXISTS book_versions_immutable()")
    op.drop_table("webhook_outbox")
    op.drop_table("webhooks")
    op.drop_table("loan_leases")
    op.drop_table("alerts")
    op.drop_table("book_versions")
    op.drop_table("book_heads")
