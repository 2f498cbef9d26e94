"""The OpenAPI 3 schema at /api/schema/ validates and lists every API endpoint; /api/docs/ renders."""

import re

import pytest
import yaml
from django.urls import URLPattern, URLResolver, get_resolver
from openapi_spec_validator import validate


def _api_routes() -> set[str]:
    """Every route under /api/ from Django's URL resolver, written the OpenAPI way ({param})."""
    found: set[str] = set()

    def walk(patterns, prefix: str) -> None:
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, route)
            elif isinstance(p, URLPattern):
                found.add("/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route))

    walk(get_resolver().url_patterns, "")
    return {r for r in found if r.startswith("/api/") and r not in ("/api/schema/", "/api/docs/")}


@pytest.fixture
def schema(logged_in_client):
    response = logged_in_client.get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


@pytest.mark.django_db
def test_the_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate(schema)


@pytest.mark.django_db
def test_the_schema_lists_every_api_endpoint(schema):
    routes = _api_routes()
    assert len(routes) > 20
    missing = routes - set(schema["paths"])
    assert not missing, f"API routes missing from the schema: {sorted(missing)}"


@pytest.mark.django_db
def test_the_schema_documents_token_auth_and_the_teams_api(schema):
    assert "tokenAuth" in schema["components"]["securitySchemes"]
    assert {"get", "post"} <= set(schema["paths"]["/api/projects/"])
    assert {"get", "patch", "delete"} <= set(schema["paths"]["/api/projects/{project_id}/members/{user_id}/"])
    assert "post" in schema["paths"]["/api/projects/{project_id}/assign"]


@pytest.mark.django_db
def test_the_schema_as_json_for_scripts(logged_in_client):
    response = logged_in_client.get("/api/schema/?format=json")
    assert response.status_code == 200 and response.json()["info"]["title"] == "Singscope API"


@pytest.mark.django_db
def test_the_docs_page_renders_for_a_logged_in_user(logged_in_client):
    response = logged_in_client.get("/api/docs/")
    assert response.status_code == 200
    assert b"/api/schema/" in response.content and b"swagger" in response.content.lower()
