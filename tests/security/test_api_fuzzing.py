"""Schema-driven fuzzing: schemathesis takes the schema /api/schema/ serves (generated at collection
time, one test per operation; the first test checks the live server serves that very schema) and sends
every operation generated requests -- valid ones and ones that break the schema -- to a live server
(pytest-django's live_server, the test database) as a signed-in project admin (token), half of them on
real objects.

Every answer must: not be a 5xx; be documented (status and content type) and match its schema; and,
for a 4xx, be the API's JSON error {"error": <sentence>, "code": <code>} (the schema documents it).
Bounded: FUZZ_EXAMPLES examples per operation and mode (default 12), a few minutes in all."""

from __future__ import annotations

import json
import os

import pytest
import requests
import schemathesis
from factories import (
    JobFactory,
    MembershipFactory,
    ModelVersionFactory,
    ProjectFactory,
    ReportFactory,
    SungSongFactory,
)
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))


@pytest.fixture
def world(live_server, make_user):
    """A project with songs, a model, a report, jobs and two members; another team's project beside it."""
    from accounts.models import Role
    from rest_framework.authtoken.models import Token

    admin, annotator, stranger = make_user("fuzz-admin"), make_user("fuzz-annotator"), make_user("stranger")
    project = ProjectFactory(name="Fuzzed", created_by=admin)
    MembershipFactory(project=project, user=annotator, role=Role.ANNOTATOR)
    songs = [SungSongFactory(project=project, title=f"song {i}", created_by=admin, seed=i) for i in range(3)]
    model = ModelVersionFactory(project=project, name="fuzz-model", kind="target", checkpoint="m/none.pt")
    report = ReportFactory(project=project, model_version=model, name="fuzz report",
                           per_song=[{"song": songs[0].pk, "title": "song 0"}], pooled={"f1": 0.5})
    job = JobFactory(project=project, kind="detect", state="failed", params={"song_ids": [songs[0].pk]},
                     created_by=admin, error="An earlier failure.")
    theirs = ProjectFactory(name="Not yours", created_by=stranger)
    SungSongFactory(project=theirs, title="their song", created_by=stranger, seed=9)
    ids = {"project_id": project.pk, "song_id": songs[1].pk, "job_id": job.pk, "model_id": model.pk,
           "report_id": report.pk, "revision_id": songs[1].current_revision_id, "user_id": annotator.pk}
    return {"url": live_server.url, "token": Token.objects.create(user=admin).key, "ids": ids}


def _served_schema() -> dict:
    """What GET /api/schema/?format=json answers, built the way the view builds it."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


REAL_IDS: dict[str, int] = {}  # the current test's objects, for the hook below


@pytest.fixture(autouse=True)
def _real_ids(world):
    REAL_IDS.clear()
    REAL_IDS.update(world["ids"])
    yield
    REAL_IDS.clear()


schema = schemathesis.openapi.from_dict(
    _served_schema(), config=schemathesis.Config.from_dict({"generation": {"max-examples": EXAMPLES, "mode": "all"}}))


@schema.hook
def map_path_parameters(context, path_parameters):
    # Half the ids name real objects (an even generated number, or any non-number, is replaced).
    if not path_parameters:
        return path_parameters
    for key, real in REAL_IDS.items():
        value = path_parameters.get(key)
        if key in path_parameters and (not isinstance(value, int) or value % 2 == 0):
            path_parameters[key] = real
    return path_parameters


def test_the_fuzzed_schema_is_the_one_the_server_serves(world):
    headers = {"Authorization": f"Token {world['token']}"}
    served = requests.get(f"{world['url']}/api/schema/?format=json", headers=headers, timeout=60)
    assert served.status_code == 200 and served.json() == _served_schema()


def json_error_body(ctx, response, case):
    """A 4xx is the API's JSON error: a non-empty sentence (no traceback) and a code."""
    if not 400 <= response.status_code < 500:
        return None
    assert response.headers.get("content-type", [""])[0].startswith("application/json"), response.headers
    body = json.loads(response.content)
    assert isinstance(body.get("error"), str) and body["error"].strip(), body
    assert isinstance(body.get("code"), str) and body["code"], body
    assert "Traceback" not in body["error"], body
    return True


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
          phases=[Phase.explicit, Phase.generate], derandomize=True)
def test_every_operation_answers_as_its_schema_says(case, world):
    response = case.call(base_url=world["url"], headers={"Authorization": f"Token {world['token']}"}, timeout=60)
    case.validate_response(response, checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                                             response_schema_conformance], additional_checks=[json_error_body])
