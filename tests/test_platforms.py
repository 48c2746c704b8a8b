"""webhooklab imports and receives where Unix's own modules do not exist (on Windows, say), and under macOS's
default limit of 256 open files.

The check runs in a fresh interpreter in which the Unix-only modules cannot be imported and the
Unix-only functions of `os` are gone: every module of the package must import there, and a real
receiver must start, capture a request sent to it over 127.0.0.1, and give it back.
"""

import subprocess
import sys
from pathlib import Path

import pytest

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


def python(code: str, *args: str, without: str = WITHOUT_UNIX) -> subprocess.CompletedProcess:
    """`code` run in a fresh interpreter, after `without` has made some modules unimportable."""
    return subprocess.run([sys.executable, "-c", without + code, *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)  # fmt: skip


run = python


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
    """Without os.execv the command waits for JupyterLab instead of becoming it (--show-config exits at once)."""
    folder = tmp_path / "workshop"
    code = f"from webhooklab._cli import main; sys.exit(main(['lab', '--dir', {str(folder)!r}, '--show-config']))"
    result = run(code)
    assert result.returncode == 0, result.stderr
    assert f".root_dir = {str(folder.resolve())!r}" in result.stdout


LOW_LIMIT = """
import logging, resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE, ({soft}, {hard}))  # macOS's default soft limit is 256
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(levelname)s %(message)s")
import webhooklab as wl
stripe = wl.Stripe(secret="whsec_mac")
with wl.Receiver(secrets={{"pay": "whsec_mac"}}) as rx:
    print("files", resource.getrlimit(resource.RLIMIT_NOFILE))
    attempt = stripe.send(stripe.event("charge.succeeded"), to=rx.url("pay"))
    print("received", attempt.status, rx.wait_for(1, timeout=10)[-1].verified)
"""

CLASS_AT_256 = """
import resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
import requests
from webhooklab._classroom import ClassFolder, ClassServer, numbered
server = ClassServer(ClassFolder(sys.argv[1], numbered(40)), host="127.0.0.1").start()  # more bins than stores open
try:
    answers = [requests.post(f"{server.class_url}/b/{token}/hooks/orders", json={"n": n}, timeout=10).status_code
               for n, token in enumerate(server.bins)]
    print("answers", sorted(set(answers)), len(answers), "stores open at most", server.shelf.size)
    print("kept", sum(one.store.count() for one in server.bins.values()))
finally:
    server.close()
"""


def limited(code: str, *args: str) -> subprocess.CompletedProcess:
    pytest.importorskip("resource", reason="the open-file limit is Unix's (Windows has none on sockets)")
    result = python(code, *args, without="")
    assert result.returncode == 0, result.stderr
    return result


def test_a_receiver_fits_a_256_file_limit_it_may_not_raise():
    """`ulimit -n 256` sets the soft and the hard limit: the receiver keeps 128 files in reserve and serves."""
    printed = limited(LOW_LIMIT.format(soft=256, hard=256)).stdout
    assert "files (256, 256)" in printed and "received 200 True" in printed
    assert "up to 128 connections at once" in printed


def test_a_receiver_raises_a_low_soft_limit_toward_the_hard_one():
    """macOS starts a process at a soft limit of 256 under a far higher hard limit: the soft one is raised."""
    resource = pytest.importorskip("resource", reason="Unix's limits are what this test is about")
    if resource.getrlimit(resource.RLIMIT_NOFILE)[1] < 4096:
        pytest.skip("this process's hard limit on open files is under 4096, and only root may raise it")
    printed = limited(LOW_LIMIT.format(soft=256, hard=4096)).stdout
    assert "files (2128, 4096)" in printed and "received 200 True" in printed
    assert "up to 2000 connections at once" in printed


def test_a_class_server_of_40_learners_serves_every_bin_under_a_256_file_limit(tmp_path):
    printed = limited(CLASS_AT_256, str(tmp_path / "class")).stdout
    assert "answers [200] 40" in printed and "kept 40" in printed
    assert "stores open at most 32" in printed  # (256 - 64 in reserve) / 2 for stores / 3 files a store
