"""`parley serve`, `parley admin ...`, `parley demo`."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from parley.config import Settings
from parley.core.accounts import AccountState
from parley.core.actors import OPERATOR
from parley.core.errors import RuleViolation
from parley.core.links.rules import LinkRule
from parley.core.moderation import AuditAction
from parley.core.moderation_records import AuditQuery
from parley.store.moderation import AuditLog

if TYPE_CHECKING:
    from parley.services.node import Node

    # What `add_subparsers` returns: argparse names its class only privately.
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from parley.api.logs import redact_tokens_in_server_logs, show_parley_logs

    redact_tokens_in_server_logs()  # before the first request can be logged
    show_parley_logs(settings.log_level)
    host = args.host or settings.host
    port = args.port or settings.port
    workers = getattr(args, "workers", None) or settings.workers
    if workers > 1:
        # Before the app is imported: a refusal (SQLite, no Redis) comes at once (0.8 s, was 1.8).
        from parley.workers import WorkersRefused, serve_workers

        try:
            return serve_workers(settings, host, port, workers)
        except WorkersRefused as refusal:
            print(f"parley serve: {refusal}", file=sys.stderr)
            return 2
    from parley.api.app import create_app
    from parley.api.server import NodeServer, server_config

    print(f"Parley serving on http://{host}:{port}  (database: {_db_label(settings)})")
    app = create_app(settings)
    server = NodeServer(server_config(app, settings, host=host, port=port), app)
    server.run()
    if not server.started:
        return 3  # as uvicorn.run says a start-up that failed
    return 0


def _db_label(settings: Settings) -> str:
    url = settings.effective_database_url
    return url.split("@")[-1] if "@" in url else url


async def _admin(args: argparse.Namespace, settings: Settings) -> int:
    """Admin commands work on the database directly, as the operator (the audit log records
    no account as actor). With Redis configured, running nodes hear of a suspension at once;
    otherwise each node's sweep enforces it within a second."""
    from parley.services.node import Node

    node = Node(settings)
    await node.db.migrate()
    await node.bus.start()
    try:
        return await _ADMIN[args.admin_command](args, node)
    finally:
        await node.bus.close()
        await node.limits.close()
        node.passwords.close()
        await node.db.close()


async def _create_user(args: argparse.Namespace, node: Node) -> int:
    account = await node.accounts.sign_up(
        args.handle,
        args.password,
        args.display_name or args.handle,
        is_admin=args.admin,
        by=OPERATOR,
    )
    role = "admin" if args.admin else "account"
    print(f"created {role} @{account.handle} ({account.id})")
    return 0


async def _suspend(args: argparse.Namespace, node: Node) -> int:
    done = await node.moderation.suspend(OPERATOR, args.handle, args.rule, args.reason, args.until)
    print(f"suspended @{done.account.handle}: {done.notice.notice.text}")
    return 0


async def _unsuspend(args: argparse.Namespace, node: Node) -> int:
    account = await node.moderation.unsuspend(OPERATOR, args.handle, args.reason)
    # A limit the suspension came over holds again (services/held_limits.py).
    still = ", still limited" if account.state is AccountState.LIMITED else ""
    print(f"unsuspended @{args.handle}{still}")
    return 0


async def _limit(args: argparse.Namespace, node: Node) -> int:
    done = await node.account_limits.limit(
        OPERATOR, args.handle, args.rule, args.reason, args.until
    )
    print(f"limited @{done.account.handle}: {done.notice.notice.text}")
    return 0


async def _unlimit(args: argparse.Namespace, node: Node) -> int:
    await node.account_limits.unlimit(OPERATOR, args.handle, args.reason)
    print(f"unlimited @{args.handle}")
    return 0


async def _feature(args: argparse.Namespace, node: Node) -> int:
    change = await node.features.set_feature(
        OPERATOR, args.name, args.state == "on", args.message or ""
    )
    ended = change.spaces_ended
    print(
        f"{change.switch.name}: {'on' if change.switch.enabled else 'off'}"
        + (f" ({ended} live spaces ended)" if ended else "")
    )
    return 0


async def _audit(args: argparse.Namespace, node: Node) -> int:
    async with node.db.read() as conn:
        entries = await AuditLog(conn).entries(AuditQuery(action=args.action, limit=args.limit))
    for e in entries:
        who = e.actor_id or "operator"
        print(
            f"{e.at.isoformat()}  {e.action:<14} {e.target_type}:{e.target_id}  "
            f"by {who}  rule={e.rule or '-'}  {e.reason or ''}"
        )
    return 0


async def _appeals(args: argparse.Namespace, node: Node) -> int:
    for queued in await node.moderation.appeals(OPERATOR, open_only=not args.all, limit=args.limit):
        appeal, notice = queued.appeal, queued.appealed.notice
        by = f"@{queued.actor_handle}" if queued.actor_handle else "the operator"
        state = appeal.decision.value if appeal.decision else "open"
        print(
            f"{appeal.id}  {state:<10} @{queued.handle or appeal.account_id}  "
            f"{notice.action.value} under {notice.rule} by {by}: {appeal.text}"
        )
    return 0


async def _decide_appeal(args: argparse.Namespace, node: Node) -> int:
    """The operator decides where no moderator may: on an instance whose only moderator took
    the action appealed (an appeal is a second look, never the first one's author's)."""
    await node.moderation.decide_appeal(OPERATOR, args.id, args.decision, args.reason)
    print(f"appeal {args.id}: {args.decision}")
    return 0


async def _link_rule(args: argparse.Namespace, node: Node) -> int:
    """Rules take effect on running nodes at once through Redis, else within one sweep."""
    if args.link_command == "add":
        added = await node.link_rules.add_rule(
            OPERATOR, args.match, args.pattern, args.verdict, args.rule, args.reason
        )
        print(f"added link rule {added.rule.id}: {_rule_line(added.rule)}")
    elif args.link_command == "list":
        for rule in await node.link_rules.list_rules(OPERATOR, limit=args.limit, offset=0):
            print(f"{rule.rule.id}  {_rule_line(rule.rule)}")
    else:
        removed = await node.link_rules.remove_rule(OPERATOR, args.id, args.reason)
        print(f"removed link rule {removed.rule.id}: {_rule_line(removed.rule)}")
    return 0


def _rule_line(rule: LinkRule) -> str:
    return (
        f"{rule.verdict.value:<5} {rule.match.value:<6} {rule.pattern}  "
        f"rule={rule.rule}  {rule.reason}"
    )


async def _nodes(_args: argparse.Namespace, node: Node) -> int:
    """The nodes advertising themselves now: every running node does, every third of a lease."""
    for info in await node.homing.nodes():
        print(f"{info.node_id}  {info.url}  load={info.load}  seen={info.seen_at.isoformat()}")
    return 0


async def _drain(args: argparse.Namespace, node: Node) -> int:
    """Order a running node, wherever it runs, to drain as SIGTERM would, through the bus;
    then wait until it is gone (a drained node withdraws its advertisement as it exits)."""
    from parley.bus.messages import DrainNode, publish

    if not node.settings.redis_url:
        print("error: drain orders travel on the bus: set PARLEY_REDIS_URL", file=sys.stderr)
        return 2
    running = {info.node_id: info for info in await node.homing.nodes()}
    target = running.get(args.node)
    if target is None:
        print(
            f"error: no node {args.node} is running (running: {', '.join(running) or 'none'})",
            file=sys.stderr,
        )
        return 2
    await publish(node.bus, DrainNode(target.node_id))
    print(f"node {target.node_id} ({target.url}) told to drain", flush=True)
    timeout = args.timeout if args.timeout is not None else node.settings.drain_seconds + 30
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        if target.node_id not in {info.node_id for info in await node.homing.nodes()}:
            print(f"node {target.node_id} drained")
            return 0
    print(f"error: node {target.node_id} still running after {timeout:.0f} s", file=sys.stderr)
    return 1


_ADMIN: dict[str, Callable[[argparse.Namespace, Node], Awaitable[int]]] = {
    "create-user": _create_user,
    "suspend": _suspend,
    "unsuspend": _unsuspend,
    "limit": _limit,
    "unlimit": _unlimit,
    "feature": _feature,
    "audit": _audit,
    "appeals": _appeals,
    "decide-appeal": _decide_appeal,
    "link-rule": _link_rule,
    "nodes": _nodes,
    "drain": _drain,
}


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from parley.demo import run_demo, start_tracker

    token = asyncio.run(run_demo(settings))
    tracker = start_tracker(settings, token)
    args.host = args.port = None
    try:
        return _serve(args, settings)
    finally:
        if tracker is not None:
            tracker.terminate()
            tracker.wait(timeout=10)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="parley", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the API and the web client")
    serve.add_argument("--host", help="address to listen on (PARLEY_HOST)")
    serve.add_argument("--port", type=int, help="port to listen on (PARLEY_PORT)")
    serve.add_argument(
        "--workers",
        type=int,
        help="worker processes sharing the port, one per core (PARLEY_WORKERS; needs "
        "PostgreSQL and Redis)",
    )

    admin = commands.add_parser("admin", help="administration").add_subparsers(
        dest="admin_command", required=True
    )
    create = admin.add_parser("create-user", help="create an account")
    create.add_argument("handle")
    create.add_argument("--password", required=True)
    create.add_argument("--display-name")
    create.add_argument("--admin", action="store_true", help="make it an admin account")

    _restriction(admin, "suspend", "suspend an account, whoever it is", "suspension")

    unsuspend = admin.add_parser("unsuspend", help="lift a suspension")
    unsuspend.add_argument("handle")
    unsuspend.add_argument("--reason", required=True)

    _restriction(
        admin, "limit", "limit an account to listening and reading, whoever it is", "limit"
    )

    unlimit = admin.add_parser("unlimit", help="lift a limit")
    unlimit.add_argument("handle")
    unlimit.add_argument("--reason", required=True)

    feature = admin.add_parser("feature", help="switch a feature on or off for everyone")
    feature.add_argument("state", choices=["on", "off"])
    feature.add_argument("name", help="spaces or spaces.create")
    feature.add_argument("--message", help="the public status message")

    audit = admin.add_parser("audit", help="the audit log, newest first")
    audit.add_argument(
        "--action", type=AuditAction, choices=list(AuditAction), help="only this action"
    )
    audit.add_argument("--limit", type=_how_many, default=50)

    appeals = admin.add_parser("appeals", help="appeals waiting for a decision, oldest first")
    appeals.add_argument("--all", action="store_true", help="decided ones too")
    appeals.add_argument("--limit", type=_how_many, default=50)
    decide = admin.add_parser("decide-appeal", help="uphold or overturn an appeal")
    decide.add_argument("id", help="the appeal's id (parley admin appeals)")
    decide.add_argument("decision", choices=["upheld", "overturned"])
    decide.add_argument("--reason", required=True, help="what the account is told")

    link_rule = admin.add_parser("link-rule", help="warn about or block links").add_subparsers(
        dest="link_command", required=True
    )
    add_rule = link_rule.add_parser("add", help="add a link rule")
    add_rule.add_argument("--match", required=True, choices=["host", "prefix", "url"])
    add_rule.add_argument("--pattern", required=True, help="e.g. evil.example, or a URL")
    add_rule.add_argument("--verdict", required=True, choices=["warn", "block"])
    add_rule.add_argument("--rule", required=True, help="the policy, e.g. malware")
    add_rule.add_argument("--reason", required=True, help="what users are told")
    list_rules = link_rule.add_parser("list", help="link rules, newest first")
    list_rules.add_argument("--limit", type=_how_many, default=100)
    remove_rule = link_rule.add_parser("rm", help="remove a link rule")
    remove_rule.add_argument("id")
    remove_rule.add_argument("--reason", help="recorded in the audit log")

    admin.add_parser("nodes", help="the running nodes of this deployment")
    drain = admin.add_parser(
        "drain", help="stop a running node as SIGTERM does: its spaces and clients move on"
    )
    drain.add_argument("node", help="the node's id (parley admin nodes)")
    drain.add_argument(
        "--timeout",
        type=float,
        help="seconds to wait for it to be gone (default: PARLEY_DRAIN_SECONDS + 30)",
    )

    commands.add_parser("demo", help="serve with a few accounts and a live space to look at")
    return parser


def _restriction(admin: Subparsers, name: str, help: str, what: str) -> None:
    """`suspend` and `limit` take the same: whom, under which rule, why, until when."""
    parser = admin.add_parser(name, help=help)
    parser.add_argument("handle")
    parser.add_argument("--rule", required=True, help="the rule broken, e.g. spam")
    parser.add_argument("--reason", required=True, help="what the account is told")
    parser.add_argument(
        "--until", type=_instant, help=f"end of the {what} (ISO 8601 with time zone)"
    )


def _instant(text: str) -> datetime:
    """An --until as argparse reads it: a malformed one is a usage error, said before any work
    (a time without a zone is refused by the services, as through the API)."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None


def _how_many(text: str) -> int:
    """A --limit: a count of lines to list, at least one (SQLite takes -1 for "all", and
    PostgreSQL refuses it: neither is what was meant)."""
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"not a count of at least 1: {text!r}")
    return count


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings()
    try:
        if args.command == "serve":
            return _serve(args, settings)
        if args.command == "admin":
            return asyncio.run(_admin(args, settings))
        if args.command == "demo":
            return _demo(args, settings)
    except RuleViolation as refusal:
        print(f"error: {refusal.message} ({refusal.code})", file=sys.stderr)
        return 2
    except ValueError as bad:  # input the services could not read
        print(f"error: {bad}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":
    sys.exit(main())
