"""The playground and /docs on a real uvicorn with the embedded model, driven by headless Chromium.

LangServe's playground renders the config schema in the page; a `{"type": "null"}` branch there throws
`Unknown type` and leaves a blank page while the HTTP status is still 200. So this test fills the form,
runs it, and waits for a streamed pep talk, failing on any page error.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT, free_port, running

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(240)]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "test-artifacts"
MODEL = "embedded:smollm2-135m"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`langserve_app` on 127.0.0.1 with the embedded SmolLM2 (dev mode: no API key)."""
    if not shutil.which(CHROMIUM):
        pytest.fail("chromium is missing: run scripts/services/chromium.sh")
    port = free_port()
    env = {**os.environ, "PEPTALK_DATA_DIR": str(tmp_path_factory.mktemp("playground")), "PEPTALK_MAX_TOKENS": "24",
           "PEPTALK_CACHE_ENABLED": "false", "PEPTALK_LOG_LEVEL": "WARNING"}
    cmd = [sys.executable, "-m", "uvicorn", "langserve_app:create_app", "--factory", "--host", "127.0.0.1",
           "--port", str(port)]
    with running(cmd, f"http://127.0.0.1:{port}/healthz", log=ARTIFACTS / "uvicorn-playground.log", env=env):
        yield f"http://127.0.0.1:{port}"


class PageWatch:
    """Collects a page's uncaught errors and console errors, and the stream requests it makes."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        self.streams: list[dict[str, Any]] = []
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        page.on("console", lambda message: message.type == "error" and self.errors.append(
            f"console error: {message.text}"))
        page.on("request", self._request)

    def _request(self, request: Any) -> None:
        if request.method == "POST" and "/stream" in request.url:
            self.streams.append({"url": request.url, "body": json.loads(request.post_data or "null")})


def _open(browser: Any, url: str) -> tuple[Any, PageWatch]:
    page = browser.new_page()
    page.set_default_timeout(30_000)
    watch = PageWatch(page)
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    return page, watch


def _screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def _fill_form(page: Any, values: dict[str, str]) -> None:
    """Fills each field; the form re-renders as it validates and may drop a value typed meanwhile, so refill."""
    for _ in range(5):
        for selector, value in values.items():
            field = page.locator(selector).first
            if field.input_value() != value:
                field.fill(value)
        page.wait_for_timeout(500)
        if all(page.locator(selector).first.input_value() == value for selector, value in values.items()):
            return
    raise AssertionError(f"the playground form did not keep {values}")


def _json_objects(text: str) -> list[dict[str, Any]]:
    """The JSON objects the playground prints one after another, one per streamed chunk."""
    decoder, objects, index = json.JSONDecoder(), [], 0
    text = text.strip()
    while index < len(text):
        value, index = decoder.raw_decode(text, index)
        objects.append(value)
        while index < len(text) and text[index].isspace():
            index += 1
    return objects


def test_the_playground_streams_a_pep_talk_without_page_errors(app_url: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page, watch = _open(browser, f"{app_url}/peptalk/playground/")
            try:
                # The config form (the part that used to throw) and the input form both render.
                page.locator("[id='#/properties/model-input']").select_option(MODEL)
                page.locator("[id='#/properties/cache-input']").select_option("bypass")
                page.get_by_label("Add to Focused Tasks button").click()
                _fill_form(page, {
                    "[id='#/properties/user_id-input']": "ada",
                    "[id='#/properties/today-input']": "2026-11-22",
                    "[id='#/properties/last_login-input']": "2026-11-20",
                    "table:has-text('Focused Tasks') textarea": "Prepare the sprint demo",
                })
                start = page.get_by_role("button", name="Start")
                assert start.is_enabled()
                start.click()
                # The output panel fills in from the stream; Start comes back when the stream has ended.
                page.get_by_role("heading", name="Output").wait_for()
                page.get_by_role("button", name="Start").wait_for(timeout=150_000)
                body = page.locator("body").inner_text()
            finally:
                _screenshot(page, "playground.png")
        finally:
            browser.close()
    assert watch.errors == []
    [stream] = watch.streams
    assert stream["body"]["input"]["focused_tasks"] == ["Prepare the sprint demo"]
    assert stream["body"]["config"]["configurable"] == {"model": MODEL, "cache": "bypass"}
    chunks = _json_objects(body.split("Output", 1)[1].split("Intermediate steps", 1)[0])
    # The first chunk names the model that serves, and the prompt template it answers.
    assert chunks[0]["text"] == "" and chunks[0]["model"] == MODEL and chunks[0]["metadata"]["template"] == "slam"
    assert len(chunks) > 2  # the rest streamed in pieces
    assert "".join(chunk.get("text", "") for chunk in chunks).strip()


def test_the_api_docs_render_without_page_errors(app_url: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page, watch = _open(browser, f"{app_url}/docs")
            try:
                page.locator(".swagger-ui .opblock").first.wait_for()
                operations = page.locator(".swagger-ui .opblock-summary-path").all_inner_texts()
                page.locator(".swagger-ui .opblock-summary", has_text="/peptalk/invoke").first.click()
                page.get_by_text("Request body").first.wait_for()
            finally:
                _screenshot(page, "docs.png")
        finally:
            browser.close()
    assert watch.errors == []
    assert "/peptalk/invoke" in [text.replace("\u200b", "") for text in operations]
    assert "/peptalk/stream" in [text.replace("\u200b", "") for text in operations]
