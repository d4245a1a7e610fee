"""Schemathesis against a live server's /openapi.json, on SQLite and on PostgreSQL: generated valid
and invalid requests to every operation get no 5xx, every 4xx is a problem document, and every
2xx body is what the schema says."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error, response_schema_conformance
from schemathesis.core.failures import Failure

from parley.api.app import create_app
from tests.support.clients import PASSWORD, TLS, http_client
from tests.support.problems import problem_defect
from tests.support.servers import ServerThread, serve_on

EXAMPLES_PER_OPERATION = 20

# Schemathesis' own settings; Hypothesis' are on the test. No example database: a run neither
# reads nor writes .hypothesis/.
CONFIG = {
    "generation": {
        "mode": "all",  # valid and invalid input
        "max-examples": EXAMPLES_PER_OPERATION,
        "allow-x00": True,  # NUL in strings: the classic PostgreSQL 500
        "database": "none",
        "with-security-parameters": False,
    },
    "phases": {"stateful": {"enabled": False}},
}


@dataclass
class Live:
    """A running server with real things in it, for generated requests to hit now and then."""

    server: ServerThread
    token: str
    handles: list[str]
    space_ids: list[str]

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def fresh_token(self) -> str:
        """Another session of the fuzzing account: for an operation that ends its session."""
        body = {"handle": self.handles[0], "password": PASSWORD}
        response = httpx.post(f"{self.base_url}/api/v1/sessions", json=body, timeout=10, verify=TLS)
        assert response.status_code == 201, response.text
        return str(response.json()["token"])


_test_number = itertools.count()


def _populate(server: ServerThread) -> Live:
    """Two new accounts with a live space each, one joined to the other's, and a post: each
    operation is fuzzed in a world of its own, whatever the operations before it did."""
    n = next(_test_number)
    fuzzer, other = f"fuzzer{n}", f"other{n}"
    with httpx.Client(base_url=f"{server.base_url}/api/v1", timeout=10, verify=TLS) as http:
        tokens = {}
        for handle in (fuzzer, other):
            body = {"handle": handle, "password": PASSWORD, "display_name": handle.title()}
            assert http.post("/accounts", json=body).status_code == 201
            signed_in = http.post("/sessions", json={"handle": handle, "password": PASSWORD})
            assert signed_in.status_code == 201, signed_in.text
            tokens[handle] = signed_in.json()["token"]
        as_fuzzer = {"Authorization": f"Bearer {tokens[fuzzer]}"}
        as_other = {"Authorization": f"Bearer {tokens[other]}"}
        live = http.post("/spaces", json={"title": "Fuzzed live"}, headers=as_fuzzer)
        theirs = http.post("/spaces", json={"title": "Someone else's"}, headers=as_other)
        assert live.status_code == theirs.status_code == 201, (live.text, theirs.text)
        joined = http.post(f"/spaces/{theirs.json()['id']}/join", headers=as_fuzzer)
        assert joined.status_code == 200, joined.text
        posted = http.post("/posts", json={"text": "Hello"}, headers=as_other)
        assert posted.status_code == 201, posted.text
    return Live(
        server,
        tokens[fuzzer],
        handles=[fuzzer, other],
        space_ids=[live.json()["id"], theirs.json()["id"]],
    )


# One server per database for the whole module (per pytest-xdist worker), not one per operation:
# starting a server, a PostgreSQL database and generating the served /openapi.json took two
# seconds a test, 186 times, three quarters of this module's time. Each test still gets accounts,
# spaces and a post of its own (`_populate`).
@pytest_asyncio.fixture(
    scope="module",
    loop_scope="module",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
async def fuzzed_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServerThread]:
    async with serve_on(request.param, tmp_path_factory.mktemp("fuzzed")) as server:
        # What is fuzzed is what the live server publishes.
        async with http_client(timeout=10) as http:
            served = (await http.get(f"{server.base_url}/openapi.json")).json()
        assert served == OPENAPI, "the live server's /openapi.json differs from the app's"
        yield server


@pytest.fixture
def live(fuzzed_server: ServerThread) -> Live:
    return _populate(fuzzed_server)


# The schema is needed when tests are collected (one test per operation), before any server runs;
# the `live` fixture checks it is the one the running server serves. (The fixture-based lazy
# loader, `schemathesis.pytest.from_fixture`, does not work with this pytest version.)
OPENAPI = create_app().openapi()
schema = schemathesis.openapi.from_dict(OPENAPI, config=schemathesis.Config.from_dict(CONFIG))


class NotAProblemDocument(Failure):
    kind_title = "4xx response is not a problem document with a code"


def problem_documents(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx is an RFC 9457 problem document with a machine `code`."""
    status = response.status_code
    if 400 <= status < 500:
        content_type = response.headers.get("content-type", [None])[0]
        defect = problem_defect(status, content_type, response.content)
        if defect is not None:
            raise NotAProblemDocument(operation=case.operation.label, message=f"{status}: {defect}")
    return None


def successes_as_described(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 2xx body matches its response model. (Refusals are checked above instead: they are
    problem documents, not FastAPI's own validation error the schema names for 422.)"""
    if 200 <= response.status_code < 300:
        valid: bool | None = response_schema_conformance(ctx, response, case)
        return valid
    return None


# The custom checks, registered with Schemathesis so that their failures are reported (and
# shrunk) like the built-in ones; they run only where a test passes them in `checks`.
problem_documents = schemathesis.check(problem_documents)
successes_as_described = schemathesis.check(successes_as_described)

CHECKS: list[Any] = [not_a_server_error, problem_documents, successes_as_described]


@schema.parametrize()
@schema.given(real=st.booleans())
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors_and_every_refusal_is_a_problem(
    case: schemathesis.Case[Any], real: bool, live: Live
) -> None:
    if real:
        # Now and then, aim at what exists: the rules behind the lookups get exercised too.
        params = case.path_parameters or {}
        if "space_id" in params:
            params["space_id"] = live.space_ids[len(str(params["space_id"])) % 2]
        if "handle" in params:
            params["handle"] = live.handles[len(str(params["handle"])) % 2]
    token = live.token
    if case.operation.label == "DELETE /api/v1/sessions/current":
        # Signing out the shared session would turn every later request into a 401.
        token = live.fresh_token()
    case.call_and_validate(
        base_url=live.base_url, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS
    )
