"""audit log: SQLite's REPLACE cannot overwrite an entry

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 21:50:00

On SQLite, `REPLACE INTO` / `INSERT OR REPLACE` resolve a key conflict by deleting the old row,
and that implicit delete fires no DELETE trigger unless `recursive_triggers` is on for the
connection: an existing entry could be replaced while the append-only triggers looked away. A
BEFORE INSERT trigger sees every insert, whatever its conflict clause and whatever the
connection's pragmas, so an insert that names an id already in the log is refused outright.
PostgreSQL has no REPLACE; its upsert runs the UPDATE trigger already in place.
"""

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        """
        CREATE TRIGGER audit_log_no_replace
        BEFORE INSERT ON audit_log
        WHEN NEW.id IS NOT NULL AND EXISTS (SELECT 1 FROM audit_log WHERE id = NEW.id)
        BEGIN
            SELECT RAISE(ABORT, 'the audit log is append-only (REPLACE refused)');
        END
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_log_no_replace")
