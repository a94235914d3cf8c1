"""Alembic environment: runs on the connection handed over by ``judgments.migrate``.

There is no alembic.ini: ``interpret_review.judgments.migrate.upgrade`` builds the Alembic
config in code and passes an open connection (inside a transaction that holds the
migration lock) as ``config.attributes["connection"]``.
"""

from __future__ import annotations

from alembic import context

from interpret_review.judgments.tables import METADATA

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "interpret-review migrations run through JudgmentStore(url).migrate(), "
        "not the alembic command line"
    )

context.configure(
    connection=connection,
    target_metadata=METADATA,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
