"""deploy/: the compose file names settings Parley reads, its nodes are the ones nginx balances
over, and nginx accepts the shipped configurations (`nginx -t`). There is no Docker here: the
compose file is checked as data; the integration tests run the nginx file itself
(tests/integration/test_relay.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench.nginx import check
from parley.config import Settings
from tests.support.gateway import node_names, site_config

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
NODES = ("node-a", "node-b", "node-c")
# What the compose file asks of its .env, filled in as an operator would.
DOTENV = {
    "POSTGRES_PASSWORD": "pw",
    "PARLEY_NODE_SECRET": "a long node secret",
    "TURN_SECRET": "a long turn secret",
    "PUBLIC_HOST": "parley.example.org",
}


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def _interpolated(value: str) -> str:
    """Compose's `${NAME:?message}` and `${NAME}`, from DOTENV."""
    return re.sub(r"\$\{(\w+)(?::\?[^}]*)?\}", lambda m: DOTENV[m[1]], value)


def _node_env(name: str) -> dict[str, str]:
    env = _compose()["services"][name]["environment"]
    return {key: _interpolated(str(value)) for key, value in env.items()}


def test_the_deployment_has_its_services() -> None:
    services = _compose()["services"]
    assert set(services) == {"postgres", "redis", *NODES, "nginx", "coturn"}
    for name in NODES:
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
        # A drained node needs longer than compose's default 10 s before it is killed.
        grace = int(services[name]["stop_grace_period"].removesuffix("s"))
        settings = Settings.model_validate(_settings_of(_node_env(name)))
        assert grace > settings.drain_seconds


def _settings_of(env: dict[str, str]) -> dict[str, str]:
    """The environment as Settings' keyword arguments; every name must be one Parley reads."""
    fields = set(Settings.model_fields)
    out = {}
    for key, value in env.items():
        assert key.startswith("PARLEY_"), key
        field = key.removeprefix("PARLEY_").lower()
        assert field in fields, f"{key} is no setting of Parley's"
        out[field] = value
    return out


@pytest.mark.parametrize("name", NODES)
def test_each_node_is_configured_as_a_node_of_one_deployment(name: str) -> None:
    settings = Settings.model_validate(
        _settings_of(_node_env(name))
    )  # raises on a value Parley refuses
    assert settings.effective_database_url.startswith("postgresql+asyncpg://")
    assert settings.redis_url is not None
    assert settings.node_secret is not None
    assert settings.node_id is not None
    # Other nodes reach it where it listens.
    assert settings.effective_node_url == f"http://{settings.host}:{settings.port}"
    assert settings.turn_urls == ["turn:parley.example.org:3478?transport=udp"]


def test_nodes_differ_only_in_who_they_are() -> None:
    envs = [_node_env(name) for name in NODES]
    own = {"PARLEY_NODE_ID", "PARLEY_PORT", "PARLEY_NODE_URL"}
    for key in own:
        assert len({env[key] for env in envs}) == len(NODES), key
    shared = [{k: v for k, v in env.items() if k not in own} for env in envs]
    assert all(s == shared[0] for s in shared)
    services = _compose()["services"]
    volumes = [services[name]["volumes"][0].split(":")[0] for name in NODES]
    assert len(set(volumes)) == len(NODES)  # each its own data directory


def test_every_node_keeps_recordings_in_one_shared_directory() -> None:
    """Any node serves a replay, and a recording's segments are written by each home its space
    had: with a directory of its own, a node would answer 404 for the others' segments."""
    services = _compose()["services"]
    for name in NODES:
        settings = Settings.model_validate(_settings_of(_node_env(name)))
        mount = f"recordings:{settings.effective_recordings_dir}"
        assert mount in services[name]["volumes"], name
    assert "recordings" in _compose()["volumes"]
    # The image makes that directory its user's: a volume mounted where the image has nothing
    # belongs to root, and the node could not write a segment.
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    made = re.search(r"mkdir -p ([^\n&]+)", dockerfile)
    owned = re.search(r"chown parley ([^\n&]+)", dockerfile)
    assert made is not None and owned is not None
    directory = str(settings.effective_recordings_dir)
    assert directory in made[1].split() and directory in owned[1].split()


def test_nginx_balances_over_exactly_the_compose_nodes() -> None:
    nodes = {f"{env['PARLEY_HOST']}:{env['PARLEY_PORT']}" for env in map(_node_env, NODES)}
    site = (DEPLOY / "nginx" / "parley-nodes.conf").read_text()
    upstreams = node_names(site)
    assert set(upstreams) == {"parley_nodes", "parley_media"}
    for servers in upstreams.values():
        assert sorted(servers) == sorted(nodes)
    # HLS is tried on every node in turn (only the space's home has it).
    assert f"proxy_next_upstream_tries {len(NODES)};" in site
    mount = _compose()["services"]["nginx"]["volumes"][0].split(":")
    assert (DEPLOY / mount[0]).resolve() == (DEPLOY / "nginx" / "parley-nodes.conf").resolve()
    assert mount[1] == "/etc/nginx/conf.d/default.conf"  # inside the image's http {} block


def test_the_turn_secret_is_the_nodes_and_coturns() -> None:
    command = [_interpolated(part) for part in _compose()["services"]["coturn"]["command"]]
    assert f"--static-auth-secret={DOTENV['TURN_SECRET']}" in command
    assert "--use-auth-secret" in command
    assert _node_env("node-a")["PARLEY_TURN_SECRET"] == DOTENV["TURN_SECRET"]


@pytest.mark.nginx  # without it, the run stops before any test and says so (tests/conftest.py)
@pytest.mark.parametrize("name", ["parley-nodes.conf", "parley.conf"])
def test_nginx_accepts_the_shipped_configuration(name: str, tmp_path: Path) -> None:
    # As shipped, but listening on a free port and caching under tmp_path: `nginx -t` binds
    # nothing, but it opens the cache directory.
    site = (DEPLOY / "nginx" / name).read_text()
    site = site.replace("listen 80;", "listen 127.0.0.1:18080;")
    site = site.replace("/var/cache/nginx/parley", str(tmp_path / "cache"))
    checked = check(site, tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


@pytest.mark.nginx
def test_the_harness_rewrites_only_the_marked_lines(tmp_path: Path) -> None:
    site = site_config(
        {"a": "127.0.0.1:1", "b": "127.0.0.1:2", "c": "127.0.0.1:3"}, 4, tmp_path / "cache"
    )
    for servers in node_names(site).values():
        assert servers == ["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"]
    shipped = (DEPLOY / "nginx" / "parley-nodes.conf").read_text()
    assert len(site.splitlines()) == len(shipped.splitlines())
    assert check(site, tmp_path).returncode == 0


@pytest.mark.parametrize("name", ["parley-nodes.conf", "parley.conf"])
def test_nginx_waits_on_an_event_socket_past_the_nodes_pings(name: str) -> None:
    """Long enough that a live node's pings always come in time, short enough that the sockets
    of a node gone silent are closed within a minute or so."""
    site = (DEPLOY / "nginx" / name).read_text()
    (seconds,) = re.findall(r"proxy_read_timeout (\d+)s;  # (?:bench: )?sockets", site)
    assert 2 * Settings().ws_ping_seconds < int(seconds) <= 120
