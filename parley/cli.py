"""`parley serve`, `parley admin ...`, `parley demo`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from parley.config import Settings
from parley.core.errors import RuleViolation


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from parley.api.app import create_app

    host = args.host or settings.host
    port = args.port or settings.port
    print(f"Parley serving on http://{host}:{port}  (database: {_db_label(settings)})")
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_level="info",
        ws="websockets-sansio",
        ws_per_message_deflate=False,
    )
    return 0


def _db_label(settings: Settings) -> str:
    url = settings.effective_database_url
    return url.split("@")[-1] if "@" in url else url


async def _create_user(args: argparse.Namespace, settings: Settings) -> int:
    from parley.services.node import Node

    node = Node(settings)
    await node.db.migrate()
    try:
        account = await node.accounts.sign_up(
            args.handle, args.password, args.display_name or args.handle, is_admin=args.admin
        )
    finally:
        await node.db.close()
    role = "admin" if args.admin else "account"
    print(f"created {role} @{account.handle} ({account.id})")
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from parley.demo import run_demo

    asyncio.run(run_demo(settings))
    args.host = args.port = None
    return _serve(args, settings)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="parley", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the API and the web client")
    serve.add_argument("--host", help="address to listen on (PARLEY_HOST)")
    serve.add_argument("--port", type=int, help="port to listen on (PARLEY_PORT)")

    admin = commands.add_parser("admin", help="administration").add_subparsers(
        dest="admin_command", required=True
    )
    create = admin.add_parser("create-user", help="create an account")
    create.add_argument("handle")
    create.add_argument("--password", required=True)
    create.add_argument("--display-name")
    create.add_argument("--admin", action="store_true", help="make it an admin account")

    commands.add_parser("demo", help="serve with a few accounts and a live space to look at")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings()
    try:
        if args.command == "serve":
            return _serve(args, settings)
        if args.command == "admin" and args.admin_command == "create-user":
            return asyncio.run(_create_user(args, settings))
        if args.command == "demo":
            return _demo(args, settings)
    except RuleViolation as refusal:
        print(f"error: {refusal.message} ({refusal.code})", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":
    sys.exit(main())
