"""The database schema: tenants, their API keys, immutable records, and jobs.

JSON documents are stored as text exactly as serialised once, so a record reads back byte for
byte the same on every read and on every database (PostgreSQL's ``jsonb`` would reorder keys).
The Alembic migrations in ``api/migrations`` create these tables; keep both in step.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

tenants = Table(
    "tenants",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant", String(64), ForeignKey("tenants.name"), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("label", String(200), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

records = Table(
    "records",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("tenant", String(64), ForeignKey("tenants.name"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("request", Text, nullable=False),
    Column("inputs", Text, nullable=False),
    Column("seed", String(80), nullable=True),
    Column("versions", Text, nullable=False),
    Column("result", Text, nullable=False),
    Column("job_id", String(36), nullable=True),
    Column("subject", String(200), nullable=True),
    # The facts lists filter on (migration 0004); see api.store.record_facts.
    Column("asset_name", String(200), nullable=True),
    Column("asset_kind", String(32), nullable=True),
    Column("currency", String(3), nullable=True),
    Column("status", String(32), nullable=True),
    Column("category", String(32), nullable=True),
    Column("source_id", String(64), nullable=True),
    # SHA-256 of the record's canonical JSON (migration 0007); see api.digest.
    Column("sha256", String(64), nullable=True),
    Index("ix_records_subject", "tenant", "kind", "subject"),
    Index("ix_records_newest", "tenant", "kind", "created_at", "id"),
    Index("ix_records_asset_name", "tenant", "kind", "asset_name", "created_at"),
    Index("ix_records_source", "tenant", "source_id"),
    Index("ix_records_sha256", "tenant", "sha256"),
    Index("ux_records_job_id", "job_id", unique=True),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("tenant", String(64), ForeignKey("tenants.name"), nullable=False),
    Column("fn", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("progress", Float, nullable=False),
    Column("payload", Text, nullable=False),
    Column("context", Text, nullable=False),
    Column("record_id", String(36), nullable=True),
    Column("error", Text, nullable=True),
    Column("attempts", Integer, nullable=False),
    Column("owner", String(64), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    # The lease of the current attempt (migration 0005); see api.jobs.
    Column("lease_expires_at", DateTime(timezone=True), nullable=True),
    Column("heartbeat_at", DateTime(timezone=True), nullable=True),
    Index("ix_jobs_status", "status"),
    Index("ix_jobs_tenant", "tenant"),
    Index("ix_jobs_queue", "status", "tenant", "created_at"),
    Index("ix_jobs_tenant_started", "tenant", "started_at"),
)
