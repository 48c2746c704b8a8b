"""Notebook 01 in JupyterLab, in a real headless Chromium: the widgets render and the Send button works."""

import shutil

import nbformat
import pytest
from lab_under_test import CHROMIUM, CHROMIUM_ARGS, ROOT, jupyterlab

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is part of the test extra")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (CI installs it)")

ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture
def lab(tmp_path):
    """JupyterLab on a copy of the notebooks; yields (base URL, token)."""
    workshop = tmp_path / "workshop"
    shutil.copytree(ROOT / "notebooks", workshop)
    shutil.copytree(ROOT / "datasets", workshop / "datasets")
    notebook = nbformat.read(workshop / "01.00-what-is-a-webhook.ipynb", as_version=4)
    notebook.cells = [cell for cell in notebook.cells if cell.source.strip() != "rx.stop()"]  # keep it receiving
    nbformat.write(notebook, workshop / "01.00-what-is-a-webhook.ipynb")
    with jupyterlab(tmp_path, workshop, "browser-test") as url:
        yield url.rstrip("/"), "browser-test"


def test_notebook_01_runs_and_its_widgets_work_in_chromium(lab):
    base, token = lab
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{base}/lab/tree/01.00-what-is-a-webhook.ipynb?reset&token={token}")
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=90_000)
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        send = page.get_by_role("button", name="Send")
        send.wait_for(timeout=90_000)
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=90_000)

        outputs = page.locator(".jp-OutputArea-output")
        assert outputs.filter(has_text="Loading widget").count() == 0
        assert outputs.filter(has_text="SendPanel(").count() == 0 and outputs.filter(has_text="LiveTable(").count() == 0
        counter = page.locator(".widget-html").filter(has_text="request(s) captured").first
        before = int(counter.inner_text().split()[0])

        send.scroll_into_view_if_needed()
        send.click()
        page.locator(".widget-html").filter(has_text="answer 200").first.wait_for(timeout=30_000)
        page.wait_for_function(
            "n => [...document.querySelectorAll('.widget-html')].some(e => e.innerText.startsWith(`${n} request(s) captured`))",
            arg=before + 1, timeout=30_000,
        )  # fmt: skip
        panel = page.locator(".widget-vbox").filter(has=send).last
        panel.screenshot(path=str(ARTIFACTS / "send-panel.png"))
        counter.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "notebook-01.png"))
        browser.close()
    assert (ARTIFACTS / "notebook-01.png").stat().st_size > 10_000
