"""An appeal is a second look: a moderator who took no part in the action decides it, reading
what the account was told and who took the action. The moderator who took it is refused (and
told so in the queue); where that is the only moderator, the operator decides from the command
line."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import cli_env, parley_here
from tests.support.clients import Person, sign_in_answer
from tests.support.moderation import admin, suspend
from tests.support.servers import ServerThread, serve

OVERTURN = {"decision": "overturned", "reason": "A quote, read in context"}


async def _appeal(server: ServerThread, handle: str, account: Person) -> Person:
    """Signs in as the suspended account and appeals its notice; its appeal-only session."""
    refused = (await sign_in_answer(server.base_url, handle)).json()
    appealing = Person(server.base_url, handle, refused["appeal_token"], account.account)
    body = {"notice_id": refused["notice"]["id"], "text": "It was a quote."}
    await appealing.call("POST", "/appeals", 201, json=body)
    return appealing


async def test_the_moderator_who_acted_reads_the_appeal_and_another_decides_it(
    database_url: str,
) -> None:
    with serve(database_url=database_url) as server:
        mod, other = await admin(server, "mod"), await admin(server, "other")
        troll = await Person.sign_up(server.base_url, "troll")
        await suspend(mod, "troll")
        appealing = await _appeal(server, "troll", troll)

        (mine,) = await mod.call("GET", "/admin/appeals", 200)
        (theirs,) = await other.call("GET", "/admin/appeals", 200)
        assert (mine["involves_you"], theirs["involves_you"]) == (True, False)
        told = theirs["notice"]
        assert (told["action"], told["rule"], told["reason"]) == (
            "suspend",
            "harassment",
            "Threats against another speaker",
        )
        assert (theirs["action_by"], theirs["handle"], theirs["text"]) == (
            "mod",
            "troll",
            "It was a quote.",
        )

        decide = f"/admin/appeals/{theirs['id']}/decide"
        await mod.refused("POST", decide, 403, "cannot_review_own_action", json=OVERTURN)
        # Refused means nothing happened: still open, still suspended.
        assert [a["id"] for a in await other.call("GET", "/admin/appeals", 200)] == [theirs["id"]]
        assert (await sign_in_answer(server.base_url, "troll")).status_code == 403

        decided = await other.call("POST", decide, 200, json=OVERTURN)
        assert decided["decision"] == "overturned"
        assert (await sign_in_answer(server.base_url, "troll")).status_code == 201
        assert await other.call("GET", "/admin/appeals", 200) == []
        for person in (mod, other, troll, appealing):
            await person.close()


async def test_the_operator_decides_where_the_only_moderator_took_the_action(
    tmp_path: Path,
) -> None:
    env = cli_env(tmp_path)
    with serve(data_dir=tmp_path) as server:
        mod = await admin(server, "mod")
        troll = await Person.sign_up(server.base_url, "troll")
        spammer = await Person.sign_up(server.base_url, "spammer")
        await suspend(mod, "troll")
        by_operator = await parley_here(
            "admin", "suspend", "spammer", "--rule", "spam", "--reason", "Scam links", env=env
        )
        assert by_operator.returncode == 0, by_operator.stderr
        appealing = [
            await _appeal(server, "troll", troll),
            await _appeal(server, "spammer", spammer),
        ]

        # The operator's action: the moderator takes no part in it, and decides.
        queue = {a["handle"]: a for a in await mod.call("GET", "/admin/appeals", 200)}
        assert (queue["spammer"]["action_by"], queue["spammer"]["involves_you"]) == (None, False)
        assert (queue["troll"]["action_by"], queue["troll"]["involves_you"]) == ("mod", True)
        upheld = {"decision": "upheld", "reason": "Scam links, twice"}
        await mod.call("POST", f"/admin/appeals/{queue['spammer']['id']}/decide", 200, json=upheld)

        # The moderator's own action: the operator decides it.
        listed = await parley_here("admin", "appeals", env=env)
        assert listed.returncode == 0, listed.stderr
        (line,) = listed.stdout.splitlines()
        troll_appeal = queue["troll"]["id"]
        assert line.split()[:3] == [troll_appeal, "open", "@troll"], line
        assert "suspend under harassment by @mod: It was a quote." in line
        done = await parley_here(
            "admin", "decide-appeal", troll_appeal, "overturned", "--reason", "In context", env=env
        )
        assert done.returncode == 0, done.stderr
        assert (await sign_in_answer(server.base_url, "troll")).status_code == 201
        again = await parley_here(
            "admin", "decide-appeal", troll_appeal, "upheld", "--reason", "Twice", env=env
        )
        assert again.returncode == 2 and "already_decided" in again.stderr
        audit = await parley_here("admin", "audit", "--action", "decide_appeal", env=env)
        assert [w for w in audit.stdout.split() if w.startswith("by")] == ["by", "by"]
        assert "by operator" in audit.stdout.splitlines()[0]
        for person in (mod, troll, spammer, *appealing):
            await person.close()
