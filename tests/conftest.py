import os

import pytest
import requests
from lab_under_test import chromium

os.environ.setdefault("MPLBACKEND", "Agg")  # plots render off screen

import webhooklab as wl


@pytest.fixture(scope="session")
def running_receiver():
    receiver = wl.Receiver().start()
    yield receiver
    receiver.close()


@pytest.fixture
def rx(running_receiver):
    """One real receiver for the whole run, emptied and reset to plain 200s for each test."""
    running_receiver.clear()
    running_receiver.responses.reset()
    return running_receiver


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
