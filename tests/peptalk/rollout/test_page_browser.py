"""The rollout status page on a real uvicorn, loaded in headless Chromium: it renders its plot, without page errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS
from tests.peptalk.rollout.apps import ADMIN_KEY, app_process
from tests.peptalk.rollout.test_routes import seed

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(180)]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def test_the_status_page_renders_its_plot_in_chromium(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    if not shutil.which(CHROMIUM):
        pytest.fail("chromium is missing: run scripts/services/chromium.sh")
    url = f"sqlite:///{tmp_path / 'peptalk.db'}"
    seed(url)
    env = {"PEPTALK_BACKENDS": "openai", "PEPTALK_OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
           "PEPTALK_OPENAI_API_KEY": "k", "PEPTALK_OPENAI_MODELS": "gpt-4", "PEPTALK_DEFAULT_MODEL": "openai:gpt-4",
           "PEPTALK_CACHE_ENABLED": "false", "PEPTALK_DATABASE_URL": url, "PEPTALK_DATA_DIR": str(tmp_path),
           "PEPTALK_ROLLOUT_ENABLED": "true", "PEPTALK_ADMIN_API_KEYS": ADMIN_KEY, "PEPTALK_LOG_LEVEL": "WARNING"}
    errors: list[str] = []
    with app_process(env, "page") as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(extra_http_headers={"X-Admin-Key": ADMIN_KEY})
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            response = page.goto(f"{base}/rollout")
            assert response is not None and response.status == 200
            assert page.inner_text("#stage") == "canary-5"
            plot = page.locator("#plot svg")
            box = plot.bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 150
            assert page.locator("#plot svg path").count() > 10  # the lines were drawn
            assert "stage share" in (plot.text_content() or "")  # the legend
            assert page.locator("table tr").count() > 10
            page.screenshot(path=str(ARTIFACTS / "rollout-page.png"), full_page=True)
            denied = browser.new_page()
            assert denied.goto(f"{base}/rollout").status == 401
        finally:
            browser.close()
    assert errors == []
