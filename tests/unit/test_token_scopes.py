"""The route-to-scope table names only real routes, and a request's route is read back right."""

from __future__ import annotations

from parley.api.app import create_app
from parley.config import Settings
from parley.core.tokens import ROUTE_SCOPES, Scope, required_scope, route_template


def test_every_scoped_route_exists() -> None:
    paths = create_app(Settings(api_docs=False)).openapi()["paths"]
    for method, path in ROUTE_SCOPES:
        if method == "WS":  # WebSockets are not in OpenAPI
            assert path == "/spaces/{space_id}/events"
            continue
        # HEAD routes stay out of the schema; their GET twin is in it.
        documented = "get" if method == "HEAD" else method.lower()
        assert documented in paths.get(f"/api/v1{path}", {}), (method, path)


def test_a_route_is_read_back_from_its_path_and_parameters() -> None:
    template = route_template(
        "/api/v1/spaces/ab12/speakers/ada", {"space_id": "ab12", "handle": "ada"}
    )
    assert template == "/spaces/{space_id}/speakers/{handle}"
    assert required_scope("post", template) is Scope.SPACES_HOST


def test_a_parameter_equal_to_a_literal_segment_is_refused_not_widened() -> None:
    template = route_template("/api/v1/accounts/posts/posts", {"handle": "posts"})
    assert required_scope("GET", template) is None
