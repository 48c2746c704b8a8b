"""The README's example runs as written."""

import re
from pathlib import Path

README = (Path(__file__).parent.parent / "README.md").read_text()


def test_readme_examples_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    first, second, third = blocks[:3]  # push against poll, later, takes 20 s: not run here
    providers = [block for block in blocks if any(name in block for name in ("wl.Slack", "wl.Twilio", "keypair()"))]
    exec(compile(first, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "order.paid" in printed and "500" in printed and "200" in printed
    assert "'id': 'ord_1'" in printed
    exec(compile(f"import webhooklab as wl\n{second}", "README.md", "exec"), {})
    assert "payment_intent.succeeded" in capsys.readouterr().out
    namespace = {}
    exec(compile(f"import webhooklab as wl\n{third}", "README.md", "exec"), namespace)
    assert "delivered (200)" in capsys.readouterr().out
    namespace["rx"].close()
    assert len(providers) == 3  # Slack, Twilio, key pairs: each runs on its own
    for example in providers:
        namespace = {}
        exec(compile(f"import webhooklab as wl\n{example}", "README.md", "exec"), namespace)
        if "rx" in namespace:
            namespace["rx"].close()


def test_readme_commands_match_ci():
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text()
    (test_command,) = [line for line in README.splitlines() if "pytest" in line and line.startswith("python")]
    assert test_command.split("&& ")[-2:] == ["pip install -e '.[test]' ", "python -m pytest"]
    assert "pip install -e '.[test]'" in ci and "python -m pytest" in ci


