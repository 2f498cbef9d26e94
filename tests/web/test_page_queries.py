"""Pages read their query strings through one helper (common.validation.page_query): a bad value is a
400 page with a sentence naming the parameter, never a 500 nor a silently different page; good
values (and none) still show the page; a stranger still gets 404 first."""

import html as html_lib

import pytest

pytestmark = pytest.mark.django_db

BAD = [
    ("assignments/?assignee=someone", "assignee"),
    ("assignments/?assignee=%C2%B2", "assignee"),  # "²": isdigit() but not an id
    ("assignments/?order=size", "order must be one of priority, title"),
    ("assignments/?page=0", "page must be a page number"),
    ("activity/?page=two", "page must be a page number"),
    ("reports/compare?ids=1,abc", "ids"),
    ("reports/compare?ids=1&with=" + "9" * 25, "with"),
    ("reports/compare/plots/roc.svg?ids=x", "ids"),
]

GOOD = ["assignments/", "assignments/?assignee=none&order=title&page=last", "assignments/?assignee=7&page=99",
        "activity/", "activity/?verb=song&page=3", "reports/compare", "reports/compare?ids=5"]


@pytest.mark.parametrize(("path", "sentence"), BAD, ids=[p for p, _ in BAD])
def test_a_bad_query_value_is_a_readable_400_page(logged_in_client, project, path, sentence):
    r = logged_in_client.get(f"/projects/{project.pk}/{path}")
    assert r.status_code == 400 and r["Content-Type"].startswith("text/html")
    text = html_lib.unescape(r.content.decode())
    assert sentence in text and "That address has a value this page cannot use" in text


@pytest.mark.parametrize("path", GOOD)
def test_good_or_absent_query_values_show_the_page(logged_in_client, project, path):
    assert logged_in_client.get(f"/projects/{project.pk}/{path}").status_code == 200


def test_a_stranger_gets_404_before_any_query_check(client, project, make_user):
    client.force_login(make_user("stranger"))
    assert client.get(f"/projects/{project.pk}/assignments/?order=size").status_code == 404
