"""The command line, run as a learner runs it: real processes, real ports, real signals."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

import webhooklab as wl


def webhooklab(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "webhooklab", *args], capture_output=True, text=True, timeout=60, **kwargs)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def serve(tmp_path):
    """`webhooklab serve` in the foreground of its own process; yields (process, base URL)."""
    started = []

    def start(*args):
        process = subprocess.Popen(
            [sys.executable, "-m", "webhooklab", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        started.append(process)
        first_line = process.stdout.readline()
        assert first_line.startswith("webhooklab receiver listening on http://127.0.0.1:"), first_line
        return process, first_line.split()[-1]

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate()


def test_version():
    result = webhooklab("--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"webhooklab {wl.__version__}")


def test_the_console_script_is_installed():
    script = Path(sys.executable).with_name("webhooklab")
    result = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for command in ("serve", "events", "lab"):
        assert command in result.stdout


def test_serve_captures_and_ctrl_c_stops_cleanly(serve):
    process, url = serve()
    banner = "".join(process.stdout.readline() for _ in range(4))
    assert f"send webhooks to  {url}/hooks/<endpoint>   (any name)" in banner and "%3C" not in banner
    assert requests.post(f"{url}/hooks/shop", json={"type": "charge.succeeded"}, timeout=5).status_code == 200
    listed = webhooklab("events", "--url", url, "--json")
    assert listed.returncode == 0
    assert [e["event_type"] for e in json.loads(listed.stdout)] == ["charge.succeeded"]
    table = webhooklab("events", "--url", url)
    assert "charge.succeeded" in table.stdout and "endpoint" in table.stdout

    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "stopped; 1 event(s) captured" in out
    assert "Traceback" not in err


def test_serve_on_a_taken_port_says_so(serve):
    process, url = serve()
    port = url.rsplit(":", 1)[1]
    result = webhooklab("serve", "--port", port)
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is already taken" in result.stderr
    assert "use --port 0 to get a free port" in result.stderr and "port=" not in result.stderr
    assert "Traceback" not in result.stderr


def test_events_from_a_database_file(serve, tmp_path):
    db = tmp_path / "events.db"
    process, url = serve("--db", str(db))
    requests.post(f"{url}/hooks/gh", data=b"{}", headers={"X-GitHub-Event": "ping"}, timeout=5)
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=10)
    assert f"kept in {db}" in out
    result = webhooklab("events", "--db", str(db), "--json")
    assert [(e["provider"], e["event_type"]) for e in json.loads(result.stdout)] == [("github", "ping")]


def test_events_without_a_receiver_explains_what_to_do():
    result = webhooklab("events", "--url", f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 1
    assert "Is `webhooklab serve` running there?" in result.stderr


def test_events_with_none_captured(serve):
    _, url = serve()
    assert webhooklab("events", "--url", url).stdout.strip() == "no events captured yet"


def test_lab_opens_jupyterlab_on_a_copy_of_the_notebooks(tmp_path):
    port, token, workshop = free_port(), "test-token", tmp_path / "workshop"
    env = {**os.environ, "HOME": str(tmp_path), "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter")}
    process = subprocess.Popen(
        [
            sys.executable, "-m", "webhooklab", "lab", "--dir", str(workshop),
            "--no-browser", f"--port={port}", "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={token}", "--LabApp.news_url=None",
        ],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    try:
        assert f"workshop folder: {workshop}" in process.stdout.readline()
        deadline = time.monotonic() + 60
        while True:
            try:
                contents = requests.get(f"http://127.0.0.1:{port}/api/contents", params={"token": token}, timeout=2)
                break
            except requests.ConnectionError:
                assert process.poll() is None and time.monotonic() < deadline, "JupyterLab did not start"
                time.sleep(0.2)
        names = {item["name"] for item in contents.json()["content"]}
        assert {"00.00-index.ipynb", "01.00-what-is-a-webhook.ipynb", "solutions", "datasets"} <= names
    finally:
        process.terminate()
        process.communicate(timeout=30)
    # The learner's edits survive the next `webhooklab lab`.
    notebook = workshop / "00.00-index.ipynb"
    notebook.write_text("my edits")
    from webhooklab._workshop import prepare

    assert prepare(workshop)[1:] == (0, len([p for p in workshop.rglob("*") if p.is_file()]))
    assert notebook.read_text() == "my edits"
    prepare(workshop, reset=True)
    assert notebook.read_text() != "my edits"


def test_lab_can_only_copy_for_a_jupyter_server_that_already_runs(tmp_path):
    """On a JupyterHub the learner's server is running: the notebooks are copied, and no second one starts."""
    result = webhooklab("lab", "--dir", str(tmp_path / "workshop"), "--copy-only")
    assert result.returncode == 0, result.stderr
    assert f"open {tmp_path / 'workshop' / '00.00-index.ipynb'} in JupyterLab" in result.stdout
    assert (tmp_path / "workshop" / "00.00-index.ipynb").exists() and (tmp_path / "workshop" / "datasets").is_dir()


def test_send_list_names_every_type():
    listing = webhooklab("send", "--list").stdout
    assert "stripe: charge.refunded" in listing and "shopify: app/uninstalled" in listing and "github: issues" in listing


def test_send_and_verify_round_trip(serve):
    process, url = serve("--secret", "payments=whsec_cli_secret_0000000")
    sent = webhooklab("send", "stripe", "payment_intent.succeeded", "--to", f"{url}/hooks/payments",
                      "--secret", "whsec_cli_secret_0000000", "--set", "amount=5000", "--set", "currency=eur")  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    assert f"POST {url}/hooks/payments -> 200" in sent.stdout
    (event,) = json.loads(webhooklab("events", "--url", url, "--json").stdout)
    assert (event["provider"], event["event_type"], event["verified"]) == ("stripe", "payment_intent.succeeded", True)
    detail = requests.get(f"{url}/api/events/{event['id']}", timeout=5).json()
    assert detail["json"]["data"]["object"]["amount"] == 5000 and detail["json"]["data"]["object"]["currency"] == "eur"

    good = webhooklab("verify", "stripe", "--secret", "whsec_cli_secret_0000000", "--id", str(event["id"]), "--url", url)
    assert good.returncode == 0 and "Stripe signature: valid" in good.stdout and "signed content" in good.stdout
    bad = webhooklab("verify", "stripe", "--secret", "sk_test_0123456789abcdef", "--id", str(event["id"]), "--url", url)
    assert bad.returncode == 1 and "INVALID (no_matching_signature)" in bad.stdout and "is an API key" in bad.stdout
    assert "whsec_cli_secret_0000000" not in good.stdout + bad.stdout


def test_verify_hands_a_twilio_event_the_url_it_arrived_at(serve):
    """Twilio signs the URL it requested: verify --id checks the event against the URL it reached, not none."""
    token = wl.Twilio.new_secret()
    process, url = serve()
    twilio = wl.Twilio(token)
    assert twilio.send(twilio.event("sms/incoming", body="hi"), to=f"{url}/hooks/sms?from=cli").status == 200
    (event,) = json.loads(webhooklab("events", "--url", url, "--json").stdout)
    good = webhooklab("verify", "twilio", "--secret", token, "--id", str(event["id"]), "--url", url)
    assert good.returncode == 0 and "Twilio signature: valid" in good.stdout, good.stdout + good.stderr
    assert f"{url}/hooks/sms?from=cli" in good.stdout


def test_verify_a_body_file_with_headers(tmp_path):
    body, headers = wl.GitHub("file-secret").sign(b'{"zen": "Design for failure."}', event_type="ping")
    (tmp_path / "body.json").write_bytes(body)
    header_args = [arg for name, value in headers.items() for arg in ("--header", f"{name}: {value}")]
    result = webhooklab("verify", "github", "--secret", "file-secret", "--file", str(tmp_path / "body.json"), *header_args)
    assert result.returncode == 0 and "GitHub signature: valid" in result.stdout


def test_send_with_a_bad_override_explains():
    result = webhooklab("send", "github", "push", "--set", "colour=blue")
    assert result.returncode == 2 and "has no field or option 'colour'" in result.stderr and "branch" in result.stderr
    assert "--add colour=blue adds a field" in result.stderr


def test_send_show_prints_the_wire_format(serve):
    _, url = serve()
    result = webhooklab("send", "shopify", "orders/create", "--to", f"{url}/hooks/shop", "--show")
    assert "X-Shopify-Topic: orders/create" in result.stdout and '"line_items"' in result.stdout
    assert "signing with a new random secret <Shopify secret=" in result.stdout


def test_schedule_prints_the_policy():
    result = webhooklab("schedule", "standard")
    assert result.returncode == 0 and "8 attempt(s) over 1 d 3 h" in result.stdout and "5 min" in result.stdout
    assert "assumption" in webhooklab("schedule", "stripe", "--test-mode").stdout


def test_send_retry_on_virtual_time_prints_each_attempt(serve):
    _, url = serve()
    result = webhooklab("send", "stripe", "charge.succeeded", "--set", "livemode=true", "--retry", "--virtual-time",
                        "--to", f"{url}/not-under-hooks")  # the receiver answers 404 there, every time  # fmt: skip
    assert result.returncode == 1
    lines = [line for line in result.stdout.splitlines() if line.startswith("attempt ")]
    assert len(lines) == 13 and "retry in 5 min" in lines[0] and "no retries left" in lines[-1]
    assert "exhausted after 13 attempt(s)" in result.stdout


def test_demo_lists_the_demos_in_the_order_of_their_index():
    result = webhooklab("demo", "--list")
    assert result.returncode == 0, result.stderr
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert names == ["webhook", "push-vs-poll", "signature", "retries", "duplicates", "replay", "reaching-a-laptop"]
    assert re.search(r"^signature +Is it really from Stripe\? The signature$", result.stdout, re.MULTILINE)


@pytest.mark.parametrize(("args", "says"), [
    (["demo", "signatures"], "there is no demo called 'signatures': the demos are webhook, push-vs-poll"),
    (["demo", "--port", "70000"], "--port must be 0 to 65535, got 70000"),
])  # fmt: skip
def test_demo_refuses_what_it_cannot_use_with_exit_2(args, says):
    result = webhooklab(*args)
    assert result.returncode == 2 and says in result.stderr


def test_demo_without_voila_says_which_install_brings_it(monkeypatch, capsys):
    from webhooklab._cli import demo, main

    monkeypatch.setattr(demo, "_installed", lambda name: name != "voila")
    assert main(["demo", "signature", "--no-browser"]) == 1
    assert "serves the demos with Voilà, which this install does not have: pip install 'webhooklab[lab]'" in (
        capsys.readouterr().err)
