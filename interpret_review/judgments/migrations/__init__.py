"""Alembic migrations of the judgment store; run them with ``JudgmentStore.migrate()``."""
