"""What `parley admin` reads from its command line before any work (the commands themselves run
against a node in tests/integration/test_cli.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from parley.cli import build_parser


@pytest.mark.parametrize("command", ["suspend", "limit"])
def test_a_restriction_reads_its_end_as_a_time(command: str) -> None:
    until = ["--until", "2027-01-02T03:04:05+00:00"]
    args = build_parser().parse_args(
        ["admin", command, "fan", "--rule", "spam", "--reason", "Scam links", *until]
    )
    assert (args.handle, args.rule, args.reason) == ("fan", "spam", "Scam links")
    assert args.until == datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize("command", ["suspend", "limit"])
def test_a_malformed_end_is_a_usage_error(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(
            ["admin", command, "fan", "--rule", "spam", "--reason", "x", "--until", "soon"]
        )
    assert exited.value.code == 2
    assert "--until: not an ISO 8601 time: 'soon'" in capsys.readouterr().err
