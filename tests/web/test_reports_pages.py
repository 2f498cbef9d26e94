"""Evaluation reports end to end in Django: hand-computed numbers on the page and in the CSV, frozen
references, comparison, evaluate jobs, and access control."""

import csv
import io
import re

import pytest
from factories import JobFactory, ProjectFactory, RevisionFactory, SongFactory, as_segments, member
from reports_support import (
    ALPHA_REF,
    ReportModelFactory,
    ReportPredictionFactory,
    exact_on_alpha_model,
    hand_made_project,
)

pytestmark = pytest.mark.django_db


def cells(html: str, song_id: int) -> list[str]:
    """Text of the cells of the per-song table row of a song."""
    row = re.search(rf'<tr data-song="{song_id}">(.*?)</tr>', html, re.S).group(1)
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def pooled_cells(html: str) -> list[str]:
    row = re.search(r'<tr class="pooled">(.*?)</tr>', html, re.S).group(1)
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]


@pytest.fixture
def evaluated(project, user):
    from reports.services import report_create

    model, alpha, beta = hand_made_project(project=project, user=user)
    report = report_create(project=project, model_version=model, created_by=user)
    return report, model, alpha, beta


def test_report_freezes_the_verified_revisions_and_the_hand_computed_counts(evaluated):
    report, model, alpha, beta = evaluated
    assert [s["title"] for s in report.songs] == ["Alpha", "Beta"]
    assert [s["revision"] for s in report.songs] == [alpha.current_revision_id, beta.current_revision_id]
    by_title = {row["title"]: row for row in report.per_song}
    a, b = by_title["Alpha"], by_title["Beta"]
    assert (a["tp"], a["fp"], a["tn"], a["fn"]) == (380, 100, 500, 20)
    assert (b["tp"], b["fp"], b["tn"], b["fn"]) == (200, 100, 100, 100)
    assert (a["vocal_frames"], a["nonvocal_frames"], b["vocal_frames"], b["nonvocal_frames"]) == (400, 600, 300, 200)
    p = report.pooled
    assert (p["tp"], p["fp"], p["tn"], p["fn"], p["frames"]) == (580, 200, 600, 120, 1500)
    assert p["accuracy"] == pytest.approx(1180 / 1500)
    assert p["precision"] == pytest.approx(580 / 780) and p["recall"] == pytest.approx(580 / 700)
    assert p["f1"] == pytest.approx(1160 / 1480)
    assert p["fpr"] == pytest.approx(0.25) and p["fnr"] == pytest.approx(120 / 700)
    assert p["segment_f1"] == pytest.approx(12 / 15)  # 1 s cells: TP 4+2, FP 1+1, FN 0+1
    assert p["boundary_f"] == pytest.approx(2 / 8)  # one hit (2.0 vs 2.2 s) of 4 + 4 boundaries
    assert report.threshold == 0.5 and report.postprocess["median_s"] == 0.0
    assert report.curves["roc"]["fpr"] and report.curves["pr"]["recall"] and len(report.curves["sweep"]["f1"]) == 101


def test_report_page_shows_exactly_the_hand_computed_numbers(logged_in_client, project, evaluated):
    report, model, alpha, beta = evaluated
    response = logged_in_client.get(f"/projects/{project.pk}/reports/{report.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    # Song, Rev, On, Off, P, R, F, Acc, FPR, FNR, ROC-AUC, Seg F1, Bnd F, TP, FP, TN, FN
    a = cells(html, alpha.pk)
    assert a[0] == "Alpha" and a[2:10] == ["400", "600", "79.2", "95.0", "86.4", "88.0", "16.7", "5.0"]
    assert a[11:] == ["88.9", "50.0", "380", "100", "500", "20"]
    b = cells(html, beta.pk)
    assert b[2:10] == ["300", "200", "66.7", "66.7", "66.7", "60.0", "50.0", "33.3"]
    assert b[13:] == ["200", "100", "100", "100"]
    pooled = pooled_cells(html)
    assert pooled[0] == "Overall (pooled)"
    assert pooled[2:10] == ["700", "800", "74.4", "82.9", "78.4", "78.7", "25.0", "17.1"]
    assert pooled[-4:] == ["580", "200", "600", "120"]
    # headline numbers
    for metric, text in {"accuracy": "78.7", "precision": "74.4", "recall": "82.9", "f1": "78.4", "fpr": "25.0", "fnr": "17.1"}.items():
        assert re.search(rf'data-metric="{metric}">{re.escape(text)}<', html), metric
    for name in ("roc", "pr", "threshold", "songs", "confusion"):
        assert f"/reports/{report.pk}/plots/{name}.svg" in html


def test_csv_has_the_same_hand_computed_numbers(logged_in_client, evaluated):
    report, model, alpha, beta = evaluated
    response = logged_in_client.get(f"/api/reports/{report.pk}.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f'filename="report-{report.pk}.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["title"] for r in rows] == ["Alpha", "Beta", "pooled"]
    alpha_row, beta_row, pooled = rows
    assert alpha_row["song_id"] == str(alpha.pk) and alpha_row["revision_id"] == str(alpha.current_revision_id)
    assert {k: alpha_row[k] for k in ("tp", "fp", "tn", "fn", "vocal_frames", "nonvocal_frames")} == {
        "tp": "380", "fp": "100", "tn": "500", "fn": "20", "vocal_frames": "400", "nonvocal_frames": "600"}
    assert (alpha_row["precision"], alpha_row["recall"], alpha_row["f1"], alpha_row["accuracy"]) == ("0.791667", "0.95", "0.863636", "0.88")
    assert (beta_row["tp"], beta_row["fp"], beta_row["tn"], beta_row["fn"]) == ("200", "100", "100", "100")
    assert (pooled["tp"], pooled["fp"], pooled["tn"], pooled["fn"], pooled["frames"]) == ("580", "200", "600", "120", "1500")
    assert (pooled["accuracy"], pooled["precision"], pooled["recall"], pooled["f1"]) == ("0.786667", "0.74359", "0.828571", "0.783784")
    assert (pooled["fpr"], pooled["specificity"], pooled["segment_f1"], pooled["boundary_f"]) == ("0.25", "0.75", "0.8", "0.25")


def test_json_api_and_download_carry_the_full_report(logged_in_client, evaluated):
    report, *_ = evaluated
    body = logged_in_client.get(f"/api/reports/{report.pk}/").json()
    assert body["pooled"]["tp"] == 580 and body["model"]["transfer_mode"] == "finetune:L1"
    assert [s["revision"] for s in body["songs"]] == [s["revision"] for s in report.songs]
    assert body["curves"]["roc"]["tpr"] and body["effort"]
    download = logged_in_client.get(f"/api/reports/{report.pk}.json")
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    assert download.json()["per_song"] == body["per_song"]
    listing = logged_in_client.get("/api/reports/").json()
    assert [r["id"] for r in listing["results"]] == [report.pk] and "per_song" not in listing["results"][0]


def test_a_later_edit_of_a_revision_does_not_change_an_existing_report(logged_in_client, project, user, evaluated):
    from annotations.services import revision_create
    from reports.services import report_create

    report, model, alpha, beta = evaluated
    page_before = logged_in_client.get(f"/projects/{project.pk}/reports/{report.pk}/").content.decode()
    csv_before = logged_in_client.get(f"/api/reports/{report.pk}.csv").content
    json_before = logged_in_client.get(f"/api/reports/{report.pk}/").json()
    old_revision = alpha.current_revision_id

    # Someone corrects Alpha again (all vocal from 2 to 7 s) and verifies it.
    revision_create(song=alpha, segments=as_segments([(0, 2, "non-vocal"), (2, 7, "vocal"), (7, 10, "non-vocal")]),
                    author=user, origin="human", state="verified", based_on=alpha.current_revision)
    alpha.refresh_from_db()
    assert alpha.current_revision_id != old_revision

    assert logged_in_client.get(f"/api/reports/{report.pk}.csv").content == csv_before
    assert logged_in_client.get(f"/api/reports/{report.pk}/").json() == json_before
    assert cells(logged_in_client.get(f"/projects/{project.pk}/reports/{report.pk}/").content.decode(), alpha.pk) == cells(page_before, alpha.pk)
    # ...while a new report uses the new revision: 100 more reference vocal frames, all now true positives.
    fresh = report_create(project=project, model_version=model, created_by=user)
    new_alpha = next(r for r in fresh.per_song if r["title"] == "Alpha")
    assert new_alpha["revision"] == alpha.current_revision_id and (new_alpha["tp"], new_alpha["fp"]) == (480, 0)


def test_correction_effort_against_the_model_proposal(logged_in_client, project, evaluated):
    report, model, alpha, beta = evaluated
    effort = {row["title"]: row for row in report.effort}
    a = effort["Alpha"]
    assert a["this_model"]["frames_changed"] == 120  # FP + FN
    assert a["started_from"]["origin"] == f"model:{model.pk}" and a["started_from"]["frames_changed"] == 120
    # the proposal's onset 2.2 s became 2.0 s (moved), its offset 7.0 s became 6.0 s (moved, within 1 s)
    assert (a["this_model"]["boundaries_moved"], a["this_model"]["boundaries_added"], a["this_model"]["boundaries_removed"]) == (2, 0, 0)
    assert [m["model"] for m in a["models"]] == [model.pk]
    html = logged_in_client.get(f"/projects/{project.pk}/reports/{report.pk}/").content.decode()
    assert "Correction effort" in html and "12.0%" in html


def test_effort_shows_how_the_work_changes_across_model_versions(project, user, evaluated):
    from reports.selectors import report_effort_table
    from reports.services import report_create

    report, model, alpha, beta = evaluated
    better = exact_on_alpha_model(project=project, alpha=alpha, beta=beta, name="crnn-v2")
    v2 = report_create(project=project, model_version=better, created_by=user)
    table = report_effort_table(report=v2)
    assert [c["name"] for c in table["columns"]] == ["crnn-v1", "crnn-v2"]
    alpha_row = next(r for r in table["rows"] if r["title"] == "Alpha")
    assert [c["frames_changed"] for c in alpha_row["cells"]] == [120, 0]


def test_songs_without_a_verified_revision_are_skipped_and_listed(project, user):
    from reports.services import report_create
    from reports_support import alpha_probabilities

    model, alpha, beta = hand_made_project(project=project, user=user)
    gamma = SongFactory(project=project, title="Gamma", duration=10.0, split="test")
    ReportPredictionFactory(song=gamma, model_version=model, probabilities=alpha_probabilities())
    RevisionFactory(song=gamma, segments=ALPHA_REF, author=user, origin="human", state="draft")
    report = report_create(project=project, model_version=model, created_by=user)
    assert [s["title"] for s in report.skipped] == ["Gamma"] and "no verified revision" in report.skipped[0]["reason"]
    assert report.pooled["songs"] == 2
    current = report_create(project=project, model_version=model, created_by=user, reference="current")
    assert current.pooled["songs"] == 3 and current.reference == "current"


def test_nothing_to_evaluate_is_a_readable_error_and_writes_nothing(project, user):
    from common.errors import ApiError
    from reports.models import EvaluationReport
    from reports.services import report_create

    model = ReportModelFactory(project=project)
    with pytest.raises(ApiError, match="no songs in the test split"):
        report_create(project=project, model_version=model, created_by=user)
    assert not EvaluationReport.objects.exists()


def test_evaluate_handler_runs_a_job_and_returns_the_report(project, user):
    from reports.models import EvaluationReport
    from reports.services import evaluate_handler

    model, alpha, beta = hand_made_project(project=project, user=user)
    job = JobFactory(project=project, kind="evaluate", params={"model": model.pk, "song_ids": [beta.pk]}, created_by=user)

    class Ctx:
        lines, steps = [], []

        def progress(self, fraction, message="", **kw):
            self.steps.append(fraction)

        def log(self, line):
            self.lines.append(line)

        def check_cancelled(self):
            pass

    result = evaluate_handler(job=job, ctx=Ctx())
    report = EvaluationReport.objects.get(pk=result["report"])
    assert report.job_id == job.pk and [s["title"] for s in report.songs] == ["Beta"]
    assert result["message"].startswith(f"Report {report.pk}: F1 66.7%")


def test_evaluate_form_queues_an_evaluate_job(logged_in_client, project, user, django_capture_on_commit_callbacks):
    from jobs.models import Job

    model, alpha, beta = hand_made_project(project=project, user=user)
    page = logged_in_client.get(f"/projects/{project.pk}/reports/")
    assert page.status_code == 200 and b"Evaluate a model" in page.content and b"No reports yet" in page.content
    with django_capture_on_commit_callbacks(execute=False):
        response = logged_in_client.post(f"/projects/{project.pk}/reports/", {"model": model.pk, "songs": [alpha.pk], "reference": "verified"})
    assert response.status_code == 302
    job = Job.objects.get(kind="evaluate")
    assert job.params == {"model": model.pk, "reference": "verified", "song_ids": [alpha.pk]} and job.created_by == user


def test_evaluate_form_explains_a_project_without_test_songs(logged_in_client, project):
    ReportModelFactory(project=project)
    from jobs.models import ModelVersion

    response = logged_in_client.post(f"/projects/{project.pk}/reports/", {"model": ModelVersion.objects.get().pk, "reference": "verified"})
    assert response.status_code == 400
    assert b"no songs in the test split" in response.content


def test_annotators_see_reports_but_cannot_start_evaluations(client, project, make_user, evaluated):
    report, model, *_ = evaluated
    annotator = member(project, "annotator", "ann")
    client.force_login(annotator)
    assert client.get(f"/projects/{project.pk}/reports/{report.pk}/").status_code == 200
    assert b"Reviewers and admins can start" in client.get(f"/projects/{project.pk}/reports/").content
    assert client.post(f"/projects/{project.pk}/reports/", {"model": model.pk, "reference": "verified"}).status_code == 403


def test_comparison_puts_models_side_by_side_in_table_1_and_table_2_layouts(logged_in_client, project, user, evaluated):
    from reports.services import report_create

    report, model, alpha, beta = evaluated
    baseline = exact_on_alpha_model(project=project, alpha=alpha, beta=beta, name="baseline-songs-only",
                                    transfer_mode="baseline", trainable_parameters=20720)
    fixed = exact_on_alpha_model(project=project, alpha=alpha, beta=beta, name="fixed-L2", transfer_mode="fixed:L2",
                                 trainable_parameters=13330)
    r_base = report_create(project=project, model_version=baseline, created_by=user)
    r_fixed = report_create(project=project, model_version=fixed, created_by=user)
    response = logged_in_client.get(f"/projects/{project.pk}/reports/compare?ids={r_base.pk},{report.pk},{r_fixed.pk}")
    assert response.status_code == 200
    html = response.content.decode()
    table1 = re.search(r'<table class="report-table table1" id="table1">(.*?)</table>', html, re.S).group(1)
    l1 = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.search(r"<tr><th>L1</th>(.*?)</tr>", table1, re.S).group(1))).strip()
    assert l1 == "not in this comparison 74.4 82.9 78.4 20.72K"  # fine-tuned L1 = the hand-made report (pooled)
    l2 = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.search(r"<tr><th>L2</th>(.*?)</tr>", table1, re.S).group(1))).strip()
    assert l2.startswith("100.0 57.1 72.7 13.33K")  # fixed L2: Alpha perfect, Beta all missed -> P 400/400, R 400/700
    assert "baseline" in table1
    # per-song F1 differences against the first report (baseline: Alpha F1 100.0, Beta F1 0.0)
    songs = re.search(r'id="compare-songs">(.*?)</table>', html, re.S).group(1)
    assert "-13.6" in songs and "+66.7" in songs
    for name in ("roc", "pr", "threshold", "songs"):
        plot = logged_in_client.get(f"/projects/{project.pk}/reports/compare/plots/{name}.svg?ids={r_base.pk},{report.pk}")
        assert plot.status_code == 200 and plot["Content-Type"] == "image/svg+xml" and b"<svg" in plot.content


def test_plots_are_svg_pictures_with_their_numbers(logged_in_client, project, evaluated):
    report, *_ = evaluated
    for name in ("roc", "pr", "threshold", "songs", "confusion"):
        response = logged_in_client.get(f"/projects/{project.pk}/reports/{report.pk}/plots/{name}.svg")
        assert response.status_code == 200, name
        assert response["Content-Type"] == "image/svg+xml"
        assert response.content.lstrip().startswith(b"<?xml") and b"<svg" in response.content
    roc = logged_in_client.get(f"/projects/{project.pk}/reports/{report.pk}/plots/roc.svg").content.decode()
    assert f"AUC {report.pooled['roc_auc']:.3f}" in roc
    confusion = logged_in_client.get(f"/projects/{project.pk}/reports/{report.pk}/plots/confusion.svg").content.decode()
    assert "580" in confusion and "120" in confusion
    assert logged_in_client.get(f"/projects/{project.pk}/reports/{report.pk}/plots/nope.svg").status_code == 404


def test_outsiders_get_404_for_report_pages_plots_and_api(client, project, make_user, evaluated):
    report, *_ = evaluated
    eve = make_user("eve")
    other = ProjectFactory(name="Eve's project", created_by=eve)
    client.force_login(eve)
    for url in (
        f"/projects/{project.pk}/reports/", f"/projects/{project.pk}/reports/{report.pk}/",
        f"/projects/{project.pk}/reports/{report.pk}/plots/roc.svg", f"/projects/{project.pk}/reports/compare?ids={report.pk},{report.pk}",
        f"/projects/{other.pk}/reports/{report.pk}/",  # her own project in the URL does not help
        f"/api/reports/{report.pk}/", f"/api/reports/{report.pk}.csv", f"/api/reports/{report.pk}.json",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert str(report.pooled["tp"]) not in response.content.decode()
    api = client.get(f"/api/reports/{report.pk}/")
    assert api.json() == {"error": "Not found, or you do not have access to it.", "code": "not_found"}
    assert client.get("/api/reports/").json()["results"] == []
    assert client.get(f"/api/reports/?project={project.pk}").status_code == 404
    assert client.post(f"/projects/{project.pk}/reports/", {"reference": "verified"}).status_code == 404


def test_anonymous_api_clients_are_refused(client, evaluated):
    report, *_ = evaluated
    response = client.get(f"/api/reports/{report.pk}/")
    assert response.status_code in (401, 403) and "error" in response.json()


def test_comparison_names_finetune_full_the_shipped_recipe(logged_in_client, project, user, evaluated):
    from reports.services import report_create

    report, model, alpha, beta = evaluated
    full = exact_on_alpha_model(project=project, alpha=alpha, beta=beta, name="whole-model",
                                transfer_mode="finetune:full", trainable_parameters=90000)
    r_full = report_create(project=project, model_version=full, created_by=user)
    html = logged_in_client.get(f"/projects/{project.pk}/reports/compare?ids={report.pk},{r_full.pk}").content.decode()
    table1 = re.search(r'<table class="report-table table1" id="table1">(.*?)</table>', html, re.S).group(1)
    assert "no transfer mode recorded" not in table1
    row = re.search(r"<tr><th>whole source model</th>(.*?)</tr>", table1, re.S).group(1)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
    assert text == "— (no fixed variant) 100.0 57.1 72.7 90.00K"
