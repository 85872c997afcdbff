"""Alembic environment: migrate the connection ``api.db.migrate`` hands over, or a URL.

From the command line: ``alembic -x url=sqlite:///instance/ipvalue.sqlite upgrade head`` with
``script_location = api/migrations``; the service itself migrates on start (``api.db``).
"""

from alembic import context
from sqlalchemy import create_engine

from api.tables import metadata

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
    engine = create_engine(url)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
