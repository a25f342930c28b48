"""The playground of peptalk included in a host app, in headless Chromium, behind the host's authentication."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from peptalk import Settings
from tests.peptalk.test_plugin import PATIENT, TOKEN, Host, uvicorn_serving

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(180)]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


async def test_the_playground_under_ai_renders_behind_the_hosts_sign_in(make_settings: Callable[..., Settings],
                                                                        tmp_path: Path) -> None:
    from playwright.async_api import async_playwright

    if not shutil.which(CHROMIUM):
        pytest.fail("chromium is missing: run scripts/services/chromium.sh")
    host = Host(make_settings(data_dir=tmp_path, cache_enabled=False, **PATIENT))
    page_errors: list[str] = []
    statuses: dict[str, int] = {}
    async with uvicorn_serving(host.app) as url, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            signed_out = await browser.new_page()
            refused = await signed_out.goto(f"{url}/ai/peptalk/playground/")
            assert refused is not None and refused.status == 401

            context = await browser.new_context(extra_http_headers=TOKEN)  # signed in the host's way
            page = await context.new_page()
            page.set_default_timeout(20_000)
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            page.on("response", lambda response: statuses.__setitem__(response.url, response.status))
            await page.goto(f"{url}/ai/peptalk/playground/")
            await page.wait_for_load_state("networkidle")
            text = await page.inner_text("body")
        finally:
            await browser.close()
    assert statuses and all(status < 400 for status in statuses.values()), statuses
    assert not page_errors, page_errors
    assert "user id" in text.lower() and "focused tasks" in text.lower(), text[:500]  # the form, from the schema
