"""The command line keeps the conventions a terminal user expects: help with examples, exit status 2 for a usage
error, JupyterLab run as a child whose status is ours, and a Twilio event checked against the URL Twilio signed."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

import webhooklab as wl
from webhooklab._cli import build
from webhooklab._cli.lab import launch

COMMANDS = ["serve", "events", "import", "send", "payloads", "schedule", "schemes", "verify", "lab", "demo", "relay",
            "classroom", ["classroom", "send"]]  # fmt: skip


def webhooklab(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "webhooklab", *args], capture_output=True, text=True, timeout=60, **kwargs)


def test_every_command_is_in_the_list_checked_here():
    """A new command joins COMMANDS, so its help is checked too."""
    commands = next(a for a in build()._actions if a.dest == "==SUPPRESS==" and a.choices).choices
    assert sorted(commands) == sorted(c for c in COMMANDS if isinstance(c, str))


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) if isinstance(c, list) else c)
def test_each_command_has_a_description_and_an_example(command):
    words = command if isinstance(command, list) else [command]
    result = webhooklab(*words, "--help")
    assert result.returncode == 0, result.stderr
    usage, _, rest = result.stdout.partition("\n\n")
    description = rest.split("\n\n")[0]
    assert usage.startswith(f"usage: webhooklab {' '.join(words)}") and len(description.split()) >= 8, result.stdout
    examples = result.stdout.split("examples:\n")[1]
    assert f"webhooklab {' '.join(words)}" in examples


def test_the_main_help_says_what_each_exit_status_means():
    result = webhooklab("--help")
    assert result.returncode == 0
    assert "exit status:" in result.stdout
    for line in ("0  done", "1  the work failed", "2  a usage error"):
        assert line in result.stdout


def test_a_bare_command_prints_its_usage_to_stderr_and_exits_2():
    result = webhooklab()
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("usage: webhooklab") and "say which command to run" in result.stderr


@pytest.mark.parametrize("arguments, said", [
    (["bogus"], "invalid choice: 'bogus'"),
    (["serve", "--port", "eighty"], "invalid int value: 'eighty'"),
    (["send", "stripe", "payment_intent.succeeded", "--nope"], "unrecognized arguments: --nope"),
    (["send"], "say who sends what"),
    (["send", "stripe", "payment_intent.succeeded", "--override", "amount"], "--override PATH=VALUE"),
    (["send", "stripe", "no.such.type", "--to", "http://127.0.0.1:9/"], "Stripe has no event type 'no.such.type'"),
    (["send", "stripe", "charge.succeeded", "--save", "../elsewhere"], "no dots, slashes or spaces"),
    (["serve", "--port", "0", "--secret", "no-equals-sign"], "--secret ENDPOINT=SECRET"),
    (["events", "--limit", "0"], "--limit is how many"),
])  # fmt: skip
def test_a_usage_error_exits_2_and_says_what_was_expected(arguments, said):
    result = webhooklab(*arguments)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert said in result.stderr and "Traceback" not in result.stderr


def test_messages_speak_in_flags_not_in_python_arguments(tmp_path):
    result = webhooklab("serve", "--port", "0", "--db", str(tmp_path / "missing" / "events.db"))
    assert result.returncode == 2
    assert f"--db '{tmp_path / 'missing' / 'events.db'}' is in a folder that does not exist" in result.stderr
    assert not any(word in result.stderr for word in ("db=", "Path(", "mkdir(parents"))
    result = webhooklab("send", "standard", "invoice.paid", "--secret", "whsec_x")
    assert result.returncode == 2 and "Leave --secret out to sign with a new one" in result.stderr


def test_launch_returns_the_childs_exit_status():
    assert launch([sys.executable, "-c", "import sys; sys.exit(3)"]) == 3
    assert launch([sys.executable, "-c", "pass"]) == 0


@pytest.mark.skipif(os.name != "posix", reason="signals to one process are a POSIX matter")
def test_launch_passes_an_interrupt_on_and_returns_what_the_child_made_of_it():
    """Ctrl-C sent to webhooklab reaches the stand-in JupyterLab, which shuts down its own way (status 7)."""
    child = "import signal, sys\nsignal.signal(signal.SIGINT, lambda *_: sys.exit(7))\nprint('ready', flush=True)\n" \
            "signal.pause() if hasattr(signal, 'pause') else input()"  # fmt: skip
    parent = textwrap.dedent(f"""
        import sys
        from webhooklab._cli.lab import launch
        sys.exit(launch([sys.executable, "-c", {child!r}]))
    """)
    process = subprocess.Popen([sys.executable, "-c", parent], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert process.stdout.readline().strip() == "ready"
        process.send_signal(signal.SIGINT)  # to webhooklab alone, as a process manager would
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 7, err
    assert "Traceback" not in err


@pytest.mark.skipif(os.name != "posix", reason="signals to one process are a POSIX matter")
def test_launch_passes_sigterm_on_so_jupyterlab_is_not_left_behind():
    child = "import signal, sys\nsignal.signal(signal.SIGTERM, lambda *_: sys.exit(5))\nprint('ready', flush=True)\n" \
            "signal.pause()"  # fmt: skip
    parent = f"import sys\nfrom webhooklab._cli.lab import launch\nsys.exit(launch([sys.executable, '-c', {child!r}]))"
    process = subprocess.Popen([sys.executable, "-c", parent], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               text=True)  # fmt: skip
    try:
        assert process.stdout.readline().strip() == "ready"
        process.terminate()
        process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 5


def test_verify_twilio_against_the_url_twilio_signed(tmp_path):
    """Through a tunnel Twilio signs the tunnel's URL: --signed-url checks against it; without it, the error says so."""
    token, signed_url = wl.Twilio.new_secret(), "https://abc.example.com/hooks/sms?from=tunnel"
    body, headers = wl.Twilio(token).sign(wl.Twilio(token).event("sms/incoming", body="hi"), url=signed_url)
    (tmp_path / "body.txt").write_bytes(body)
    header_args = [arg for name, value in headers.items() for arg in ("--header", f"{name}: {value}")]
    base = ["verify", "twilio", "--secret", token, "--file", str(tmp_path / "body.txt"), *header_args]
    good = webhooklab(*base, "--signed-url", signed_url)
    assert good.returncode == 0 and "Twilio signature: valid" in good.stdout, good.stdout + good.stderr
    wrong = webhooklab(*base, "--signed-url", "https://abc.example.com/hooks/sms")
    assert wrong.returncode == 1 and "Twilio signature: INVALID" in wrong.stdout
    missing = webhooklab(*base)
    assert missing.returncode == 2
    assert "pass --signed-url with the exact URL Twilio POSTed to" in missing.stderr


def test_verify_says_signed_url_is_for_schemes_that_sign_the_url(tmp_path):
    (tmp_path / "body.json").write_bytes(json.dumps({"a": 1}).encode())
    result = webhooklab("verify", "github", "--secret", "s", "--file", str(tmp_path / "body.json"),
                        "--signed-url", "https://example.com/hooks/gh")  # fmt: skip
    assert result.returncode == 2 and "--signed-url is for a scheme that signs the URL" in result.stderr
