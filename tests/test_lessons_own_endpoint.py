"""Notebook 07 shows a developer testing their own endpoint: the pytest plugin on examples/, a failing signature
test and how it is reported, `webhooklab send --to` against a local app, and an exercise graded with the plugin."""

import json
import os
import re
from pathlib import Path

import pytest

import webhooklab as wl
from webhooklab.exercises import ch07

ROOT = Path(__file__).parent.parent
SOLUTION = ROOT / "notebooks" / "solutions" / "07.00-endpoint.py"


def section() -> list[tuple[str, str, list]]:
    (path,) = (ROOT / "notebooks").glob("07.00-*.ipynb")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    start = next(i for i, c in enumerate(cells) if "".join(c["source"]).startswith("## 7. Test your own endpoint"))
    end = next(i for i, c in enumerate(cells) if "".join(c["source"]).startswith("## Summary"))
    return [(c["cell_type"], "".join(c["source"]), c["metadata"].get("tags", [])) for c in cells[start:end]]


def solution():
    namespace = {}
    exec(compile(SOLUTION.read_text(), str(SOLUTION), "exec"), namespace)  # noqa: S102
    return namespace["handle"]


def test_07_runs_the_plugin_on_an_example_shows_a_failing_signature_test_and_the_cli():
    code = "\n".join(text for kind, text, _ in section() if kind == "code")
    assert '[sys.executable, "-m", "pytest", "-p", "webhooklab.testing"' in code and 'ch07.example("flask_app")' in code
    assert "json.dumps(request.get_json())" in code and '"-k", "signed_event or tampered"' in code
    assert '"webhooklab", "send", "stripe", "payment_intent.succeeded", "--to", endpoint' in code
    assert "ch07.serve(" in code and "ch07.check_endpoint(handle)" in code
    exercises = [text for kind, text, tags in section() if "exercise" in tags]
    assert exercises == ["# %load solutions/07.00-endpoint.py\n# your code here"] and SOLUTION.exists()
    prose = "\n".join(text for kind, text, _ in section() if kind == "markdown")
    assert "### Exercise 4" in prose and "<details><summary>Hint 1</summary>" in prose
    assert "`assert 400 == 200`" in prose and "%pip install pytest stripe" in prose


def test_the_solution_passes_the_plugins_tests(capsys):
    assert ch07.check_endpoint(solution()) is True
    assert "✓ the plugin's tests pass" in capsys.readouterr().out


def trusting(body, headers, secret, inbox):
    event = json.loads(body)
    inbox[event["id"]] = event
    return 200


def forgetful(body, headers, secret, inbox):  # verifies, but stores a duplicate twice under two keys
    status = solution()(body, headers, secret, {})
    if status == 200:
        inbox[f"{len(inbox)}"] = json.loads(body)
    return status


@pytest.mark.parametrize(("handle", "hint"), [
    (trusting, "stripe.tampered\\(...\\) answered 200: a body changed after signing must get 400"),
    (lambda body, headers, secret, inbox: 400, "stripe.send\\(...\\) answered 400: a correctly signed event"),
    (lambda body, headers, secret, inbox: "ok", "returned 'ok', not a status code"),
    (lambda body, headers, secret, inbox: 1 / 0, "ZeroDivisionError"),
    (forgetful, "store it as inbox\\[event\\['id'\\]\\] = event"),
])  # fmt: skip
def test_a_handler_that_fails_a_plugin_test_is_told_which_and_why(handle, hint, capsys):
    assert ch07.check_endpoint(handle) is False
    out = capsys.readouterr().out
    assert "✗ Not yet" in out
    assert re.search(hint, out), out


def test_the_examples_are_found_beside_the_notebooks_or_with_the_package(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert ch07.example("flask_app") == ROOT / "examples" / "flask_app"  # the checkout
    (tmp_path / "examples" / "flask_app").mkdir(parents=True)
    assert ch07.example("flask_app") == tmp_path / "examples" / "flask_app"  # the learner's copy comes first


def test_without_the_examples_it_says_what_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)

    def missing(name):
        raise FileNotFoundError(name)

    monkeypatch.setattr(ch07, "shipped", missing)
    assert ch07.example("flask_app") is None
    assert "Copy the examples/ folder" in capsys.readouterr().out


def test_the_cli_sends_to_the_served_handler_and_exits_1_on_a_refusal(capsys):
    from webhooklab._cli import main

    secret = wl.Stripe.new_secret()
    endpoint = ch07.serve(ch07.app_for(solution(), secret, {})) + "/webhooks/stripe"
    assert endpoint.startswith("http://127.0.0.1:")
    assert main(["send", "stripe", "payment_intent.succeeded", "--to", endpoint, "--secret", secret]) == 0
    assert main(["send", "stripe", "payment_intent.succeeded", "--to", endpoint, "--secret", wl.Stripe.new_secret()]) == 1
    assert "-> 200" in capsys.readouterr().out


def test_the_example_suite_runs_from_a_subprocess_as_the_notebook_runs_it():
    import subprocess
    import sys

    folder = ch07.example("flask_app")
    command = [sys.executable, "-m", "pytest", "-p", "webhooklab.testing", "-q", "--color=no", "-p", "no:cacheprovider",
               "-c", os.devnull, "--rootdir", "."]  # fmt: skip
    ran = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})  # fmt: skip
    assert ran.returncode == 0 and " passed" in ran.stdout, ran.stdout + ran.stderr
