"""Finding 8.7: on SQLite, `REPLACE INTO` and `INSERT OR REPLACE` replaced audit entries without
tripping the append-only triggers (the implicit delete of a conflict fires no DELETE trigger).
Every SQL way of overwriting an entry is refused, on SQLite and on PostgreSQL."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.support.clients import Person
from tests.support.moderation import admin, suspend
from tests.support.servers import ServerThread

FORGED = "nothing happened"

# Statements that would overwrite entry `:id` in place, by dialect.
SQLITE_OVERWRITES = [
    "REPLACE INTO audit_log (id, at, action, target_type, target_id, reason)"
    " VALUES (:id, '2026-01-01 00:00:00', 'suspend', 'account', 'x', :forged)",
    "INSERT OR REPLACE INTO audit_log (id, at, action, target_type, target_id, reason)"
    " VALUES (:id, '2026-01-01 00:00:00', 'suspend', 'account', 'x', :forged)",
    "INSERT INTO audit_log (id, at, action, target_type, target_id, reason)"
    " VALUES (:id, '2026-01-01 00:00:00', 'suspend', 'account', 'x', :forged)"
    " ON CONFLICT (id) DO UPDATE SET reason = excluded.reason",
    "UPDATE OR REPLACE audit_log SET reason = :forged WHERE id = :id",
    "DELETE FROM audit_log WHERE id = :id",
]
POSTGRES_OVERWRITES = [
    "INSERT INTO audit_log (id, at, action, target_type, target_id, reason)"
    " VALUES (:id, now(), 'suspend', 'account', 'x', :forged)"
    " ON CONFLICT (id) DO UPDATE SET reason = excluded.reason",
    "UPDATE audit_log SET reason = :forged WHERE id = :id",
    "DELETE FROM audit_log WHERE id = :id",
    "TRUNCATE audit_log",
]


async def _run(server: ServerThread, statement: str, entry_id: int) -> str:
    try:
        async with server.node.db.write() as conn:
            await conn.execute(text(statement), {"id": entry_id, "forged": FORGED})
    except DBAPIError as refused:
        return str(refused.orig)
    return "accepted"


async def test_no_sql_statement_overwrites_an_audit_entry(server: ServerThread) -> None:
    mod = await admin(server, "mod")
    await Person.sign_up(server.base_url, "someone")
    await suspend(mod, "someone")
    before = await mod.call("GET", "/admin/audit", 200)
    assert len(before) == 1
    entry_id = int(before[0]["id"])
    statements = SQLITE_OVERWRITES if server.node.db.is_sqlite else POSTGRES_OVERWRITES
    for statement in statements:
        outcome = server.call(_run(server, statement, entry_id))
        assert "append-only" in outcome, f"{statement!r} was {outcome}"
    assert await mod.call("GET", "/admin/audit", 200) == before
    await mod.close()


async def test_appending_still_works_after_the_guard(server: ServerThread) -> None:
    """The insert guard must not refuse real appends (ids the database chooses)."""
    mod = await admin(server, "mod")
    for handle in ("one", "two", "three"):
        await Person.sign_up(server.base_url, handle)
        await suspend(mod, handle)
    entries = await mod.call("GET", "/admin/audit", 200)
    assert [e["action"] for e in entries] == ["suspend"] * 3
    assert len({e["id"] for e in entries}) == 3
    await mod.close()
