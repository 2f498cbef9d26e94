"""Playwright end-to-end tests: pytest-django's live_server + the Debian chromium (never a download).

Fixtures: `browser` (one chromium per session), `page` (a fresh context per test),
`login(page, username, password)` and `screenshot(page, name)` (saved to $ARTIFACTS_DIR,
default ./artifacts) as fixtures.
"""

import os
from pathlib import Path

import pytest

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Every page reports what the Content-Security-Policy blocked; a test whose pages broke it fails.
CSP_LISTENER = """document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline code"} (${e.sourceFile}:${e.lineNumber})`);
});"""


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text
            or msg.text.startswith("CSP violation") else None)
    yield page
    context.close()
    assert not violations, "the Content-Security-Policy blocked something:\n" + "\n".join(violations)


@pytest.fixture
def login(live_server):
    """login(page, username, password=...) through the real login form."""

    def do(page, username: str, password: str = "correct horse battery") -> None:
        page.goto(f"{live_server.url}/login/")
        page.fill('input[name="username"]', username)
        page.fill('input[name="password"]', password)
        page.click('button[type="submit"], input[type="submit"]')
        page.wait_for_load_state("networkidle")

    return do


@pytest.fixture
def screenshot():
    """screenshot(page, name) -> Path of $ARTIFACTS_DIR/<name>.png (full page)."""

    def take(page, name: str) -> Path:
        folder = Path(os.environ.get("ARTIFACTS_DIR", "artifacts"))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
