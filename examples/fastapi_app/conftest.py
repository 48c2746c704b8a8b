"""The app under test, and a Standard Webhooks sender posting to it: in process, then over a real socket."""

import pytest
from orders import Inbox, create_app

# The app and the test share it; a real secret comes from the environment. Standard Webhooks' secrets are whsec_ and base64.
SECRET = "whsec_dGVzdCBvbmx5LCBuZXZlciBhIHJlYWwgb25lIQ=="


@pytest.fixture
def inbox():
    return Inbox()


@pytest.fixture
def app(inbox):
    return create_app(secret=SECRET, inbox=inbox)


@pytest.fixture
def work(inbox):
    """What the app has done so far, read before and after a request: how many events it queued."""
    return lambda: len(inbox.pending)


@pytest.fixture(params=["in process", "over HTTP"])
def sender(request, webhook, app):
    """Standard Webhooks posting to /webhooks/orders: through FastAPI's ASGI interface, then to uvicorn on 127.0.0.1."""
    target = app if request.param == "in process" else webhook.serve(app)
    return webhook(target, "standard", secret=SECRET, path="/webhooks/orders")
