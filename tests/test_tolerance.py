"""A provider's declared window is how old a signature may be, unless a call says otherwise.

A provider class states `window`, the seconds its signed timestamp is good for; verify(),
explain(), a Receiver's check, the command line and wl.schemes() all take that number, so what
the table shows is what is enforced. Tock is made up: Stripe's scheme with a 15-minute window.
"""

import time

import pytest

import webhooklab as wl
from webhooklab import _cli as cli
from webhooklab._providers import register, unregister
from webhooklab._providers.base import DEFAULT_TOLERANCE

NOW = 1_700_000_000
EVENT = {"id": "evt_1", "object": "event", "type": "payment_intent.succeeded", "livemode": False}


class Tock(wl.Stripe):
    """Stripe's header and signed string, but a signature stays good for 900 seconds."""

    name, title = "tock", "Tock"
    window = 900.0


@pytest.fixture
def tock():
    """Tock, registered for one test only."""
    register(Tock)
    yield Tock("whsec_tock_secret")
    unregister("tock")


def signed(provider, age: float):
    return provider.sign(EVENT, timestamp=NOW - age)


def test_a_provider_declaring_900_s_accepts_a_600_s_old_signature_by_default(tock):
    body, headers = signed(tock, 600)
    assert tock.verify(body, headers, now=NOW)["id"] == "evt_1"
    assert "tolerance 900 s" in dict(tock.explain(body, headers, now=NOW).steps)["timestamp"]


def test_and_refuses_one_older_than_its_window_saying_which_window(tock):
    body, headers = signed(tock, 901)
    with pytest.raises(wl.SignatureError, match="made 901 s ago, more than the 900 s allowed") as caught:
        tock.verify(body, headers, now=NOW)
    assert caught.value.reason == "timestamp_too_old"


def test_an_explicit_tolerance_still_wins_and_none_still_skips_the_check(tock):
    body, headers = signed(tock, 600)
    assert tock.explain(body, headers, now=NOW, tolerance=300).reason == "timestamp_too_old"
    assert tock.explain(body, headers, now=NOW, tolerance=None).ok
    assert tock.explain(*signed(tock, 10**6), now=NOW, tolerance=None).ok


def test_the_schemes_table_shows_the_window_that_is_enforced(tock):
    assert wl.schemes().loc["Tock", "timestamp window"] == "15 min, too old only"
    body, headers = signed(tock, 15 * 60)
    assert tock.explain(body, headers, now=NOW).ok
    assert not tock.explain(*signed(tock, 15 * 60 + 1), now=NOW).ok


@pytest.mark.parametrize(("name", "window", "shown"), [
    ("Stripe", 300, "5 min, too old only"),
    ("StandardWebhooks", 300, "5 min, either way"),
    ("Slack", 300, "5 min, either way"),
])  # fmt: skip
def test_the_built_ins_keep_the_five_minutes_their_providers_document(name, window, shown):
    """providers.md: Stripe's libraries default to 300 s; Standard Webhooks and Slack allow 5 minutes."""
    cls = getattr(wl, name)
    provider = cls()
    assert cls.window == window == DEFAULT_TOLERANCE
    assert wl.schemes().loc[cls.title, "timestamp window"] == shown
    assert provider.explain(*provider.sign(EVENT, timestamp=NOW - 299), now=NOW).ok
    old = provider.explain(*provider.sign(EVENT, timestamp=NOW - 301), now=NOW)
    assert old.reason == "timestamp_too_old" and "more than the 300 s allowed" in old.message


def test_a_scheme_with_no_window_of_its_own_is_checked_with_five_minutes():
    class Untold(wl.Stripe):
        name, title = "untold", "Untold"
        window = None  # says nothing, though its scheme signs a timestamp

    provider = Untold("whsec_untold")
    assert provider.explain(*provider.sign(EVENT, timestamp=NOW - 299), now=NOW).ok
    assert provider.explain(*provider.sign(EVENT, timestamp=NOW - 301), now=NOW).reason == "timestamp_too_old"


def test_a_window_that_is_not_seconds_is_a_usage_error_naming_the_class():
    class Odd(wl.Stripe):
        name, title = "odd", "Odd"
        window = "15 min"

    provider = Odd("whsec_odd")
    with pytest.raises(wl.UsageTypeError, match="Odd.window must be a number of seconds"):
        provider.verify(*provider.sign(EVENT, timestamp=NOW), now=NOW)


def test_a_receiver_checks_a_registered_provider_with_its_window(tock, http):
    """The receiver's check takes the default too: a 600 s old Tock delivery verifies, a 1000 s old one does not."""
    checked = wl.Receiver(secrets={"tock": Tock("whsec_tock_secret")}).start()
    try:
        for age in (600, 1000):
            body, headers = tock.sign(EVENT, timestamp=int(time.time()) - age)
            http.post(checked.url("tock"), data=body, headers=headers, timeout=5)
        first, second = checked.wait_for(2, endpoint="tock")
        assert (first.verified, second.verified) == (True, False) and second.reason == "timestamp_too_old"
        assert "900 s allowed" in second.verification
    finally:
        checked.close()


def test_the_command_line_verifies_with_the_providers_window_unless_told(tock, tmp_path, capsys):
    body, headers = tock.sign(EVENT, timestamp=int(time.time()) - 600)
    (tmp_path / "body.json").write_bytes(body)
    arguments = ["verify", "tock", "--secret", "whsec_tock_secret", "--file", str(tmp_path / "body.json"),
                 *(part for name, value in headers.items() for part in ("--header", f"{name}: {value}"))]  # fmt: skip
    assert cli.main(arguments) == 0 and "tolerance 900 s" in capsys.readouterr().out
    assert cli.main([*arguments, "--tolerance", "300"]) == 1 and "300 s allowed" in capsys.readouterr().out


def test_the_stale_case_of_the_pytest_plugin_is_just_past_the_window(tock):
    from webhooklab.testing import Webhooks

    webhooks = Webhooks()
    try:
        checked = wl.Receiver(secrets={"tock": Tock("whsec_tock_secret")}).start()
        try:
            sender = webhooks(checked.base_url, "tock", secret="whsec_tock_secret", path="/hooks/tock")
            assert sender.stale(EVENT).case == "signed 960 s ago; the window is 900 s"
            assert checked.wait_for(1, endpoint="tock")[-1].reason == "timestamp_too_old"
        finally:
            checked.close()
    finally:
        webhooks.close()
