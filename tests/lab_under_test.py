"""What several test files share: the course's solution files, the Chromium the browser tests drive (and what a page
received in it), and a real JupyterLab for them (offline, quiet, on a free port of 127.0.0.1, stopped afterwards)."""

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).parent.parent
SOLUTIONS = ROOT / "notebooks" / "solutions"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]  # fmt: skip
needs_browser = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (CI installs it)")
# No news pop-up over the page, no autosave into the folder under test.
SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}


def run_solution(name: str, **namespace) -> dict:
    """Run notebooks/solutions/`name` as the notebook's cell does, with `namespace` as its globals; returns them."""
    exec(compile((SOLUTIONS / name).read_text(), name, "exec"), namespace)
    return namespace


@contextlib.contextmanager
def chromium(*extra_args: str):
    """A headless Chromium through Playwright (skips the test without playwright); closed afterwards."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is part of the test extra")
    with sync_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args])
        yield instance
        instance.close()


def recorded(page) -> list[str]:
    """Everything the page's responses carried, as text."""
    texts = []

    def keep(response):
        try:
            texts.append(f"{response.url}\n{response.text()}")
        except Exception:  # a redirect or a body the browser already dropped
            texts.append(response.url)

    page.on("response", keep)
    return texts


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def jupyterlab(home: Path, root_dir: Path, token: str, *options: str, env: dict | None = None, base_url: str = "/"):
    """JupyterLab serving `root_dir`; yields its URL (ending in `base_url`). `home` holds its settings and HOME."""
    settings = home / "settings"
    for plugin, values in SETTINGS.items():
        (settings / plugin).parent.mkdir(parents=True, exist_ok=True)
        (settings / plugin).write_text(json.dumps(values))
    port = free_port()
    environment = {**os.environ, "HOME": str(home), "JUPYTER_CONFIG_DIR": str(home / "config"), **(env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.port_retries=0",
         "--ServerApp.ip=127.0.0.1", f"--ServerApp.base_url={base_url}", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={root_dir}", "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.extension_manager=readonly",
         f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={home / 'workspaces'}",
         "--LabApp.expose_app_in_browser=True", "--allow-root", *options],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}{base_url}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if requests.get(f"{url}api/status", params={"token": token}, timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "JupyterLab did not start within 90 s"
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
