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
    assert response.status_code == 200 and b"swagger" in response.content.lower()
    script = logged_in_client.get("/api/docs/?script=")  # Swagger UI's start-up code, a file (CSP: no inline script)
    assert script.status_code == 200 and b"/api/schema/" in script.content


@pytest.mark.django_db
def test_the_schema_and_docs_are_for_signed_in_members_only(client):
    for url in ("/api/schema/", "/api/docs/", "/api/docs/?script="):
        response = client.get(url)
        assert response.status_code in (401, 403), url
        assert set(response.json()) == {"error", "code"}


@pytest.mark.django_db
def test_the_schema_says_what_the_api_answers(schema):
    ops = schema["paths"]
    review = ops["/api/songs/{song_id}/annotation/review"]["post"]["responses"]
    for status in ("200", "201"):
        ref = review[status]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        assert set(schema["components"]["schemas"][ref]["properties"]) == {"revision", "comment"}
    jobs = ops["/api/jobs/"]
    assert set(jobs["get"]["responses"]) == {"200", "4XX"} and set(jobs["post"]["responses"]) == {"202", "4XX"}
    page = jobs["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert {"count", "results"} <= set(schema["components"]["schemas"][page]["properties"])  # a paginated list
    assert ops["/api/songs/bulk"]["post"]["responses"]["202"]  # action=detect queues a job
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["error", "code"]
    assert all("4XX" in op["responses"] for path in ops.values() for op in path.values())


@pytest.mark.django_db
def test_the_training_mode_lists_every_mode_and_the_default(schema):
    from detector.adapt import DEFAULT_RECIPE
    from detector.config import ALL_TRANSFER_MODES

    body = schema["components"]["schemas"]["JobCreateRequest"]["properties"]
    mode = body["mode"]
    enum = schema["components"]["schemas"][mode["allOf"][0]["$ref"].rsplit("/", 1)[1]]["enum"] if "allOf" in mode \
        else mode.get("enum")
    assert set(enum) == set(ALL_TRANSFER_MODES) and "finetune:full" in enum
    assert mode["default"] == DEFAULT_RECIPE.mode == "finetune:full"
    assert all(m in mode["description"] for m in ALL_TRANSFER_MODES)
    assert body["epochs"]["minimum"] == 1 and body["project"]["maximum"] == 2**63 - 1
