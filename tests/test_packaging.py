"""What an install brings and what the wheel carries: the core alone receives, and the wheel is a well-formed package.

The core's check runs in a fresh interpreter in which the course's packages (the `lab` extra) and the ASGI
ones (the `asgi` extra) cannot be imported, as after a plain `pip install webhooklab`.
"""

import email
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from test_platforms import python

ROOT = Path(__file__).parent.parent
EXTRAS_ONLY = ("jupyterlab", "jupyter_server", "jupyter_server_proxy", "jupyter_core", "ipywidgets", "matplotlib",
               "IPython", "ipykernel", "uvicorn", "httpx")  # fmt: skip

WITHOUT_EXTRAS = f"""
import sys
for name in {EXTRAS_ONLY!r}:
    sys.modules[name] = None  # `import name` now raises ImportError, as where it is not installed
"""

RECEIVE_SIGNED = """
import importlib, pkgutil
import webhooklab as wl
import webhooklab.testing
skipped = ("webhooklab.__main__", "webhooklab.widgets", "webhooklab.demos")
for found in pkgutil.walk_packages(webhooklab.__path__, "webhooklab."):
    if not found.name.startswith(skipped):
        importlib.import_module(found.name)
stripe = wl.Stripe(secret="whsec_core")
with wl.Receiver(secrets={"pay": "whsec_core"}) as rx:
    attempt = stripe.send(stripe.event("payment_intent.succeeded"), to=rx.url("pay"))
    (event,) = rx.wait_for(1, endpoint="pay", timeout=10)
    print("received", attempt.status, event.event_type, event.verified, rx.base_url.startswith("http://127."))
print("course loaded:", sorted(name for name in {names!r} if sys.modules.get(name) is not None))
"""


def run(code: str) -> subprocess.CompletedProcess:
    return python(code, without=WITHOUT_EXTRAS)


def test_the_extras_packages_are_really_gone_in_the_check():
    result = run("import matplotlib")
    assert result.returncode != 0 and "halted; None in sys.modules" in result.stderr


def test_the_core_alone_imports_every_module_and_receives_a_signed_event_over_loopback():
    result = run(RECEIVE_SIGNED.replace("{names!r}", repr(EXTRAS_ONLY)))
    assert result.returncode == 0, result.stderr
    assert "received 200 payment_intent.succeeded True True" in result.stdout
    assert "course loaded: []" in result.stdout


@pytest.mark.parametrize("code, what", [
    ("import webhooklab as wl; wl.widgets", "the widgets"),
    ("import webhooklab.demos", "the demos"),
    ("from webhooklab.widgets import LiveTable", "the widgets"),
    ("import webhooklab as wl; wl.RetryPolicy().plot()", "plots"),
])  # fmt: skip
def test_the_course_without_its_packages_says_which_install_brings_them(code, what):
    result = run(code)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ModuleNotFoundError: ") and "pip install 'webhooklab[lab]'" in last, result.stderr
    assert f"{what} need the course's packages" in last


@pytest.mark.parametrize("code, expected", [
    ("from fastapi import FastAPI\nfrom webhooklab.testing import Webhooks\nWebhooks().serve(FastAPI())",
     "webhook.serve() runs an ASGI app (FastAPI, Starlette) on uvicorn, which this install does not have: "
     "pip install 'webhooklab[asgi]'"),
    ("import sys, tempfile\nfrom webhooklab._cli import main\nsys.exit(main(['lab', '--dir', tempfile.mkdtemp()]))",
     "webhooklab lab opens JupyterLab, which this install does not have: pip install 'webhooklab[lab]'"),
])  # fmt: skip
def test_the_plugin_and_the_command_line_say_which_extra_they_need(code, expected):
    result = run(code)
    assert result.returncode != 0 and expected in result.stderr, result.stderr


def test_a_course_package_that_is_there_but_broken_keeps_its_own_error():
    """matplotlib installed without numpy is not a missing extra: its error says what is missing."""
    code = "from webhooklab._exports import course; course('matplotlib.pyplot', 'plots')"
    result = python(code, without="import sys; sys.modules['numpy'] = None\n")
    assert result.returncode != 0 and "webhooklab[lab]" not in result.stderr and "numpy" in result.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(folder), str(ROOT)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    (built,) = folder.glob("webhooklab-*.whl")
    with zipfile.ZipFile(built) as opened:
        yield opened


def metadata(wheel: zipfile.ZipFile) -> email.message.Message:
    (name,) = [name for name in wheel.namelist() if name.endswith(".dist-info/METADATA")]
    return email.message_from_bytes(wheel.read(name))


def test_the_wheel_carries_py_typed_and_the_licence(wheel):
    names = wheel.namelist()
    assert "webhooklab/py.typed" in names
    (licence,) = [name for name in names if name.endswith(".dist-info/licenses/LICENSE")]
    assert wheel.read(licence) == (ROOT / "LICENSE").read_bytes()
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "Copyright (c) 2026 the webhooklab authors" in text
    meta = metadata(wheel)
    assert meta["License-Expression"] == "MIT" and meta.get_all("License-File") == ["LICENSE"]


def test_the_wheel_says_what_it_is_for_and_what_each_extra_brings(wheel):
    meta = metadata(wheel)
    classifiers = set(meta.get_all("Classifier"))
    assert {"Framework :: Jupyter", "Framework :: Pytest", "Topic :: Education", "Operating System :: OS Independent",
            "Programming Language :: Python :: 3.11", "Typing :: Typed"} <= classifiers  # fmt: skip
    assert set(meta.get_all("Provides-Extra")) == {"lab", "asgi", "test"}
    needs = meta.get_all("Requires-Dist")
    core = {re.split(r"[<>=; ]", need)[0].lower() for need in needs if "extra ==" not in need}
    assert core == {"cryptography", "flask", "pandas", "pytest", "requests", "segno", "waitress"}
    lab = {re.split(r"[<>=; ]", need)[0].lower() for need in needs if "extra == 'lab'" in need.replace('"', "'")}
    assert {"jupyterlab", "ipywidgets", "matplotlib", "jupyter-server-proxy", "voila"} <= lab


def test_the_changelog_names_the_version_being_made_and_keeps_an_unreleased_section():
    from webhooklab._version import __version__

    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$", changelog, re.M)
    assert headings[0] == ("Unreleased", "")
    version, date = headings[1]
    assert version == __version__ and date, "the newest release in CHANGELOG.md is not webhooklab/_version.py's"


def test_the_wheel_ships_the_demos_and_their_page_template_where_voila_looks(wheel):
    names = set(wheel.namelist())
    demos = {name.rsplit("/", 1)[-1] for name in names if name.startswith("webhooklab/notebooks/demos/")}
    assert {"index.ipynb", "signature.ipynb", "reaching-a-laptop.ipynb"} <= demos
    shared = [name for name in names if "/data/share/jupyter/voila/templates/webhooklab/" in name]
    assert {name.rsplit("/", 1)[-1] for name in shared} == {"index.html.j2", "conf.json"}
