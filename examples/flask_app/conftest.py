"""The app under test, and Stripe sending to it: in process, then over a real socket."""

import pytest
from payments import Inbox, create_app

SECRET = "whsec_test_only_never_a_real_one"  # the app and the test share it; a real secret comes from the environment


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
def stripe_hooks(request, webhook, app):
    """Stripe posting to /webhooks/stripe: through Flask's WSGI interface, then to the app served on 127.0.0.1.

    Named stripe_hooks, not stripe: a fixture named stripe would hide the stripe library inside the tests.
    """
    target = app if request.param == "in process" else webhook.serve(app)
    return webhook(target, "stripe", secret=SECRET, path="/webhooks/stripe")
