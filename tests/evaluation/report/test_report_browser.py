"""The report opens in headless Chromium with every figure loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.report import FIGURE_FILES, ReportSources, build_report
from evaluation.report.paper_figures import PAPER_FIGURES

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


@pytest.mark.browser
def test_every_image_loads_in_chromium(study_dir: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Debian chromium is missing: run scripts/services/chromium.sh"  # a failure, not a skip
    result = build_report(ReportSources(eval_dir=study_dir, humans=study_dir / "humans.csv"), tmp_path / "report")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            failed: list[str] = []
            errors: list[str] = []
            page.on("requestfailed", lambda request: failed.append(request.url))
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(result.html.as_uri(), wait_until="load")
            images = page.eval_on_selector_all(
                "img", "els => els.map(e => ({src: e.getAttribute('src'), complete: e.complete, "
                       "width: e.naturalWidth, height: e.naturalHeight}))")
            title = page.title()
            tables = page.locator("table").count()
            captions = page.eval_on_selector_all("figcaption", "els => els.map(e => e.textContent)")
            body = page.inner_text("body")
        finally:
            browser.close()
    assert failed == [] and errors == []
    assert len(body) > 1000
    assert sorted(image["src"] for image in images) == sorted(f"figures/{name}" for name in FIGURE_FILES.values())
    for image in images:
        assert image["complete"] and image["width"] > 0 and image["height"] > 0, image
    assert "replace openai:gpt-4" in title
    assert tables >= 9  # figure map, paper vs ours, summary, quality, agreement, protocol, latency, slam cost, ...
    # The paper's figure set, each chart captioned with the paper's own caption.
    for figure in PAPER_FIGURES:
        assert figure.label in captions, figure.number
    assert "Paper vs ours" in body and "Section III-B" in body
