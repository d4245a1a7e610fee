"""Alembic environment: runs on the connection `Database.migrate` hands over, or on the URL given
with `-x url=...` when alembic is run by hand (for `alembic revision --autogenerate`)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from parley.store.tables import metadata

config = context.config
connection = config.attributes.get("connection")


def run(conn: object) -> None:
    context.configure(
        connection=conn,  # type: ignore[arg-type]
        target_metadata=metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
    )
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    run(connection)
else:
    url = context.get_x_argument(as_dictionary=True)["url"]
    with create_engine(url).connect() as conn:
        run(conn)
        conn.commit()
