"""webhooklab imports and receives where Unix's own modules do not exist (on Windows, say).

The check runs in a fresh interpreter in which the Unix-only modules cannot be imported and the
Unix-only functions of `os` are gone: every module of the package must import there, and a real
receiver must start, capture a request sent to it over 127.0.0.1, and give it back.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
UNIX_MODULES = ("resource", "fcntl", "termios", "pwd", "grp")
UNIX_FUNCTIONS = ("execv", "fork", "getuid", "geteuid")

WITHOUT_UNIX = f"""
import os, sys
for name in {UNIX_MODULES!r}:
    sys.modules[name] = None  # `import name` now raises ImportError, as it does on Windows
for name in {UNIX_FUNCTIONS!r}:
    if hasattr(os, name):
        delattr(os, name)
"""

IMPORT_EVERYTHING = """
import importlib, pkgutil
import webhooklab
failed = {}
for found in pkgutil.walk_packages(webhooklab.__path__, "webhooklab."):
    if found.name != "webhooklab.__main__":  # it runs the command line
        try:
            importlib.import_module(found.name)
        except Exception as error:
            failed[found.name] = repr(error)
assert not failed, failed
import webhooklab._classroom, webhooklab._cli, webhooklab.testing, webhooklab.widgets
print(len(sys.modules))
"""

RECEIVE = """
import requests
import webhooklab as wl
with wl.Receiver() as rx:
    answer = requests.post(rx.url("windows"), json={"hello": "windows"}, timeout=10)
    event = rx.wait_for(1, endpoint="windows", timeout=10)[-1]
    assert answer.status_code == 200 and event.json == {"hello": "windows"}, (answer.status_code, event)
    assert event.client.startswith("127.0.0.1:") and rx.base_url.startswith("http://127.0.0.1:")
    rx.close()
print("received", event.json)
"""


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", WITHOUT_UNIX + code], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)  # fmt: skip


def test_the_unix_modules_are_really_gone_in_the_check():
    result = run("import resource")
    assert result.returncode != 0 and "halted; None in sys.modules" in result.stderr
    result = run("import os; os.execv")
    assert result.returncode != 0 and "AttributeError" in result.stderr


def test_every_module_imports_without_the_unix_modules():
    result = run(IMPORT_EVERYTHING)
    assert result.returncode == 0, result.stderr


def test_a_receiver_starts_captures_and_reads_back_without_the_unix_modules():
    result = run(IMPORT_EVERYTHING + RECEIVE)
    assert result.returncode == 0, result.stderr
    assert "received {'hello': 'windows'}" in result.stdout


def test_the_connection_limit_falls_back_to_what_select_can_watch(monkeypatch):
    """Where `resource` is missing and there is no poll(), waitress watches sockets with select()."""
    import select

    from webhooklab._receiving import transport

    monkeypatch.setitem(sys.modules, "resource", None)
    assert transport.connection_limit_for_files() == (
        transport.CONNECTIONS if hasattr(select, "poll") else transport.SELECT_LIMIT - 32
    )
    monkeypatch.delattr(select, "poll", raising=False)
    assert transport.connection_limit_for_files() == transport.SELECT_LIMIT - 32


def test_webhooklab_lab_runs_jupyterlab_as_a_child_where_there_is_no_exec(tmp_path):
    """Without os.execv the command waits for JupyterLab instead of becoming it (--show-config makes it exit at once)."""
    folder = tmp_path / "workshop"
    code = f"from webhooklab._cli import main; sys.exit(main(['lab', '--dir', {str(folder)!r}, '--show-config']))"
    result = run(code)
    assert result.returncode == 0, result.stderr
    assert f".root_dir = {str(folder.resolve())!r}" in result.stdout
