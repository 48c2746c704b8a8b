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


@pytest.fixture(params=["in process", "over HTTP"])
def stripe(request, webhook, app):
    """Stripe posting to /webhooks/stripe: through Flask's WSGI interface, then to the app served on 127.0.0.1."""
    target = app if request.param == "in process" else webhook.serve(app)
    return webhook(target, "stripe", secret=SECRET, path="/webhooks/stripe")
