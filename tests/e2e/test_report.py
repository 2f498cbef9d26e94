"""A reviewer opens an evaluation report in chromium: numbers, sortable per-song table, plots,
CSV download, comparison with another model."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))

from reports_support import exact_on_alpha_model, hand_made_project  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _img_ok(page, selector: str) -> bool:
    return page.eval_on_selector(selector, "img => img.complete && img.naturalWidth > 100 && img.naturalHeight > 100")


def test_report_page_shows_its_table_and_plots(page, live_server, login, screenshot, project, user, isolated_media):
    from reports.services import report_create

    model, alpha, beta = hand_made_project(project=project, user=user)
    report = report_create(project=project, model_version=model, created_by=user)
    login(page, "ana")
    page.goto(f"{live_server.url}/projects/{project.pk}/reports/")
    page.click(f"text={report.name}")
    page.wait_for_url(f"**/reports/{report.pk}/")
    page.wait_for_load_state("networkidle")

    assert page.inner_text('[data-metric="f1"]') == "78.4"
    assert page.inner_text('[data-metric="accuracy"]') == "78.7"
    rows = page.locator("#per-song tbody tr")
    assert rows.count() == 2
    assert page.locator("#per-song tfoot").inner_text().startswith("Overall (pooled)")
    for name in ("roc", "pr", "threshold", "songs", "confusion"):
        selector = f'img[data-plot="{name}"]'
        page.locator(selector).scroll_into_view_if_needed()
        page.wait_for_function(f"document.querySelector('{selector}').complete")
        assert _img_ok(page, selector), name

    # Sorting: F column ascending puts Beta (66.7) first, descending Alpha (86.4).
    f_header = page.locator("#per-song thead th").nth(6)
    f_header.click()
    assert rows.nth(0).locator("td").first.inner_text() == "Beta"
    f_header.click()
    assert rows.nth(0).locator("td").first.inner_text() == "Alpha"
    assert f_header.get_attribute("aria-sort") == "descending"

    with page.expect_download() as download_info:
        page.click("text=Download CSV")
    csv_text = Path(download_info.value.path()).read_text()
    assert csv_text.splitlines()[0].startswith("song_id,title,revision_id") and "pooled" in csv_text
    page.evaluate("window.scrollTo(0, 0)")
    shot = screenshot(page, "test_report_page_shows_its_table_and_plots")
    assert shot.stat().st_size > 20_000

    # Compare with a second model from the report page.
    other = exact_on_alpha_model(project=project, alpha=alpha, beta=beta, name="baseline-songs-only", transfer_mode="baseline")
    second = report_create(project=project, model_version=other, created_by=user)
    page.reload()
    page.select_option("[data-compare-with]", str(second.pk))
    page.click("form.compare-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "Comparing 2 reports" in page.inner_text("h1")
    assert page.locator("#table1 tbody tr").count() >= 5
    assert page.locator("#compare-songs tbody tr").count() == 2
    for name in ("roc", "songs"):
        selector = f'img[data-plot="{name}"]'
        page.locator(selector).scroll_into_view_if_needed()
        page.wait_for_function(f"document.querySelector('{selector}').complete")
        assert _img_ok(page, selector), name
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "test_report_compare")

    # The list: both reports, tick both, compare.
    page.goto(f"{live_server.url}/projects/{project.pk}/reports/")
    assert page.locator("#reports tbody tr").count() == 2
    assert page.locator("#evaluate-form select[name=model]").count() == 1
    screenshot(page, "test_report_list")
    page.check(f'input[name="id"][value="{report.pk}"]')
    page.click("#compare-button")
    assert "Tick at least two" in page.inner_text("#compare-form")
    page.check(f'input[name="id"][value="{second.pk}"]')
    page.click("#compare-button")
    page.wait_for_load_state("networkidle")
    assert "Comparing 2 reports" in page.inner_text("h1")
