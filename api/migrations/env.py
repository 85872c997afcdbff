"""Alembic environment: migrate the connection ``api.db.migrate`` hands over, or a URL.

The service migrates on start (``AUTO_MIGRATE``); ``ipvalue db upgrade`` does it on demand and
``ipvalue db current`` shows the revision. To write a new revision, bump ``api.db.HEAD`` and add
a file to ``versions/`` (``alembic -c`` with ``script_location = api/migrations`` and
``-x url=...`` also works).
"""

from alembic import context
from sqlalchemy import create_engine

from ipvalue.api.tables import metadata

config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise RuntimeError("no database: pass -x url=... or set sqlalchemy.url")
    engine = create_engine(url)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
