"""Notebook 01 in JupyterLab, in a real headless Chromium: the widgets render and the Send button works."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import requests

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is part of the test extra")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (CI installs it)")

ROOT = Path(__file__).parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]  # fmt: skip


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """JupyterLab on a copy of the notebooks, offline and quiet; yields (base URL, token)."""
    workshop = tmp_path / "workshop"
    shutil.copytree(ROOT / "notebooks", workshop)
    shutil.copytree(ROOT / "datasets", workshop / "datasets")
    notebook = nbformat.read(workshop / "01.00-what-is-a-webhook.ipynb", as_version=4)
    notebook.cells = [cell for cell in notebook.cells if cell.source.strip() != "rx.stop()"]  # keep it receiving
    nbformat.write(notebook, workshop / "01.00-what-is-a-webhook.ipynb")
    settings = tmp_path / "settings"
    for plugin, values in {
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
        "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    }.items():
        (settings / plugin).parent.mkdir(parents=True, exist_ok=True)
        (settings / plugin).write_text(json.dumps(values))
    port, token = free_port(), "browser-test"
    env = {**os.environ, "HOME": str(tmp_path), "JUPYTER_CONFIG_DIR": str(tmp_path / "config")}
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.port_retries=0",
         "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={workshop}",
         "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.extension_manager=readonly", f"--LabApp.user_settings_dir={settings}",
         f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}", "--LabApp.expose_app_in_browser=True", "--allow-root"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"{base}/api/status", params={"token": token}, timeout=2).ok:
                break
        except requests.ConnectionError:
            pass
        assert process.poll() is None and time.monotonic() < deadline, "JupyterLab did not start"
        time.sleep(0.2)
    yield base, token
    process.terminate()
    process.wait(timeout=30)


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
