"""The blueprint's production code needs only the provider's own SDK or the standard library, never webhooklab.

For each provider the blueprint writes a check for, the generated app runs in a fresh interpreter where
webhooklab cannot be imported, and answers real requests signed by our simulators: a genuine one is stored
once, a tampered one, one signed with another secret and an unsigned one get 400 and store nothing.
"""

import ast
import base64
import json
import subprocess
import sys

import pytest

import webhooklab as wl
from webhooklab._providers import PROVIDERS
from webhooklab.widgets import _blueprint
from webhooklab.widgets._production import CHECKS

URL = "http://localhost/hooks/{}"  # where Flask's test client says each request arrived (Twilio signs the URL)

# Runs in the fresh interpreter: webhooklab is refused at import, then the app answers each request sent on stdin.
RUNNER = """
import base64, importlib.abc, json, sys

class NoWebhooklab(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "webhooklab":
            raise ModuleNotFoundError("webhooklab is not installed where production code runs")

sys.meta_path.insert(0, NoWebhooklab())
namespace = {"__name__": "production"}
exec(compile(open(sys.argv[1]).read(), sys.argv[1], "exec"), namespace)
client = namespace["app"].test_client()
answers = []
for path, body, headers in json.load(sys.stdin):
    answers.append(client.post(path, data=base64.b64decode(body), headers=headers).status_code)
rows = namespace["db"].execute("SELECT provider, type, key FROM inbox").fetchall()
print(json.dumps({"answers": answers, "rows": rows, "webhooklab": "webhooklab" in sys.modules}))
"""


def trigger(provider: str) -> str:
    cls = PROVIDERS[provider]
    return cls.triggers[0] if cls.triggers else {"standard": _blueprint.STANDARD_EXAMPLE, "slack": "app_mention"}[provider]


def tampered(body: bytes) -> bytes:
    digit = next(i for i, byte in enumerate(body) if chr(byte).isdigit())
    return body[:digit] + (b"1" if body[digit:digit + 1] != b"1" else b"2") + body[digit + 1:]


@pytest.mark.parametrize("provider", sorted(CHECKS))
def test_the_generated_app_runs_without_webhooklab_and_verifies_real_signatures(provider, tmp_path):
    event_type = trigger(provider)
    code = _blueprint.blueprint([(provider, event_type)])
    imported = {alias.name.partition(".")[0] for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Import)
                for alias in node.names}  # fmt: skip
    imported |= {node.module.partition(".")[0] for node in ast.walk(ast.parse(code)) if isinstance(node, ast.ImportFrom)}
    assert "webhooklab" not in imported and imported - set(sys.stdlib_module_names) <= {"flask", "stripe", "slack_sdk",
                                                                                          "twilio", "standardwebhooks"}
    cls = PROVIDERS[provider]
    sender = cls().at(URL.format(provider)) if provider == "twilio" else cls()
    other = cls().at(URL.format(provider)) if provider == "twilio" else cls()
    event = sender.event(event_type)
    body, headers = sender.sign(event)
    signature = cls.signature_header.lower()
    requests_ = [
        (body, headers),  # genuine
        (tampered(body), headers),  # changed after signing
        (body, other.sign(event)[1]),  # signed with another secret
        (body, {k: v for k, v in headers.items() if k.lower() != signature}),  # unsigned
        (body, headers),  # the same delivery again: acknowledged, stored once
    ]
    script = tmp_path / "production.py"
    script.write_text(code)
    env = {"PATH": "", f"{provider.upper()}_WEBHOOK_SECRET": sender.secret}
    stdin = json.dumps([[f"/hooks/{provider}", base64.b64encode(b).decode(), dict(h)] for b, h in requests_])
    ran = subprocess.run([sys.executable, "-I", "-c", RUNNER, str(script)], input=stdin, capture_output=True,
                         text=True, cwd=tmp_path, env=env, timeout=60)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    result = json.loads(ran.stdout.splitlines()[-1])
    assert result["answers"] == [200, 400, 400, 400, 200], (provider, result)
    assert len(result["rows"]) == 1 and result["rows"][0][:2] == [provider, event_type]
    assert result["webhooklab"] is False


def test_a_provider_without_a_production_check_is_refused_with_what_to_do():
    class Acme(wl.StandardWebhooks):
        name, title = "acme", "Acme"

    PROVIDERS["acme"] = Acme
    try:
        with pytest.raises(wl.UsageError, match="no production check for 'acme'.*its own SDK"):
            _blueprint.blueprint([("acme", "thing.happened")])
    finally:
        del PROVIDERS["acme"]
