"""Where workshops run: a JupyterHub's proxy under a base URL, Colab, and credentials that arrive with a webhook.

The hub is a real JupyterLab with jupyter-server-proxy at base_url /user/learner/, as a
JupyterHub's single-user server runs; the browser is a real headless Chromium.
"""

import json
import os
import re
import subprocess
import sys
import types

import nbformat
import pytest
import requests
from lab_under_test import CHROMIUM, ROOT, jupyterlab

import webhooklab as wl
from webhooklab._receiving import links as _links

PREFIX = "/user/learner/"
TOKEN = "hub-test-token-0123456789abcdef0123456789abcdef"


@pytest.fixture
def receiver():
    with wl.Receiver() as rx:
        yield rx


def proxied(receiver, port: int = 8888, **headers) -> dict:
    """The headers jupyter-server-proxy sends on: the Host the browser used, and where the page lives."""
    return {"Host": f"localhost:{port}", "X-Forwarded-Prefix": f"{PREFIX}proxy/{receiver.port}", **headers}


# -- links: where the browser finds the page ---------------------------------------------------------


def test_on_a_hub_the_inspector_links_through_the_jupyter_server(receiver, monkeypatch):
    monkeypatch.delenv(_links.ENVIRONMENT, raising=False)
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", PREFIX)
    view = receiver.inspector()
    assert view.url == f"{PREFIX}proxy/{receiver.port}/"
    assert f'<iframe src="{PREFIX}proxy/{receiver.port}/"' in view._repr_html_()


def test_a_link_template_is_chosen_in_code_or_in_the_environment(monkeypatch):
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX", raising=False)
    monkeypatch.delenv(_links.ENVIRONMENT, raising=False)
    with wl.Receiver() as rx:
        assert rx.inspector().url == rx.base_url + "/"  # a laptop: the receiver's own address
        monkeypatch.setenv(_links.ENVIRONMENT, "https://lab.example.org{JUPYTERHUB_SERVICE_PREFIX}proxy/{port}")
        monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", PREFIX)
        assert rx.inspector().url == f"https://lab.example.org{PREFIX}proxy/{rx.port}/"
    with wl.Receiver(link="http://{host}:{port}/from-code") as rx:  # the receiver's own setting wins
        assert rx.inspector().url == f"http://127.0.0.1:{rx.port}/from-code/"
    with wl.Receiver(link="{JUPYTER_NOWHERE}proxy/{port}/") as rx:
        with pytest.raises(wl.UsageError, match="JUPYTER_NOWHERE"):
            rx.inspector()


def test_on_colab_the_link_comes_from_colabs_kernel_proxy(receiver, monkeypatch):
    """Colab serves a kernel port at a URL of its own; google.colab.output says which. Here, a recording stand-in."""
    calls = []
    output = types.ModuleType("google.colab.output")
    output.eval_js = lambda script: calls.append(script) or "https://8000-m-s-abc-colab.googleusercontent.com"
    colab = types.ModuleType("google.colab")
    colab.output = output
    for name, module in {"google": types.ModuleType("google"), "google.colab": colab, "google.colab.output": output}.items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX", raising=False)
    monkeypatch.delenv(_links.ENVIRONMENT, raising=False)

    assert receiver.inspector().url == "https://8000-m-s-abc-colab.googleusercontent.com/"
    assert calls == [f"google.colab.kernel.proxyPort({receiver.port})"]
    page = requests.get(receiver.base_url + "/", headers={"Host": "8000-m-s-abc-colab.googleusercontent.com"}, timeout=5)
    assert page.status_code == 200, page.text  # Colab's proxy may pass its own name on: it is now known
    ancestors = page.headers["Content-Security-Policy"].split("frame-ancestors", 1)[1]
    assert "https://colab.research.google.com" in ancestors and "https://*.googleusercontent.com" in ancestors


def test_the_framing_policy_is_configurable_and_refuses_what_would_break_it(monkeypatch, tmp_path):
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))  # no Jupyter server running
    monkeypatch.setenv(_links.FRAME_ENVIRONMENT, "https://hub.example.org")
    with wl.Receiver(frame_ancestors=["https://lab.example.org"]) as rx:
        policy = requests.get(rx.base_url + "/", timeout=5).headers["Content-Security-Policy"]
        assert policy.endswith("frame-ancestors 'self' vscode-webview: https://hub.example.org https://lab.example.org")
    monkeypatch.delenv(_links.FRAME_ENVIRONMENT)
    with pytest.raises(wl.UsageError, match="one origin"):
        wl.Receiver(frame_ancestors=["https://ok.example; script-src *"])


def test_the_page_may_be_framed_by_the_jupyter_servers_running_now_and_no_other_local_port(monkeypatch, tmp_path):
    """Each Jupyter server lists itself in Jupyter's runtime folder while it runs; files that are odd are passed over."""
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))
    (tmp_path / "jpserver-11.json").write_text(json.dumps({"url": "http://localhost:8890/lab", "pid": 11}))
    (tmp_path / "nbserver-12.json").write_text(json.dumps({"url": "https://127.0.0.1:9443/", "pid": 12}))
    (tmp_path / "jpserver-13.json").write_text('{"url": "http://loc')  # half written
    (tmp_path / "jpserver-14.json").write_text(json.dumps({"url": "http://a.example;script-src:1/"}))
    (tmp_path / "jpserver-15.json").write_text(json.dumps(["not", "a", "server"]))
    with wl.Receiver() as rx:
        def ancestors():
            return requests.get(rx.base_url + "/", timeout=5).headers["Content-Security-Policy"].split("frame-ancestors ")[1]

        assert ancestors() == ("'self' http://localhost:8890 http://127.0.0.1:8890 https://127.0.0.1:9443 "
                               "https://localhost:9443 vscode-webview:")  # fmt: skip
        assert "*" not in ancestors() and f":{rx.port + 1}" not in ancestors()
        (tmp_path / "jpserver-11.json").unlink()  # that server stopped
        assert ancestors() == "'self' https://127.0.0.1:9443 https://localhost:9443 vscode-webview:"
        monkeypatch.setitem(sys.modules, "jupyter_core.paths", None)  # installed without JupyterLab
        assert ancestors() == "'self' vscode-webview:"


def test_serve_prints_the_link_a_hubs_browser_can_open():
    env = {**os.environ, "JUPYTERHUB_SERVICE_PREFIX": PREFIX}
    env.pop(_links.ENVIRONMENT, None)
    process = subprocess.Popen([sys.executable, "-m", "webhooklab", "serve", "--port", "0"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        base = process.stdout.readline().split()[-1]
        lines = [process.stdout.readline() for _ in range(2)]
    finally:
        process.kill()
        process.communicate()
    port = base.rsplit(":", 1)[1]
    assert f"inspector         {PREFIX}proxy/{port}/   (a live page of every request, through the Jupyter server" in lines[1]


def test_binder_installs_this_repository_with_the_proxy_and_opens_the_index():
    requirements = [line.strip() for line in (ROOT / "binder" / "requirements.txt").read_text().splitlines()]
    assert ".[lab]" in requirements  # this repository, with the workshop's packages (its `lab` extra)
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    assert re.fullmatch(r"python-3\.(\d+)", runtime) and int(runtime.split(".")[1]) >= 11
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^    "jupyter-server-proxy>=', pyproject, re.MULTILINE)
    readme = (ROOT / "README.md").read_text()
    opened = re.search(r"mybinder\.org/v2/gh/\S+\?urlpath=lab/tree/(\S+?\.ipynb)", readme).group(1)
    assert (ROOT / opened).exists()


# -- a proxy in front: believed only when it is one ---------------------------------------------------


def test_urls_follow_the_proxy_prefix_host_and_scheme(receiver):
    listed = requests.get(receiver.base_url + "/api", timeout=5,
                          headers=proxied(receiver, **{"X-Forwarded-Proto": "https"})).json()  # fmt: skip
    assert listed["inspector"] == f"https://localhost:8888{PREFIX}proxy/{receiver.port}/"
    assert listed["send webhooks to"] == f"https://localhost:8888{PREFIX}proxy/{receiver.port}/hooks/<endpoint>"


def test_a_page_that_only_claims_to_be_a_proxy_is_not_believed(receiver):
    """A DNS-rebinding page reaches this port directly, so its Host names this port: its X-Forwarded headers count for nothing."""
    rebinding = requests.get(receiver.base_url + "/api", timeout=5, headers={
        "Host": f"evil.example:{receiver.port}", "X-Forwarded-Prefix": "/x", "X-Forwarded-Host": "localhost"})  # fmt: skip
    assert rebinding.status_code == 403
    direct = requests.get(receiver.base_url + "/api", headers={"X-Forwarded-Host": "evil.example"}, timeout=5).json()
    assert direct["inspector"] == receiver.base_url + "/"


def test_a_change_through_the_proxy_needs_the_pages_header_and_origin(receiver):
    url = receiver.base_url + "/api/endpoints/shop"
    page = {"X-Webhooklab": "1", "Origin": "http://localhost:8888"}
    assert requests.put(url, json={"status": 503}, headers=proxied(receiver, **page), timeout=5).status_code == 200
    other = {"X-Webhooklab": "1", "Origin": "https://evil.example"}
    assert requests.put(url, json={"status": 200}, headers=proxied(receiver, **other), timeout=5).status_code == 403
    assert requests.put(url, json={"status": 200}, headers=proxied(receiver), timeout=5).status_code == 403
    assert requests.post(receiver.url("shop"), json={}, timeout=5).status_code == 503


# -- credentials that arrive with a webhook -----------------------------------------------------------


def test_credentials_in_a_webhook_are_masked_in_the_page_the_exports_and_curl(receiver):
    cookie = "_xsrf=2|secretxsrf; username-localhost-8888=secretsession"
    requests.post(receiver.url("shop") + f"?token={TOKEN}&page=2", json={"order": 1}, timeout=5,
                  headers={"Authorization": f"token {TOKEN}", "Cookie": cookie})  # fmt: skip
    (event,) = receiver.wait_for(1)
    assert event.header("Authorization") == f"token {TOKEN}" and TOKEN in event.query  # kept, for who asks

    api = receiver.base_url + "/api"
    shown = {
        "event": requests.get(f"{api}/events/{event.id}", timeout=5).text,
        "inspect": requests.get(f"{api}/events/{event.id}/inspect", timeout=5).text,
        **{kind: requests.get(f"{api}/export.{kind}", timeout=5).text for kind in ("json", "csv", "har")},
    }
    for where, text in shown.items():
        assert TOKEN not in text and "secretsession" not in text and "secretxsrf" not in text, where
    detail = json.loads(shown["event"])
    assert ["Authorization", "token …cdef"] in detail["headers"]
    assert ["Cookie", "_xsrf=…; username-localhost-8888=…"] in detail["headers"]
    assert detail["query"] == "token=…cdef&page=2"
    har = json.loads(shown["har"])["log"]["entries"][0]["request"]
    assert {"name": "page", "value": "2"} in har["queryString"] and har["url"].endswith("?token=…cdef&page=2")


# -- a real JupyterLab under a base URL, with jupyter-server-proxy, in Chromium -----------------------


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """JupyterLab as a hub's single-user server: base_url /user/learner/, jupyter-server-proxy, a token."""
    pytest.importorskip("jupyter_server_proxy")
    if CHROMIUM is None:
        pytest.skip("no Chromium on this machine (CI installs it)")
    monkeypatch.delenv(_links.ENVIRONMENT, raising=False)
    root = tmp_path / "work"
    root.mkdir()
    with jupyterlab(tmp_path, root, TOKEN, env={"JUPYTERHUB_SERVICE_PREFIX": PREFIX}, base_url=PREFIX) as url:
        yield url, root


def watched(page) -> list[str]:
    """What went wrong while the page was open: failed requests, error answers, console errors."""
    problems = []
    page.on("requestfailed", lambda r: problems.append(f"failed {r.url}: {r.failure}"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    return problems


def test_through_the_hub_proxy_the_page_loads_updates_and_replays(hub, browser, receiver):
    base, _ = hub
    page_url = f"{base}proxy/{receiver.port}/"
    page = browser.new_page()
    problems = watched(page)
    page.goto(f"{base}api/status?token={TOKEN}")  # logs the browser in, as a hub's login would
    page.goto(page_url)
    page.locator("#empty").wait_for()
    assert page.locator("#hook-url").inner_text() == f"{page_url}hooks/<endpoint>"

    # A webhook through the proxy needs the Jupyter token: it arrives, and the token is shown masked.
    sent = requests.post(f"{page_url}hooks/shop", json={"order": 7}, headers={"Authorization": f"token {TOKEN}"},
                         timeout=10)  # fmt: skip
    assert sent.status_code == 200, sent.text
    page.locator("#rows tr").first.wait_for(timeout=5000)  # no reload: the page polls
    page.locator("#rows tr").first.click()
    page.get_by_text("Headers, as sent").wait_for()
    detail = page.locator("#detail").inner_text()
    assert TOKEN not in detail and "token …cdef" in detail
    assert f"{page_url}hooks/shop" in detail  # the curl command, under the prefix

    page.get_by_role("button", name="Replay").click()
    page.get_by_text("answered 200").wait_for(timeout=10_000)
    assert len(receiver.wait_for(2, endpoint="shop", timeout=5)) == 2
    page.locator("#rows tr").nth(1).wait_for(timeout=5000)
    assert problems == []


def test_the_notebooks_embedded_view_renders_inside_jupyterlab(hub, browser):
    base, root = hub
    src, inside, problems = embedded_inspector(base, root, browser)
    assert src.startswith(f"{PREFIX}proxy/") and src.endswith("/")
    port = int(src.rstrip("/").rsplit("/", 1)[1])
    requests.post(f"http://127.0.0.1:{port}/hooks/embedded", json={"hello": "hub"}, timeout=5)
    inside.locator("#rows tr").first.wait_for(timeout=10_000)
    assert "embedded" in inside.locator("#rows").inner_text()
    assert [p for p in problems if "Refused" in p or "proxy" in p] == []


def test_on_a_laptop_jupyterlab_embeds_the_page_from_another_port(tmp_path, monkeypatch, browser):
    """The page allows framing by the Jupyter servers that run now, which the kernel finds in Jupyter's runtime folder."""
    if CHROMIUM is None:
        pytest.skip("no Chromium on this machine (CI installs it)")
    for name in (_links.ENVIRONMENT, "JUPYTERHUB_SERVICE_PREFIX", "JUPYTER_RUNTIME_DIR"):
        monkeypatch.delenv(name, raising=False)
    root = tmp_path / "work"
    root.mkdir()
    with jupyterlab(tmp_path, root, TOKEN) as base:
        src, inside, problems = embedded_inspector(base, root, browser)
        assert re.fullmatch(r"http://127\.0\.0\.1:[0-9]+/", src), src
        requests.post(f"{src}hooks/embedded", json={"hello": "laptop"}, timeout=5)
        inside.locator("#rows tr").first.wait_for(timeout=10_000)
        assert "embedded" in inside.locator("#rows").inner_text()
        assert [p for p in problems if "Refused" in p] == []


def embedded_inspector(base: str, root, browser):
    """Run rx.inspector() in a notebook in JupyterLab at `base`: the frame's src, the frame, and what went wrong."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    notebook.cells = [nbformat.v4.new_code_cell("import webhooklab as wl\nrx = wl.Receiver().start()\nrx.inspector()")]
    nbformat.write(notebook, root / "embedded.ipynb")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    problems = watched(page)
    page.goto(f"{base}lab/tree/embedded.ipynb?reset&token={TOKEN}")
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=90_000)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    frame = page.locator(".jp-OutputArea-output iframe")
    frame.wait_for(timeout=60_000)
    inside = page.frame_locator(".jp-OutputArea-output iframe")
    inside.locator("#empty").wait_for(timeout=30_000)  # the page rendered: not blocked, styled, scripted
    return frame.get_attribute("src"), inside, problems


def test_a_random_token_shows_no_kind_even_when_it_starts_like_one():
    """token_urlsafe can start with letters and an underscore: they are as secret as the rest of the token."""
    from webhooklab import _redact

    token = "VEqs_PkEE-aRFAylMeKL3B5s0Z5E0yAI"
    assert _redact.mask(token, kinded=False) == "…0yAI"
    assert _redact.header_value("Authorization", f"Bearer {token}") == "Bearer …0yAI"
    assert _redact.query(f"token={token}") == "token=…0yAI"
    assert _redact.mask("whsec_" + "a" * 32) == "whsec_…aaaa"  # a signing secret's kind stays: it is the diagnosis
