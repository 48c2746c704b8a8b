import os
import signal

import pytest
import requests
from accessibility import axe_source  # noqa: F401  (a fixture for every test file)
from class_under_test import Classroom
from hypothesis import HealthCheck, settings
from lab_under_test import chromium
from receivers import Shared

os.environ.setdefault("MPLBACKEND", "Agg")  # plots render off screen
# The command-line tests stop a server with Ctrl-C (SIGINT). A shell starts a background job (`pytest &`, a CI
# step run with `&`) with SIGINT ignored, and every process started from it inherits that: its servers would never
# stop. The tests' own processes take the default back, so what they start does too.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

import webhooklab as wl

# One budget for every property test, in one place: examples per property (each fuzzed scheme is one property).
# No deadline: on a loaded machine a slow example is not a bug. Failing examples are kept in .hypothesis/ and tried
# first next time.
settings.register_profile(
    "webhooklab", max_examples=500, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)  # fmt: skip
settings.load_profile("webhooklab")


@pytest.fixture(scope="session")
def running_receiver():
    shared = Shared(wl.Receiver())
    yield shared
    shared.close()


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    """A class server with two learners on 127.0.0.2 (class_under_test.Classroom), one per test module."""
    running = Classroom(tmp_path_factory.mktemp("class") / "c")
    yield running
    running.server.close()


@pytest.fixture
def rx(running_receiver):
    """One real receiver for the whole run, put back as new for each test (see receivers.py)."""
    return running_receiver.reset()


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


@pytest.fixture
def store():
    event_store = wl.EventStore()
    yield event_store
    event_store.close()


@pytest.fixture
def client(store):
    """Flask's in-process client on a fresh app: no socket, no thread."""
    from webhooklab._receiving.app import create_app

    return create_app(store, max_body=1024).test_client()


@pytest.fixture
def browser():
    """A headless Chromium for one test (a file that needs another scope or flags defines its own from chromium())."""
    with chromium() as instance:
        yield instance
