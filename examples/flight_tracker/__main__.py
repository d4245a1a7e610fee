"""python -m examples.flight_tracker: see README.md."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx

from examples.flight_tracker import adsb, airports
from examples.flight_tracker.parley_client import Held, ParleyClient, ParleyError, Published
from examples.flight_tracker.tracker import track

RECORDING = Path(__file__).parent / "data" / "recorded-n628ts.jsonl"


def parse_watch(items: Sequence[str]) -> dict[str, str]:
    """`a835af=N628TS` or `a835af` (then named by the feed's registration)."""
    watched = {}
    for item in items:
        for part in item.split(","):
            hex_, _, name = part.strip().partition("=")
            if len(hex_) != 6 or any(c not in "0123456789abcdefABCDEF" for c in hex_):
                raise SystemExit(f"not an ICAO 24-bit address (six hex digits): {hex_!r}")
            watched[hex_.lower()] = name.strip()
    return watched


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m examples.flight_tracker", description=__doc__)
    parser.add_argument("--server", default=os.environ.get("PARLEY_URL", "http://127.0.0.1:8000"))
    parser.add_argument(
        "--token", default=os.environ.get("PARLEY_TOKEN"), help="API token (or PARLEY_TOKEN)"
    )
    parser.add_argument(
        "--watch", action="append", required=True, help="hex[=name], repeatable or comma-separated"
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--url", help="aircraft.json to poll, e.g. http://pi/tar1090/data/aircraft.json"
    )
    source.add_argument("--recorded", type=Path, help=f"a recording (default: {RECORDING.name})")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between polls")
    parser.add_argument(
        "--speed", type=float, default=0.0, help="replay N times faster (0: at once)"
    )
    parser.add_argument(
        "--as-if-now", action="store_true", help="shift the recording so it ends now"
    )
    parser.add_argument("--dry-run", action="store_true", help="print, do not post")
    parser.add_argument(
        "--wait-for-server", type=float, default=0.0, help="seconds to wait for the server to be up"
    )
    return parser


def _snapshots(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    if args.url:
        return adsb.polled(args.url, interval=args.interval)
    path = args.recorded or RECORDING
    shift = adsb.shift_to_end_now(path) if args.as_if_now else 0.0
    return adsb.recorded(path, speed=args.speed, shift_seconds=shift)


def _wait_for(server: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{server.rstrip('/')}/healthz", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"no Parley server at {server}")
        time.sleep(0.2)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    watched = parse_watch(args.watch)
    client = None
    if not args.dry_run:
        if not args.token:
            raise SystemExit("an API token is needed (--token or PARLEY_TOKEN), or --dry-run")
        if args.wait_for_server:
            _wait_for(args.server, args.wait_for_server)
        client = ParleyClient(args.server, args.token)
        policy = client.location_policy()
        if policy.delay:
            print(
                f"location policy {policy.rule}: places are published {policy.delay} after "
                "they were seen; posts will be held until then",
                flush=True,
            )
    try:
        for report in track(_snapshots(args), watched, airports.load(), client):
            match report.outcome:
                case Held(post_id, publish_at, rule):
                    print(
                        f"held ({rule}) until {publish_at.isoformat()}: {report.text} [{post_id}]",
                        flush=True,
                    )
                case Published(post_id):
                    print(f"posted: {report.text} [{post_id}]", flush=True)
                case None:
                    print(report.text, flush=True)
    except ParleyError as refused:
        print(f"flight_tracker: Parley refused: {refused}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        if client is not None:
            client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
