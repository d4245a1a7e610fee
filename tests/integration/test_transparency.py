"""The public transparency report, on SQLite and PostgreSQL: moderation counted per month (UTC),
action and rule, decided appeals apart by their outcome (how many decisions stood, how many
fell). The database counts, and a node counts at most once a minute: a visitor cannot make it
read the whole audit log again and again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from parley.core.moderation import AuditAction, AuditTarget
from parley.store.moderation import AuditLog
from tests.support.clients import Person, http_client, sign_in_answer
from tests.support.moderation import admin, suspend
from tests.support.servers import ServerThread, serve


async def _last_june(server: ServerThread) -> None:
    """An entry of a month long gone, its last half hour in UTC: counted in that month."""
    async with server.node.db.write() as conn:
        await AuditLog(conn).append(
            at=datetime(2025, 6, 30, 23, 30, tzinfo=UTC),
            actor_id=None,
            action=AuditAction.SUSPEND,
            target_type=AuditTarget.ACCOUNT,
            target_id="gone",
            rule="hate",
            reason="Then",
        )


async def _report(server: ServerThread) -> list[dict[str, object]]:
    async with http_client(base_url=f"{server.base_url}/api/v1") as anonymous:
        answer = await anonymous.get("/transparency")
    assert answer.status_code == 200, answer.text
    actions: list[dict[str, object]] = answer.json()["actions"]
    return actions


async def test_counts_per_month_action_and_rule_and_appeals_by_outcome(database_url: str) -> None:
    with serve(database_url=database_url) as server:
        mod, other = await admin(server, "mod"), await admin(server, "other")
        people = [await Person.sign_up(server.base_url, h) for h in ("ann", "bob", "cy")]
        for person in people:
            await suspend(mod, person.handle, rule="spam")
        for person, decision in zip(people[:2], ("upheld", "overturned"), strict=True):
            refused = (await sign_in_answer(server.base_url, person.handle)).json()
            appealing = Person(
                server.base_url, person.handle, refused["appeal_token"], person.account
            )
            body = {"notice_id": refused["notice"]["id"], "text": "Not spam"}
            appeal = await appealing.call("POST", "/appeals", 201, json=body)
            decided = {"decision": decision, "reason": "Read again"}
            await other.call("POST", f"/admin/appeals/{appeal['id']}/decide", 200, json=decided)
            await appealing.close()
        server.call(_last_june(server))

        report = await _report(server)
        month = server.node.clock.now().strftime("%Y-%m")
        line = {"period": month, "rule": "spam", "outcome": None}
        assert report[0] == {
            "period": "2025-06",
            "action": "suspend",
            "rule": "hate",
            "count": 1,
            "outcome": None,
        }
        assert line | {"action": "suspend", "count": 3} in report
        assert line | {"action": "appeal", "count": 2} in report
        decided_lines = [r for r in report if r["action"] == "decide_appeal"]
        assert decided_lines == [
            line | {"action": "decide_appeal", "count": 1, "outcome": "overturned"},
            line | {"action": "decide_appeal", "count": 1, "outcome": "upheld"},
        ]
        # What the overturn lifted is counted under the rule `appeal`.
        lifted = {"period": month, "action": "unsuspend", "rule": "appeal", "count": 1}
        assert lifted | {"outcome": None} in report

        # Counted at most once a minute: a new action shows once the minute has passed.
        dan = await Person.sign_up(server.base_url, "dan")
        await suspend(mod, "dan", rule="spam")
        assert line | {"action": "suspend", "count": 3} in await _report(server)
        server.node.clock.advance(timedelta(minutes=1))
        assert line | {"action": "suspend", "count": 4} in await _report(server)
        for person in (mod, other, dan, *people):
            await person.close()
